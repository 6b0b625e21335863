// Outbound on a social channel: an agent's words, a file, a template or an automatic message. Stored
// first (social_messages, 'sending'), then carried by the SENDS Queue, whose consumer hands it to the
// provider once (claimed 'handing' before the call); retries and the dead-letter queue as for mail.
// The provider's statuses move it on (sent, delivered, read, failed) and the agent's view with it.
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import type { CompiledConfig } from "../config/compiled.ts";
import { AppError } from "../kernel/errors.ts";
import { newId } from "../kernel/ids.ts";
import { tenantSecret } from "../secrets/store.ts";
import { outboundUrlProblem } from "../outbound/url-policy.ts";
import { PermanentFailure } from "../outbound/deliver-errors.ts";
import { AS_IS, eventStatements } from "../ucs/events.ts";
import { chatStub } from "../../durable-objects/names.ts";
import { accountFor, apiBase, type AccountConfig } from "./accounts.ts";
import { metaSend } from "./meta.ts";
import { telegramSend } from "./telegram.ts";
import { whatsappSend } from "./whatsapp.ts";
import type { Channel, Delivery, Outbound } from "./types.ts";
import { messageById, moveOutbound, outboundAttemptFailed, outboundFailed, outboundInsert, outboundSent } from "../ucs/social.ts";

export interface SocialJob {
  tenant: string;
  socialId: string;
}
export const isSocialJob = (b: unknown): b is SocialJob => typeof b === "object" && b !== null && typeof (b as SocialJob).tenant === "string" && typeof (b as SocialJob).socialId === "string";

export interface SocialTarget {
  tenant: string;
  interactionId: string;
  channel: Channel;
  account: string;
  user: string;
}

/** Stores an outbound message and queues it; answers its id. `clientId` is the chat message it shows as. */
export async function queueSocial(env: TenantEnv, t: SocialTarget, m: { clientId: string | null; author: string; body: string; outbound: Outbound; id?: string }): Promise<string> {
  const id = m.id ?? newId("so");
  const now = Date.now();
  const res = await env.DB.batch([
    outboundInsert(env.DB, { tenant: t.tenant, id, channel: t.channel, account: t.account, user: t.user, interactionId: t.interactionId, clientId: m.clientId, kind: m.outbound.kind, body: m.body.slice(0, 10_000), payload: JSON.stringify(m.outbound), state: "sending", at: now }),
    ...eventStatements(
      env.DB,
      [{ tenant: t.tenant, interaction: t.interactionId, at: now, actor: m.author, action: "social_queued", from: AS_IS, to: AS_IS, queue: AS_IS, agent: AS_IS, reason: { socialId: id, channel: t.channel, kind: m.outbound.kind, ...(m.outbound.kind === "template" ? { template: m.outbound.name } : {}) } }],
      { sql: "changes() = 1", params: [] },
    ),
  ]);
  if ((res[0]?.meta.changes ?? 0) === 0) return id;
  try {
    await env.SENDS.send({ tenant: t.tenant, socialId: id } satisfies SocialJob, { contentType: "json" });
  } catch (err) {
    console.error(`could not queue social message ${id}; the sweep will`, err);
  }
  return id;
}

/** An automatic message that was not sent (outside the window, no fallback): recorded with why. */
export async function recordSkipped(env: TenantEnv, t: SocialTarget, body: string, why: string, actor: string): Promise<void> {
  const id = newId("so");
  const now = Date.now();
  await env.DB.batch([
    outboundInsert(env.DB, { tenant: t.tenant, id, channel: t.channel, account: t.account, user: t.user, interactionId: t.interactionId, clientId: null, kind: "text", body, payload: "{}", state: "skipped", error: why, at: now }),
    ...eventStatements(env.DB, [{ tenant: t.tenant, interaction: t.interactionId, at: now, actor, action: "social_skipped", from: AS_IS, to: AS_IS, queue: AS_IS, agent: AS_IS, reason: { socialId: id, why } }]),
  ]);
}

interface Call {
  url: string;
  headers: Record<string, string>;
  body: string;
}

function callFor(a: AccountConfig, token: string, user: string, o: Outbound, ref: string): Call {
  const json = { "Content-Type": "application/json" };
  switch (a.channel) {
    case "whatsapp":
      return { url: `${apiBase(a)}/${a.id}/messages`, headers: { ...json, Authorization: `Bearer ${token}` }, body: JSON.stringify(whatsappSend(user, o)) };
    case "messenger":
    case "instagram":
      return { url: `${apiBase(a)}/me/messages`, headers: { ...json, Authorization: `Bearer ${token}` }, body: JSON.stringify(metaSend(user, o, ref)) };
    case "telegram": {
      const t = telegramSend(user, o);
      return { url: `${apiBase(a)}/bot${token}/${t.method}`, headers: json, body: JSON.stringify(t.body) };
    }
  }
}

/** The provider's id for what it took: WhatsApp messages[0].id, Meta message_id, Telegram result.message_id. */
function providerIdOf(channel: Channel, account: string, text: string): string | null {
  try {
    const j = JSON.parse(text) as { messages?: { id?: unknown }[]; message_id?: unknown; result?: { message_id?: unknown } };
    if (channel === "whatsapp") return typeof j.messages?.[0]?.id === "string" ? j.messages[0].id : null;
    if (channel === "telegram") return typeof j.result?.message_id === "number" ? `${account}:msg:${j.result.message_id}` : null;
    return typeof j.message_id === "string" ? j.message_id : null;
  } catch {
    return null;
  }
}

/** Tells the chat how its message fared (a chat that ended meanwhile keeps its transcript as it was). */
export async function showDelivery(env: TenantEnv, tenant: string, interactionId: string | null, clientId: string | null, delivery: Delivery, error?: string): Promise<void> {
  if (!interactionId || !clientId) return;
  const r = await chatStub(env, tenant, interactionId).socialPatch(clientId, { delivery, ...(error ? { error } : {}) });
  if (!r.ok && r.error.code !== "no_chat") console.warn(`social ${clientId}: status not shown: ${r.error.message}`);
}

/** The Queue consumer's part: hand the message to the provider, once. */
export async function deliverSocial(env: TenantEnv, cfg: CompiledConfig, job: SocialJob): Promise<void> {
  const row = await messageById(env.DB, job.tenant, job.socialId);
  if (!row || row.direction !== "out" || row.state !== "sending") return;
  const a = accountFor(cfg.raw, row.channel, row.account_id);
  if (!a) throw new PermanentFailure(`the ${row.channel} account ${row.account_id} is no longer configured`);
  const problem = outboundUrlProblem(apiBase(a), { devHost: env.DEV_OUTBOUND_HOST });
  if (problem) throw new PermanentFailure(`the account's apiBase is refused, nothing was sent: ${problem}`);
  const token = await tenantSecret(env, job.tenant, a.cfg.token);
  if (!token) throw new PermanentFailure(`the tenant has no secret '${a.cfg.token}' to send with`);
  const outbound = JSON.parse(row.payload ?? "{}") as Outbound;
  const call = callFor(a, token, row.user_id, outbound, row.id);
  // Claimed before the call, so two deliveries of one job (the Queue is at-least-once) ask the provider once.
  if (!(await moveOutbound(env.DB, job.tenant, row.id, "sending", "handing", Date.now()))) return;
  const giveBack = () => moveOutbound(env.DB, job.tenant, row.id, "handing", "sending", Date.now());
  let res: Response;
  let text: string;
  try {
    res = await fetch(call.url, { method: "POST", headers: call.headers, body: call.body });
    text = await res.text();
  } catch (err) {
    await giveBack();
    throw err;
  }
  if (!res.ok) {
    // The token is in a Telegram URL: never in what is recorded.
    const why = `${row.channel} answered ${res.status}: ${text.slice(0, 300).replaceAll(token, "***")}`;
    await giveBack();
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new PermanentFailure(why);
    throw new AppError(502, "provider_error", why);
  }
  const providerId = providerIdOf(row.channel, row.account_id, text);
  const now = Date.now();
  await env.DB.batch([
    outboundSent(env.DB, job.tenant, row.id, providerId, now),
    ...eventStatements(env.DB, [{ tenant: job.tenant, interaction: row.interaction_id ?? "", at: now, actor: "delivery", action: "social_sent", from: AS_IS, to: AS_IS, queue: AS_IS, agent: AS_IS, reason: { socialId: row.id, providerId } }]),
  ]);
  await showDelivery(env, job.tenant, row.interaction_id, row.client_id, "sent");
}

export async function socialFailed(env: TenantEnv, job: SocialJob, why: string): Promise<void> {
  await outboundFailed(env.DB, job.tenant, job.socialId, why, Date.now()).run();
  const row = await messageById(env.DB, job.tenant, job.socialId);
  if (row?.state === "failed") await showDelivery(env, job.tenant, row.interaction_id, row.client_id, "failed", why);
}

export async function socialAttemptFailed(env: TenantEnv, job: SocialJob, why: string): Promise<void> {
  await outboundAttemptFailed(env.DB, job.tenant, job.socialId, why, Date.now()).run();
}

