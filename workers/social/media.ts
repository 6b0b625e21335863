// Inbound media into R2, before the message is shown: WhatsApp's media id through the Cloud API
// (the media's URL, then its bytes, both with the token), a Meta attachment's CDN URL, a Telegram
// file_id through getFile. The token goes only to the provider's own hosts. A failure the provider
// may recover from is retried from the Queue with backoff until the link expires; a refusal (a
// foreign host, over the size limit) is final. Never a lost message: its media waits as 'pending'.
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import { getConfig } from "../config/store.ts";
import { tenantSecret } from "../secrets/store.ts";
import { readStreamLimited } from "../kernel/read-limited.ts";
import { outboundUrlProblem } from "../outbound/url-policy.ts";
import { chatStub } from "../../durable-objects/names.ts";
import { accountFor, apiBase, type AccountConfig } from "./accounts.ts";
import type { Channel } from "./types.ts";
import { mediaAttemptFailed, mediaOf, mediaStored, messageById, type MediaRow } from "../ucs/social.ts";

export const MAX_MEDIA_BYTES = 25 * 1024 * 1024;
/** How long a provider keeps media for us: WhatsApp media ids 30 days, Meta's CDN links about 7, Telegram's files as long as the bot. */
export const MEDIA_LIFETIME_MS: Record<Channel, number> = { whatsapp: 30 * 86400_000, messenger: 7 * 86400_000, instagram: 7 * 86400_000, telegram: 30 * 86400_000 };
/** Retries: 10 s, 30 s, 90 s... capped at an hour. */
export const mediaBackoffSeconds = (attempts: number) => Math.min(3600, 10 * 3 ** Math.max(0, attempts - 1));

export interface SocialMediaJob {
  tenant: string;
  socialMedia: { messageId: string; idx: number };
}
export const isSocialMediaJob = (b: unknown): b is SocialMediaJob => typeof b === "object" && b !== null && typeof (b as SocialMediaJob).tenant === "string" && typeof (b as SocialMediaJob).socialMedia === "object";

/** A failure the next attempt will not mend. */
class Refused extends Error {}

const META_HOSTS = /(^|\.)(fbcdn\.net|fbsbx\.com|facebook\.com|cdninstagram\.com|whatsapp\.net|instagram\.com)$/;

/** Whether the token may go to this URL: https to the provider's hosts or the configured API's own host. */
function mayCarryToken(url: string, a: AccountConfig, devHost: string | undefined): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const base = new URL(apiBase(a));
  if (u.host === base.host && outboundUrlProblem(url, { devHost }) === null) return true;
  return u.protocol === "https:" && META_HOSTS.test(u.hostname) && a.channel !== "telegram";
}

async function download(url: string, headers: Record<string, string>): Promise<{ bytes: Uint8Array; type: string | null }> {
  const res = await fetch(url, { headers, redirect: "follow" });
  if (res.status === 404 || res.status === 410) throw new Refused(`the provider answered ${res.status}: the media is gone`);
  if (!res.ok) throw new Error(`the provider answered ${res.status}`);
  if (Number(res.headers.get("Content-Length") ?? "0") > MAX_MEDIA_BYTES) throw new Refused(`over ${MAX_MEDIA_BYTES / 1024 / 1024} MB: kept at the provider`);
  const bytes = await readStreamLimited(res.body, MAX_MEDIA_BYTES);
  if (!bytes) throw new Refused(`over ${MAX_MEDIA_BYTES / 1024 / 1024} MB: kept at the provider`);
  return { bytes, type: res.headers.get("Content-Type")?.split(";")[0]?.trim().toLowerCase() || null };
}

async function fetchBytes(env: TenantEnv, tenant: string, a: AccountConfig, ref: string): Promise<{ bytes: Uint8Array; type: string | null }> {
  const devHost = env.DEV_OUTBOUND_HOST;
  const problem = outboundUrlProblem(apiBase(a), { devHost });
  if (problem) throw new Refused(`the account's apiBase is refused: ${problem}`);
  if (a.channel === "messenger" || a.channel === "instagram") {
    if (!mayCarryToken(ref, a, devHost)) throw new Refused("the attachment is not on Meta's hosts");
    return download(ref, {});
  }
  const token = await tenantSecret(env, tenant, a.cfg.token);
  if (!token) throw new Refused(`the tenant has no secret '${a.cfg.token}'`);
  if (a.channel === "whatsapp") {
    const res = await fetch(`${apiBase(a)}/${encodeURIComponent(ref)}`, { headers: { Authorization: `Bearer ${token}` } });
    if (res.status === 404 || res.status === 400) throw new Refused(`the Cloud API answered ${res.status} for media ${ref}`);
    if (!res.ok) throw new Error(`the Cloud API answered ${res.status}`);
    const info = (await res.json().catch(() => null)) as { url?: unknown } | null;
    const url = typeof info?.url === "string" ? info.url : null;
    if (!url) throw new Error("the Cloud API gave no media URL");
    if (!mayCarryToken(url, a, devHost)) throw new Refused(`refused to send the token to ${new URL(url).hostname}`);
    return download(url, { Authorization: `Bearer ${token}` });
  }
  const res = await fetch(`${apiBase(a)}/bot${token}/getFile?file_id=${encodeURIComponent(ref)}`);
  if (res.status === 400) throw new Refused("Telegram does not know the file");
  if (!res.ok) throw new Error(`Telegram answered ${res.status}`);
  const info = (await res.json().catch(() => null)) as { result?: { file_path?: unknown } } | null;
  const path = info?.result?.file_path;
  if (typeof path !== "string" || !/^[\w./-]{1,300}$/.test(path) || path.includes("..")) throw new Error("Telegram gave no file path");
  return download(`${apiBase(a)}/file/bot${token}/${path}`, {});
}

export type MediaOutcome = { state: "stored"; key: string; type: string; size: number } | { state: "pending"; nextAt: number; why: string } | { state: "expired" | "refused"; why: string };

/** One attempt at one media item; records the outcome. */
export async function fetchOne(env: TenantEnv, tenant: string, interactionId: string, a: AccountConfig, row: MediaRow, now = Date.now()): Promise<MediaOutcome> {
  if (row.state === "stored") return { state: "stored", key: row.r2_key!, type: row.content_type, size: row.size ?? 0 };
  if (row.state !== "pending") return { state: row.state, why: row.error ?? row.state };
  try {
    const got = await fetchBytes(env, tenant, a, row.ref);
    // The provider's own word wins over our guess when it names the same kind (an image is an image).
    const major = (x: string) => x.split("/")[0];
    const type = got.type && (row.content_type === "application/octet-stream" || major(got.type) === major(row.content_type)) ? got.type : row.content_type;
    const key = `${tenant}/chat/${interactionId}/${row.message_id}-${row.idx}`;
    await env.BLOBS.put(key, got.bytes, { httpMetadata: { contentType: type, contentDisposition: `attachment; filename="${row.name.replace(/["\\\r\n]/g, "_")}"` } });
    await mediaStored(env.DB, tenant, row.message_id, row.idx, key, type, got.bytes.byteLength).run();
    return { state: "stored", key, type, size: got.bytes.byteLength };
  } catch (err) {
    const why = String(err instanceof Error ? err.message : err).slice(0, 300);
    const nextAt = now + mediaBackoffSeconds(row.attempts + 1) * 1000;
    const state = err instanceof Refused ? "refused" : nextAt > row.expires_at ? "expired" : "pending";
    await mediaAttemptFailed(env.DB, tenant, row.message_id, row.idx, why, state === "pending" ? nextAt : null, state).run();
    return state === "pending" ? { state, nextAt, why } : { state, why };
  }
}

/** Queues the next attempt of a pending item (a fresh message each time, so the Queue's retry limit never ends it early). */
export async function queueMediaRetry(env: TenantEnv, tenant: string, messageId: string, idx: number, nextAt: number): Promise<void> {
  const delaySeconds = Math.max(0, Math.min(43_200, Math.ceil((nextAt - Date.now()) / 1000)));
  try {
    await env.SENDS.send({ tenant, socialMedia: { messageId, idx } } satisfies SocialMediaJob, { contentType: "json", delaySeconds });
  } catch (err) {
    console.error(`could not queue media ${messageId}/${idx}; the sweep will`, err);
  }
}

/** The Queue's job: one more attempt; stored, the chat's message shows it; still failing, again later. */
export async function retryMedia(env: TenantEnv, job: SocialMediaJob): Promise<void> {
  const { tenant } = job;
  const { messageId, idx } = job.socialMedia;
  const msg = await messageById(env.DB, tenant, messageId);
  const row = (await mediaOf(env.DB, tenant, messageId)).find((m) => m.idx === idx);
  if (!msg || !row || row.state !== "pending" || !msg.interaction_id) return;
  // A second job for the same attempt (the sweep requeued one that was only late): the first one does it.
  if (row.next_at !== null && row.next_at > Date.now() + 5000) return;
  const cfg = await getConfig(env.DB, tenant);
  const a = accountFor(cfg.raw, msg.channel, msg.account_id);
  if (!a) return void (await mediaAttemptFailed(env.DB, tenant, messageId, idx, "the account is no longer configured", null, "refused").run());
  const out = await fetchOne(env, tenant, msg.interaction_id, a, row);
  if (out.state === "pending") return queueMediaRetry(env, tenant, messageId, idx, out.nextAt);
  const clientId = `${messageId}.${idx}`;
  const patch = out.state === "stored" ? { file: { key: out.key, type: out.type, size: out.size }, media: null } : { media: out.state };
  const r = await chatStub(env, tenant, msg.interaction_id).socialPatch(clientId, patch);
  if (!r.ok) console.warn(`media ${clientId}: the chat did not take it: ${r.error.message}`);
}
