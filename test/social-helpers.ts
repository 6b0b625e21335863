// Social channel test helpers: a tenant with a WhatsApp number, a Facebook page with its Instagram
// account and a Telegram bot (unique ids per test), signed webhooks as each provider sends them, a
// fake provider API behind fetch, and draining the SENDS Queue's social jobs.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { vi } from "vitest";
import worker from "../workers/index.ts";
import { hubSignature } from "../workers/social/signature.ts";
import type { TenantConfigInput } from "../workers/config/schema.ts";
import { makeTenant, type Tenant } from "./helpers.ts";

export const APP_SECRET = "meta-app-secret-7c1e9a";
export const VERIFY = "verify-me-3b8d";
export const WA_TOKEN = "wa-access-token-91f0";
export const PAGE_TOKEN = "page-access-token-55ab";
export const BOT_TOKEN_SECRET = "tg-bot-token-1e2d";
export const HOOK_SECRET = "tg-hook-secret-0a9b";
export const GRAPH = "https://graph.facebook.com/v21.0";
export const TG = "https://api.telegram.org";

let n = 0;
const digits = (len: number) => `${Date.now()}${String(n++).padStart(3, "0")}${Math.floor(Math.random() * 1e6)}`.slice(-len);

export interface SocialTenant extends Tenant {
  phoneNumberId: string;
  pageId: string;
  instagramId: string;
  botId: string;
}

export async function socialTenant(extra: Partial<TenantConfigInput> = {}, appSecret = APP_SECRET, social: Partial<NonNullable<TenantConfigInput["social"]>> = {}): Promise<SocialTenant> {
  const phoneNumberId = `1${digits(14)}`;
  const pageId = `2${digits(14)}`;
  const instagramId = `3${digits(14)}`;
  const botId = `4${digits(9)}`;
  const t = await makeTenant(
    [{ id: "ana", capacity: { chat: 3 } }],
    undefined,
    {
      social: {
        whatsapp: [{ phoneNumberId, number: "+15550001111", workflow: "main", appSecret: "meta-app", verifyToken: "meta-verify", token: "wa-token" }],
        meta: [{ pageId, instagramId, workflow: "main", appSecret: "meta-app", verifyToken: "meta-verify", token: "page-token" }],
        telegram: [{ botId, workflow: "main", token: "tg-token", webhookSecret: "tg-hook" }],
        templates: [{ name: "follow_up", language: "en", text: "Hello {{1}}, we have news about your request.", params: ['<$ Contact.FirstName | "there" $>'] }],
        ...social,
      },
      ...extra,
    },
    { secrets: { "meta-app": appSecret, "meta-verify": VERIFY, "wa-token": WA_TOKEN, "page-token": PAGE_TOKEN, "tg-token": `${botId}:${BOT_TOKEN_SECRET}`, "tg-hook": HOOK_SECRET } },
  );
  return Object.assign(t, { phoneNumberId, pageId, instagramId, botId });
}

export async function signedPost(path: string, body: unknown, secret = APP_SECRET, headers: Record<string, string> = {}): Promise<Response> {
  const raw = new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body));
  return exports.default.fetch(new Request(`http://parley.test${path}`, { method: "POST", headers: { "Content-Type": "application/json", "X-Hub-Signature-256": await hubSignature(secret, raw), ...headers }, body: raw }));
}

/** A WhatsApp Cloud API webhook body with these messages and statuses for one number. */
export function waBody(phoneNumberId: string, messages: Record<string, unknown>[], statuses: Record<string, unknown>[] = [], name = "Kerry Fisher"): Record<string, unknown> {
  const from = String(messages[0]?.from ?? "14155550142");
  return {
    object: "whatsapp_business_account",
    entry: [{ id: "WABA1", changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata: { display_phone_number: "15550001111", phone_number_id: phoneNumberId }, contacts: [{ profile: { name }, wa_id: from }], ...(messages.length ? { messages } : {}), ...(statuses.length ? { statuses } : {}) } }] }],
  };
}

export const waText = (id: string, text: string, at: number, from = "14155550142") => ({ from, id, timestamp: String(Math.floor(at / 1000)), type: "text", text: { body: text } });

export const postWhatsApp = (t: SocialTenant, messages: Record<string, unknown>[], statuses: Record<string, unknown>[] = []) => signedPost("/api/v1/social/whatsapp", waBody(t.phoneNumberId, messages, statuses));

/** A Messenger (page) or Instagram webhook body with these messaging events. */
export const metaBody = (object: "page" | "instagram", account: string, messaging: Record<string, unknown>[]) => ({ object, entry: [{ id: account, time: Date.now(), messaging }] });

export function telegramPost(t: SocialTenant, update: Record<string, unknown>, secret = HOOK_SECRET): Promise<Response> {
  return exports.default.fetch(new Request(`http://parley.test/api/v1/social/telegram/${t.botId}`, { method: "POST", headers: { "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret }, body: JSON.stringify(update) }));
}

export interface Sent {
  url: string;
  body: Record<string, unknown>;
  auth: string | null;
}

/** The providers' APIs behind fetch: sends recorded and answered with an id; media by `media(url)`. */
export function fakeProviders(media: (url: string) => Response | Promise<Response> = () => new Response("no", { status: 404 })): { sent: Sent[]; calls: string[] } {
  const sent: Sent[] = [];
  const calls: string[] = [];
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (!/^https:\/\/(graph\.facebook\.com|api\.telegram\.org|lookaside\.fbsbx\.com|scontent\.xx\.fbcdn\.net)\//.test(url)) return realFetch(input, init);
    calls.push(url);
    const method = init?.method ?? (input instanceof Request ? input.method : "GET");
    if (method === "POST") {
      const body = JSON.parse(String(init?.body ?? "{}")) as Record<string, unknown>;
      const headers = new Headers(init?.headers);
      sent.push({ url, body, auth: headers.get("Authorization") });
      if (url.includes("api.telegram.org")) return Response.json({ ok: true, result: { message_id: 100 + sent.length } });
      if (url.endsWith("/me/messages")) return Response.json({ recipient_id: "x", message_id: `m_out_${sent.length}` });
      return Response.json({ messaging_product: "whatsapp", messages: [{ id: `wamid.OUT${sent.length}` }] });
    }
    return media(url);
  });
  return { sent, calls };
}

/** The sends of this tenant's accounts only: the Queue's own consumer may deliver another test's
 *  message while a fake provider is in place. WhatsApp and Telegram name the account in the URL;
 *  Messenger's body carries our message id in its metadata. */
export async function sentFor(t: SocialTenant, sent: Sent[]): Promise<Sent[]> {
  const ids = new Set((await env.SHARD_1.prepare("SELECT id FROM social_messages WHERE tenant_id = ? AND direction = 'out'").bind(t.id).all<{ id: string }>()).results.map((r) => r.id));
  return sent.filter((x) => x.url.includes(`/${t.phoneNumberId}/`) || x.url.includes(`/bot${t.botId}:`) || ids.has(String((x.body.message as { metadata?: string } | undefined)?.metadata ?? "").split(":")[1] ?? ""));
}

/** Runs the SENDS Queue's jobs for the tenant's outbound social messages still 'sending'. */
export async function drainSocial(t: { id: string }): Promise<number> {
  const rows = (await env.SHARD_1.prepare("SELECT id FROM social_messages WHERE tenant_id = ? AND direction = 'out' AND state = 'sending'").bind(t.id).all<{ id: string }>()).results;
  if (!rows.length) return 0;
  const batch = createMessageBatch("parley-sends", rows.map((r) => ({ id: `m-${r.id}`, timestamp: new Date(), attempts: 1, body: { tenant: t.id, socialId: r.id } })));
  const ctx = createExecutionContext();
  await worker.queue!(batch, env, ctx);
  await getQueueResult(batch, ctx);
  return rows.length;
}

/** Runs one attempt of a pending media item, as its Queue message would once its delay has passed. */
export async function retryMediaJob(t: { id: string }, messageId: string, idx = 0): Promise<void> {
  await env.SHARD_1.prepare("UPDATE social_media SET next_at = ? WHERE tenant_id = ? AND message_id = ? AND idx = ? AND state = 'pending'").bind(Date.now() - 1, t.id, messageId, idx).run();
  const batch = createMessageBatch("parley-sends", [{ id: `media-${messageId}-${idx}-${Math.random()}`, timestamp: new Date(), attempts: 1, body: { tenant: t.id, socialMedia: { messageId, idx } } }]);
  const ctx = createExecutionContext();
  await worker.queue!(batch, env, ctx);
  await getQueueResult(batch, ctx);
}

export const socialRows = async (t: { id: string }, direction: "in" | "out") =>
  (await env.SHARD_1.prepare("SELECT * FROM social_messages WHERE tenant_id = ? AND direction = ? ORDER BY created_at").bind(t.id, direction).all<{ id: string; provider_id: string; interaction_id: string; state: string; flagged: string | null; kind: string; body: string; payload: string; client_id: string | null }>()).results;
