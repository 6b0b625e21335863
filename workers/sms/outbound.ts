// Outbound SMS: an agent's reply to an SMS interaction, or a new message to a number (paging
// outbound). Stored first (sms_messages, status 'sending'), then carried by the SENDS Queue, whose
// consumer hands it to the number's provider; retries and the dead-letter queue as for mail. The
// provider's status callbacks move it on (sent, delivered, undelivered, failed).
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import { numberSecret } from "./secret.ts";
import type { CompiledConfig } from "../config/compiled.ts";
import { AppError, badRequest, conflict } from "../kernel/errors.ts";
import { newId } from "../kernel/ids.ts";
import { normalizePhone } from "../ucs/identifiers.ts";
import { PermanentFailure } from "../outbound/deliver-errors.ts";
import type { CenterNumber } from "./inbound.ts";
import { segmentInfo } from "./segments.ts";
import { AS_IS, eventStatements } from "../ucs/events.ts";
import { isOptedOut, moveSms, outboundInsert, smsAttemptError, smsById, smsFailedStatement, smsHandedOver } from "../ucs/sms.ts";

/** A message of up to 10 parts: longer texts are refused rather than sent as a flood. */
export const MAX_SMS_CHARS = 1600;

export interface SmsJob {
  tenant: string;
  smsId: string;
}

export { isOptedOut } from "../ucs/sms.ts";

/** Stores an outbound SMS and queues it; refuses an opted-out number with 409. */
export async function queueSms(
  env: TenantEnv,
  cfg: CompiledConfig,
  m: { interactionId: string; center: CenterNumber; to: string; body: string; author: string; /** A fixed id makes a repeat a no-op (a workflow step run again). */ smsId?: string },
): Promise<{ smsId: string; segments: number; encoding: string }> {
  const tenant = cfg.raw.tenant.id;
  const to = normalizePhone(m.to);
  const body = m.body.trim();
  if (!body) throw badRequest("empty_message", "text: say something");
  if (body.length > MAX_SMS_CHARS) throw badRequest("message_too_long", `text: at most ${MAX_SMS_CHARS} characters`);
  if (await isOptedOut(env.DB, tenant, m.center.number, to)) throw conflict("opted_out", `${to} replied STOP to ${m.center.number}: no messages until they reply START`);
  const seg = segmentInfo(body);
  const smsId = m.smsId ?? newId("s");
  const now = Date.now();
  const res = await env.DB.batch([
    outboundInsert(env.DB, { tenant, id: smsId, provider: m.center.provider, interactionId: m.interactionId, center: m.center.number, customer: to, body, encoding: seg.encoding, segments: seg.segments, at: now }),
    ...eventStatements(
      env.DB,
      [{ tenant, interaction: m.interactionId, at: now, actor: m.author, action: "sms_queued", from: AS_IS, to: AS_IS, queue: AS_IS, agent: AS_IS, reason: { smsId, to, segments: seg.segments, encoding: seg.encoding } }],
      { sql: "changes() = 1", params: [] },
    ),
  ]);
  if ((res[0]?.meta.changes ?? 0) === 0) return { smsId, segments: seg.segments, encoding: seg.encoding };
  try {
    await env.SENDS.send({ tenant, smsId } satisfies SmsJob, { contentType: "json" });
  } catch (err) {
    console.error(`could not queue SMS ${smsId}; the sweep will`, err);
  }
  return { smsId, segments: seg.segments, encoding: seg.encoding };
}

/** The Queue consumer's part for SMS: hand the message to Twilio's Messages API, once. */
export async function deliverSms(env: TenantEnv, cfg: CompiledConfig, job: SmsJob): Promise<void> {
  const row = await smsById(env.DB, job.tenant, job.smsId);
  if (!row || row.status !== "sending") return;
  const center = cfg.raw.numbers.find((n) => n.number === row.center);
  if (!center) throw new PermanentFailure(`the number ${row.center} is no longer configured`);
  // Opted out after the agent sent it: it does not go.
  if (await isOptedOut(env.DB, job.tenant, row.center, row.customer)) throw new PermanentFailure(`${row.customer} opted out`);
  const token = await numberSecret(env, cfg, center);
  if (!center.accountSid || !token) throw new PermanentFailure(`number ${center.number} has no accountSid, or its tenant no secret '${center.secret}', to send with`);
  // Claimed before the call, so two deliveries of one job (the Queue is at-least-once) ask Twilio once.
  if (!(await moveSms(env.DB, job.tenant, row.id, "sending", "handing", Date.now()))) return;
  const form = new URLSearchParams({ To: row.customer, From: row.center, Body: row.body, StatusCallback: `${new URL(env.PUBLIC_URL).origin}/api/v1/sms/twilio/status` });
  // Given back for the retry (or for smsFailed, which fails only what is not yet handed over).
  const giveBack = () => moveSms(env.DB, job.tenant, row.id, "handing", "sending", Date.now());
  let res: Response;
  let text: string;
  try {
    res = await fetch(`https://api.twilio.com/2010-04-01/Accounts/${encodeURIComponent(center.accountSid)}/Messages.json`, {
      method: "POST",
      headers: { Authorization: `Basic ${btoa(`${center.accountSid}:${token}`)}`, "Content-Type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
    text = await res.text();
  } catch (err) {
    await giveBack();
    throw err;
  }
  if (!res.ok) {
    const why = `Twilio answered ${res.status}: ${text.slice(0, 300)}`;
    await giveBack();
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new PermanentFailure(why);
    throw new AppError(502, "provider_error", why);
  }
  let sid: string | null = null;
  let status = "sent";
  try {
    const j = JSON.parse(text) as { sid?: unknown; status?: unknown };
    if (typeof j.sid === "string") sid = j.sid;
    if (typeof j.status === "string") status = j.status;
  } catch {
    // a 2xx without JSON: sent, without the provider's id
  }
  const now = Date.now();
  await env.DB.batch([
    smsHandedOver(env.DB, job.tenant, row.id, status, sid, now),
    ...eventStatements(env.DB, [{ tenant: job.tenant, interaction: row.interaction_id, at: now, actor: "delivery", action: "sms_sent", from: AS_IS, to: AS_IS, queue: AS_IS, agent: AS_IS, reason: { smsId: row.id, providerId: sid, status } }]),
  ]);
}

export async function smsFailed(env: TenantEnv, job: SmsJob, why: string): Promise<void> {
  await smsFailedStatement(env.DB, job.tenant, job.smsId, why, Date.now()).run();
}

export async function smsAttemptFailed(env: TenantEnv, job: SmsJob, why: string): Promise<void> {
  await smsAttemptError(env.DB, job.tenant, job.smsId, why, Date.now()).run();
}

export const isSmsJob = (b: unknown): b is SmsJob => typeof b === "object" && b !== null && typeof (b as SmsJob).tenant === "string" && typeof (b as SmsJob).smsId === "string";
