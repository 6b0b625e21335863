// Webhook deliveries through Cloudflare Queues: one message per (endpoint, event). The consumer posts
// a batch's deliveries concurrently, records their outcomes in one D1 batch, acks what is done, and
// hands a retry back to the Queue with the schedule's delay (a 429's or 503's Retry-After when longer).
// An in-order endpoint gets each subject's events one after another: one whose predecessor is still
// open waits (a short delay, no attempt counted).
import { objectEnv, type TenantEnv } from "../tenancy/tenant-env.ts";
import { AppError } from "../kernel/errors.ts";
import type { LogRow } from "../ucs/event-log.ts";
import { deliveriesWaiting, deliveryBatch, openBySubject, type EndpointRow } from "../ucs/webhooks.ts";
import { deliver, keysOf, recordPass, type Attempted, type Keys } from "./deliver.ts";

export const WEBHOOKS_QUEUE = "parley-webhooks";
/** How long an event of an in-order endpoint waits before it looks again at the one before it. */
const ORDER_WAIT_S = 1;

export interface WebhookJob {
  webhook: { tenant: string; endpoint: string; seq: number; origin: string };
}

export const isWebhookJob = (b: unknown): b is WebhookJob => {
  const w = (b as Partial<WebhookJob> | null)?.webhook;
  return !!w && typeof w.tenant === "string" && typeof w.endpoint === "string" && Number.isSafeInteger(w.seq) && typeof w.origin === "string";
};

/** Messages for these deliveries, 100 per send (the Queue's batch limit). */
export async function enqueueDeliveries(env: TenantEnv, tenant: string, endpointId: string, seqs: number[], origin: string): Promise<void> {
  for (let i = 0; i < seqs.length; i += 100)
    await env.WEBHOOKS.sendBatch(seqs.slice(i, i + 100).map((seq) => ({ body: { webhook: { tenant, endpoint: endpointId, seq, origin } } satisfies WebhookJob, contentType: "json" as const })));
}

async function inParallel<T>(items: T[], n: number, fn: (x: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (i < items.length) await fn(items[i++]!);
  }));
}

type Job = Message<WebhookJob>;

/** An endpoint's secrets, opened once per isolate for a few seconds (a rotation changes
 *  `previous_until`, hence the key, so a new secret is read at once). */
const KEYS_TTL_MS = 10_000;
const keyCache = new Map<string, { at: number; keys: Keys }>();
async function cachedKeys(env: TenantEnv, tenant: string, ep: EndpointRow): Promise<Keys> {
  const k = `${tenant}\n${ep.id}\n${ep.previous_until ?? ""}`;
  const hit = keyCache.get(k);
  if (hit && Date.now() - hit.at < KEYS_TTL_MS) return hit.keys;
  if (keyCache.size > 500) keyCache.clear();
  const keys = await keysOf(env, tenant, ep);
  keyCache.set(k, { at: Date.now(), keys });
  return keys;
}

export async function handleWebhookJobs(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const groups = new Map<string, Job[]>();
  for (const m of batch.messages) {
    if (!isWebhookJob(m.body)) {
      console.error("webhooks: dropping a malformed job", m.body);
      m.ack();
      continue;
    }
    const k = `${m.body.webhook.tenant}\n${m.body.webhook.endpoint}`;
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(m as Job);
  }
  await Promise.all(
    [...groups.values()].map((jobs) =>
      objectEnv(env, jobs[0]!.body.webhook.tenant).then((te) => deliverGroup(te, jobs)).catch((err: unknown) => {
        // A deleted tenant's deliveries are dropped; anything else (a move, an error) is retried.
        if (err instanceof AppError && err.status === 404) return jobs.forEach((j) => j.ack());
        console.error("webhooks: a batch failed; retried", err);
        for (const j of jobs) j.retry({ delaySeconds: 5 });
      }),
    ),
  );
}

/** One endpoint's messages of a batch. */
async function deliverGroup(env: TenantEnv, jobs: Job[]): Promise<void> {
  const { tenant, endpoint: epId, origin } = jobs[0]!.body.webhook;
  const now = Date.now();
  const { endpoint: ep, deliveries: rows, events } = await deliveryBatch(env.DB, tenant, epId, jobs.map((j) => j.body.webhook.seq), now);
  // A removed or disabled endpoint's messages are done; its deliveries stay pending for a re-enable.
  if (!ep || ep.state !== "enabled") return void jobs.forEach((j) => j.ack());
  // Only what this batch claimed is sent: a delivery done already, held by another batch or not due is
  // acked here (two messages for one delivery, a replay beside a retry or the sweep's resend, send it once).
  const claimed = new Map(rows.map((r) => [r.seq, r]));
  const bySeq = new Map<number, Job>();
  for (const j of jobs) {
    const seq = j.body.webhook.seq;
    if (!claimed.has(seq) || !events.has(seq) || bySeq.has(seq)) j.ack();
    else bySeq.set(seq, j);
  }
  if (!bySeq.size) return;
  const keys = await cachedKeys(env, tenant, ep);
  const outcomes = new Map<number, Attempted>();
  const attempt = async (seq: number) => outcomes.set(seq, await deliver(env, tenant, ep, keys, events.get(seq)!, claimed.get(seq)!.attempts, origin)).get(seq)!;
  /** Held back (in-order endpoints), with when the delivery ahead of it is next due. */
  const waiting = new Map<number, number | null>();
  if (ep.ordered) await ordered(env, tenant, ep, [...bySeq.keys()], events, attempt, waiting);
  else await inParallel([...bySeq.keys()], 100, attempt);
  const after = Date.now();
  // A waiter comes back when the one ahead of it is next due (a second when that is unknown or now).
  const waitS = (seq: number) => Math.min(43_200, Math.max(ORDER_WAIT_S, Math.ceil(((waiting.get(seq) ?? after) - after) / 1000)));
  // Everything claimed and not sent (waiters, and any past its subject's list) is released for its next message.
  const unsent = [...bySeq.keys()].filter((seq) => !outcomes.has(seq));
  await recordPass(env, tenant, ep, [...outcomes.values()], null, unsent.length ? [deliveriesWaiting(env.DB, tenant, ep.id, unsent, after, after)] : []);
  for (const [seq, j] of bySeq) {
    const o = outcomes.get(seq);
    if (!o) j.retry({ delaySeconds: waitS(seq) });
    else if (o.result.state === "retrying" && o.result.nextAt !== null) j.retry({ delaySeconds: Math.min(43_200, Math.max(1, Math.ceil((o.result.nextAt - after) / 1000))) });
    else j.ack();
  }
}

/** In order per subject: each subject's open deliveries are walked oldest first; one in this batch is
 *  sent once every one before it is done, and a failure (or one not in this batch) stops the walk:
 *  what follows waits until the one ahead is next due. */
async function ordered(env: TenantEnv, tenant: string, ep: EndpointRow, seqs: number[], events: Map<number, LogRow>, attempt: (seq: number) => Promise<Attempted>, waiting: Map<number, number | null>): Promise<void> {
  const mine = new Set(seqs);
  const free = seqs.filter((s) => !events.get(s)!.subject);
  const subjects = [...new Set(seqs.map((s) => events.get(s)!.subject).filter((x): x is string => !!x))];
  const open = await openBySubject(env.DB, tenant, ep.id, subjects);
  const chains = subjects.map((subject) => open.get(subject) ?? []);
  await Promise.all([
    inParallel(free, 100, attempt),
    inParallel(chains, 100, async (chain) => {
      let blockedUntil: number | null | undefined;
      for (const d of chain) {
        if (blockedUntil !== undefined) {
          if (mine.has(d.seq)) waiting.set(d.seq, blockedUntil);
          continue;
        }
        if (!mine.has(d.seq)) {
          blockedUntil = d.next_at;
          continue;
        }
        const o = await attempt(d.seq);
        if (!o.ok) blockedUntil = o.result.nextAt;
      }
    }),
  ]);
}
