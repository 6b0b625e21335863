// Outbound delivery: the SENDS Queue's consumer. Each job names a stored message (its MIME is in
// R2, built when it was sent or approved); the tenant's transport takes it. A failure is recorded on
// the message and retried with backoff; after the Queue's max_retries the job lands in the
// dead-letter queue, whose consumer marks the message (and a reply's interaction) failed.
import { AppError } from "../kernel/errors.ts";
import { objectEnv, publicEnv, type TenantEnv } from "../tenancy/tenant-env.ts";
import { EmailMessage } from "cloudflare:email";
import { getConfig } from "../config/store.ts";
import type { Transport } from "../config/schema.ts";
import { transitionBatch } from "../ucs/interactions.ts";
import { newId } from "../kernel/ids.ts";
import type { DeliveryJob } from "./message.ts";
import { PermanentFailure } from "./deliver-errors.ts";
import { deliverSms, isSmsJob, smsAttemptFailed, smsFailed } from "../sms/outbound.ts";
import { tenantSecret } from "../secrets/store.ts";
import { deliverSocial, isSocialJob, socialAttemptFailed, socialFailed, type SocialJob } from "../social/outbound.ts";
import { isSocialMediaJob, retryMedia } from "../social/media.ts";
import { outboundUrlProblem } from "./url-policy.ts";
import { AS_IS, eventStatements } from "../ucs/events.ts";
import { deliveredTo, deliveryAttemptFailed, deliveryGaveUp, deliveryRow, deliverySucceeded, type DeliveryRow } from "../ucs/mail/deliveries.ts";
import { outboxInsert } from "../ucs/mail/outbox.ts";

/** The send jobs that gave up: its consumer marks their messages failed. */
export const SENDS_DLQ = "parley-sends-dlq";

type Row = DeliveryRow;

export { PermanentFailure };

const recipients = (r: Row) => [...new Set([r.to_addrs, r.cc_addrs, r.bcc_addrs].flatMap((j) => (JSON.parse(j) as { addr: string }[]).map((a) => a.addr)))];

/** Backoff for the nth failed attempt: 10 s, 30 s, 90 s, ... capped at 15 minutes. */
export const backoffSeconds = (attempts: number) => Math.min(900, 10 * 3 ** Math.max(0, attempts - 1));

const load = (db: D1Database, job: DeliveryJob): Promise<Row | null> => deliveryRow(db, job.tenant, job.emailId);

async function send(env: TenantEnv, transport: Transport, job: DeliveryJob, row: Row, raw: Uint8Array): Promise<string> {
  const from = row.from_addr ?? "";
  const rcpt = recipients(row);
  if (rcpt.length === 0) throw new PermanentFailure("no recipients");
  switch (transport.kind) {
    case "outbox": {
      // Local use: kept where GET /api/v1/outbox shows it; never leaves the machine.
      await outboxInsert(env.DB, { tenant: job.tenant, id: newId("o"), emailId: row.id, interactionId: row.interaction_id, from, rcpt, subject: row.subject, rawKey: row.raw_key, size: raw.byteLength, auto: row.auto, at: Date.now() }).run();
      return "outbox";
    }
    case "send_email": {
      const text = new TextDecoder().decode(raw);
      // One envelope per recipient: Bcc recipients get the same bytes, and are in no header. Each
      // one reached is recorded at once, so a retry after a partial failure skips them.
      const done = new Set(JSON.parse(row.delivered_to) as string[]);
      for (const to of rcpt) {
        if (done.has(to)) continue;
        await env.SEND_EMAIL.send(new EmailMessage(from, to, text));
        done.add(to);
        await deliveredTo(env.DB, job.tenant, row.id, [...done]).run();
      }
      return "sent";
    }
    case "http": {
      // Checked again here, not only on save: a config stored before the rule, or written around
      // the API, must not carry the tenant's token to loopback or an internal host.
      const problem = outboundUrlProblem(transport.url, { devHost: env.DEV_OUTBOUND_HOST });
      if (problem) throw new PermanentFailure(`email.transport.url is refused, nothing was sent: ${problem}`);
      // The tenant's own secret, by the name its config gives; never a platform-wide one.
      const token = transport.secret ? await tenantSecret(env, job.tenant, transport.secret) : undefined;
      if (!token) throw new PermanentFailure(transport.secret ? `email.transport.secret: this tenant has no secret '${transport.secret}' (PUT /api/v1/admin/secrets/${transport.secret})` : "email.transport.secret: the http transport names no secret");
      let bin = "";
      for (let i = 0; i < raw.length; i += 0x8000) bin += String.fromCharCode(...raw.subarray(i, i + 0x8000));
      const res = await fetch(transport.url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
        body: JSON.stringify({ from, to: rcpt, raw: btoa(bin) }),
        // A redirect would take the token to a URL nobody checked.
        redirect: "manual",
      });
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel();
        throw new PermanentFailure(`the provider answered ${res.status}, a redirect (to ${(res.headers.get("Location") ?? "nowhere").slice(0, 200)}): not followed; configure the final URL`);
      }
      if (!res.ok) {
        const body = (await res.text()).slice(0, 300);
        // 4xx other than 408/429 is the provider refusing this message; anything else may pass later.
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new PermanentFailure(`provider refused: ${res.status} ${body}`);
        throw new Error(`provider answered ${res.status} ${body}`);
      }
      return "sent";
    }
  }
}

/** Marks the message delivered (or kept in the outbox) and a reply's interaction done. */
async function delivered(env: TenantEnv, job: DeliveryJob, row: Row, status: string, transport: string): Promise<void> {
  const now = Date.now();
  const st = [deliverySucceeded(env.DB, job.tenant, row.id, status, transport, now)];
  const reason = { emailId: row.id, transport, delivered: status === "sent" };
  if (row.i_direction === "outbound" && row.i_state === "sending") st.push(...transitionBatch(env.DB, [{ tenant: job.tenant, id: row.interaction_id, at: now, actor: "delivery", action: status === "sent" ? "delivered" : "kept_in_outbox", from: "sending", to: "done", reason }]));
  else st.push(event(env, job.tenant, row.interaction_id, now, row.auto ? "auto_reply_sent" : "email_sent", reason));
  await env.DB.batch(st);
}

/** An event that records something about the interaction without moving its state. */
function event(env: TenantEnv, tenant: string, id: string, at: number, action: string, reason: unknown): D1PreparedStatement {
  return eventStatements(env.DB, [{ tenant, interaction: id, at, actor: "delivery", action, from: AS_IS, to: AS_IS, queue: AS_IS, agent: AS_IS, reason }])[0]!;
}

export async function deliverOne(env: TenantEnv, job: DeliveryJob): Promise<void> {
  const row = await load(env.DB, job);
  // Gone, or already handled by an earlier delivery of this job: at-least-once becomes once.
  if (!row || row.status !== "sending") return;
  const obj = row.raw_key ? await env.BLOBS.get(row.raw_key) : null;
  if (!obj) throw new PermanentFailure("the message's MIME is not stored");
  const raw = new Uint8Array(await obj.arrayBuffer());
  const cfg = await getConfig(env.DB, job.tenant);
  const transport = cfg.raw.email.transport;
  const status = await send(env, transport, job, row, raw);
  await delivered(env, job, row, status, transport.kind);
}

async function recordFailure(env: TenantEnv, job: DeliveryJob, err: unknown, attempt: number, willRetry: boolean): Promise<void> {
  const msg = String(err instanceof Error ? err.message : err).slice(0, 500);
  const row = await load(env.DB, job);
  if (!row) return;
  const now = Date.now();
  await env.DB.batch([
    deliveryAttemptFailed(env.DB, job.tenant, row.id, msg, now),
    event(env, job.tenant, row.interaction_id, now, "delivery_attempt_failed", { emailId: row.id, attempt, error: msg, willRetry }),
  ]);
}

export async function markFailed(env: TenantEnv, job: DeliveryJob, why: string): Promise<void> {
  const row = await load(env.DB, job);
  if (!row || row.status !== "sending") return;
  const now = Date.now();
  const st = [deliveryGaveUp(env.DB, job.tenant, row.id, why, now)];
  const reason = { emailId: row.id, why, lastError: why };
  if (row.i_direction === "outbound" && row.i_state === "sending") st.push(...transitionBatch(env.DB, [{ tenant: job.tenant, id: row.interaction_id, at: now, actor: "delivery", action: "delivery_failed", from: "sending", to: "failed", reason }]));
  else st.push(event(env, job.tenant, row.interaction_id, now, "delivery_failed", reason));
  await env.DB.batch(st);
}

const isJob = (b: unknown): b is DeliveryJob => typeof b === "object" && b !== null && typeof (b as DeliveryJob).tenant === "string" && typeof (b as DeliveryJob).emailId === "string";

export async function handleSendJobs(batch: MessageBatch<unknown>, platform: Env): Promise<void> {
  const dead = batch.queue === SENDS_DLQ;
  for (const msg of batch.messages) {
    const env = await jobEnv(platform, msg);
    if (!env) continue;
    if (isSmsJob(msg.body)) {
      await handleSend(env, SMS, msg as Message<unknown> & { body: { tenant: string; smsId: string } }, dead);
      continue;
    }
    if (isSocialJob(msg.body)) {
      await handleSend(env, SOCIAL, msg as Message<unknown> & { body: SocialJob }, dead);
      continue;
    }
    if (isSocialMediaJob(msg.body)) {
      // Each attempt queues the next itself (until the link expires), so this job is acked either way;
      // an attempt that threw is retried by the Queue, and the sweep finds one whose message was lost.
      if (dead) msg.ack();
      else
        await retryMedia(env, msg.body).then(
          () => msg.ack(),
          (err: unknown) => (console.error("social media retry", err), msg.retry({ delaySeconds: backoffSeconds(msg.attempts) })),
        );
      continue;
    }
    if (!isJob(msg.body)) {
      console.error("outbound: dropping a malformed job", msg.body);
      msg.ack();
      continue;
    }
    const job = msg.body;
    if (dead) {
      await markFailed(env, job, `gave up after ${msg.attempts} attempt(s) as a send job`);
      msg.ack();
      continue;
    }
    try {
      await deliverOne(env, job);
      msg.ack();
    } catch (err) {
      const permanent = err instanceof PermanentFailure;
      await recordFailure(env, job, err, msg.attempts, !permanent).catch((e: unknown) => console.error("recordFailure", e));
      if (permanent) {
        await markFailed(env, job, String((err as Error).message));
        msg.ack();
      } else msg.retry({ delaySeconds: backoffSeconds(msg.attempts) });
    }
  }
}

/** The env of a job's tenant. A deleted tenant's job is dropped; while its tenant moves between
 *  shards (or the directory can't be read) it is retried later. */
async function jobEnv(env: Env, msg: Message<unknown>): Promise<TenantEnv | null> {
  const tenant = (msg.body as { tenant?: unknown } | null)?.tenant;
  if (typeof tenant !== "string") return publicEnv(env);
  try {
    return await objectEnv(env, tenant);
  } catch (err) {
    if (err instanceof AppError && err.status === 404) {
      console.warn(`outbound: dropping a job of tenant '${tenant}', which no longer exists`);
      msg.ack();
    } else msg.retry({ delaySeconds: backoffSeconds(msg.attempts) });
    return null;
  }
}

/** How a kind of send job (SMS, social) is delivered and how its failures are recorded. */
interface SendKind<J extends { tenant: string }> {
  deliver: (env: TenantEnv, cfg: Awaited<ReturnType<typeof getConfig>>, job: J) => Promise<void>;
  failed: (env: TenantEnv, job: J, why: string) => Promise<void>;
  attemptFailed: (env: TenantEnv, job: J, why: string) => Promise<void>;
}

const SMS: SendKind<{ tenant: string; smsId: string }> = { deliver: deliverSms, failed: smsFailed, attemptFailed: smsAttemptFailed };
const SOCIAL: SendKind<SocialJob> = { deliver: deliverSocial, failed: socialFailed, attemptFailed: socialAttemptFailed };

/** An SMS or social send job: the same retries, backoff and dead-letter handling as mail. */
async function handleSend<J extends { tenant: string }>(env: TenantEnv, kind: SendKind<J>, msg: Message<unknown> & { body: J }, dead: boolean): Promise<void> {
  const job = msg.body;
  if (dead) {
    await kind.failed(env, job, `gave up after ${msg.attempts} attempt(s) as a send job`);
    return msg.ack();
  }
  try {
    await kind.deliver(env, await getConfig(env.DB, job.tenant), job);
    msg.ack();
  } catch (err) {
    const why = String(err instanceof Error ? err.message : err);
    if (err instanceof PermanentFailure) {
      await kind.failed(env, job, why);
      msg.ack();
    } else {
      await kind.attemptFailed(env, job, why).catch((e: unknown) => console.error("send attempt failed", e));
      msg.retry({ delaySeconds: backoffSeconds(msg.attempts) });
    }
  }
}
