// The social webhooks' doors: find whose account a body is for, prove it with that tenant's own
// secret before anything is parsed (Meta: the app secret's HMAC of the raw body; Telegram: the
// webhook's secret token), then hand each event to the core. Unknown accounts and bad signatures get
// the same 403, so the answers tell nobody which accounts exist. One event that fails is kept
// flagged and the provider asked to retry (exactly-once makes that safe); it never stops the others.
import { tenantEnv, type TenantEnv } from "../tenancy/tenant-env.ts";
import { ownedOnShards } from "../tenancy/locate.ts";
import type { CompiledConfig } from "../config/compiled.ts";
import { getConfig } from "../config/store.ts";
import { AppError, badRequest } from "../kernel/errors.ts";
import { readLimited } from "../kernel/read-limited.ts";
import { tenantSecret } from "../secrets/store.ts";
import { accountOwners, inboundFailed, providerTenants } from "../ucs/social.ts";
import { accountFor, type AccountConfig } from "./accounts.ts";
import { receiveEcho, receiveMessage, receiveStatus } from "./inbound.ts";
import { parseBody } from "./json.ts";
import { META_ACCOUNT, metaEvents } from "./meta.ts";
import { hubSignatureValid, sameSecret } from "./signature.ts";
import { telegramEvents } from "./telegram.ts";
import type { Provider, SocialEvent } from "./types.ts";
import { WHATSAPP_ACCOUNT, whatsappEvents } from "./whatsapp.ts";

/** Providers batch, but a webhook over 3 MB is not one of theirs. */
export const MAX_WEBHOOK_BYTES = 3 * 1024 * 1024;
/** At most this many distinct account ids are looked up for one body. */
const MAX_ACCOUNTS = 100;

const unverified = (header: string) => new AppError(403, "invalid_signature", `${header} does not match this request`);

export interface WebhookSummary {
  received: number;
  duplicates: number;
  statuses: number;
  ignored: number;
  failed: number;
  suspended: number;
}

/** An account's owner: its tenant's config and env (suspended tenants too: their events are refused
 *  after the signature is checked). */
type Owner = { cfg: CompiledConfig; env: TenantEnv };
type Owned = Map<string, Owner>;

/** Per isolate, for a moment (as the config cache): which tenant owns an account, and a tenant's
 *  secret, so a burst of webhooks costs neither a lookup nor an unsealing each. A change (an account
 *  moved, a secret rotated) applies within SHORT_MS. */
const SHORT_MS = 2000;
const owners = new Map<string, { tenant: string | null; at: number }>();
const secrets = new Map<string, { value: string | undefined; at: number }>();

async function ownersOf(env: Env, provider: Provider, ids: string[]): Promise<{ account: string; tenant: string }[]> {
  const now = Date.now();
  const fresh = (k: string) => {
    const e = owners.get(`${provider}:${k}`);
    return e && now - e.at < SHORT_MS ? e : undefined;
  };
  const missing = ids.filter((id) => !fresh(id));
  if (missing.length) {
    const found = new Map((await ownedOnShards(env, (db) => accountOwners(db, provider, missing))).map((o) => [o.account, o.tenant]));
    if (owners.size > 10_000) owners.clear();
    for (const id of missing) owners.set(`${provider}:${id}`, { tenant: found.get(id) ?? null, at: now });
  }
  return ids.flatMap((id) => {
    const t = fresh(id)?.tenant;
    return t ? [{ account: id, tenant: t }] : [];
  });
}

async function secretOf(env: TenantEnv, tenant: string, name: string): Promise<string | undefined> {
  const k = `${tenant}/${name}`;
  const e = secrets.get(k);
  if (e && Date.now() - e.at < SHORT_MS) return e.value;
  const value = await tenantSecret(env, tenant, name);
  if (secrets.size > 10_000) secrets.clear();
  secrets.set(k, { value, at: Date.now() });
  return value;
}

/** The accounts named in the body whose owning tenant's app secret signed it. */
async function signedAccounts(platform: Env, provider: "whatsapp" | "meta", raw: Uint8Array, header: string | null): Promise<Owned> {
  const text = new TextDecoder().decode(raw);
  const ids = new Set<string>();
  for (const m of text.matchAll(provider === "whatsapp" ? WHATSAPP_ACCOUNT : META_ACCOUNT)) {
    ids.add(m[1]!);
    if (ids.size >= MAX_ACCOUNTS) break;
  }
  const owned: Owned = new Map();
  const verdicts = new Map<string, boolean>();
  for (const o of await ownersOf(platform, provider, [...ids])) {
    const env = await tenantEnv(platform, o.tenant, { allowSuspended: true });
    const cfg = await getConfig(env.DB, o.tenant);
    const s = cfg.raw.social;
    const acc = provider === "whatsapp" ? s?.whatsapp.find((a) => a.phoneNumberId === o.account) : s?.meta.find((a) => a.pageId === o.account || a.instagramId === o.account);
    if (!acc) continue;
    const key = `${o.tenant}/${acc.appSecret}`;
    if (!verdicts.has(key)) {
      const secret = await secretOf(env, o.tenant, acc.appSecret);
      verdicts.set(key, secret ? await hubSignatureValid(secret, raw, header) : false);
    }
    if (verdicts.get(key)) owned.set(o.account, { cfg, env });
  }
  return owned;
}

async function dispatch(exec: ExecutionContext | undefined, events: SocialEvent[], ownerOf: (account: string) => Owner | undefined): Promise<WebhookSummary> {
  const sum: WebhookSummary = { received: 0, duplicates: 0, statuses: 0, ignored: 0, failed: 0, suspended: 0 };
  for (const ev of events) {
    const owner = ownerOf(ev.account);
    const cfg = owner?.cfg;
    const a: AccountConfig | null = cfg ? accountFor(cfg.raw, ev.channel, ev.account) : null;
    if (!owner || !cfg || !a) {
      sum.ignored++;
      continue;
    }
    const env = owner.env;
    // A suspended tenant's events are not stored: the 503 below has the provider send them again.
    if (env.SUSPENDED) {
      sum.suspended++;
      continue;
    }
    try {
      if (ev.type === "status") sum.statuses += (await receiveStatus(env, cfg, a, ev)) > 0 ? 1 : 0;
      else {
        const out = ev.type === "echo" ? await receiveEcho(env, cfg, a, ev) : await receiveMessage(env, cfg, a, ev, exec);
        if (out.duplicate) sum.duplicates++;
        else sum.received++;
      }
    } catch (err) {
      sum.failed++;
      console.error(`social ${ev.channel} ${ev.type} ${"providerId" in ev ? ev.providerId : ""}: failed`, err);
      if (ev.type === "message") await inboundFailed(env.DB, cfg.raw.tenant.id, ev.channel, ev.providerId, String(err instanceof Error ? err.message : err), JSON.stringify(ev), Date.now()).run().catch(() => {});
    }
  }
  return sum;
}

const answer = (sum: WebhookSummary) =>
  sum.suspended > 0 && sum.failed === 0
    ? Response.json({ error: { code: "tenant_suspended", message: `${sum.suspended} event(s) are for a suspended tenant: nothing was stored for them; send the webhook again after it is resumed` }, ...sum }, { status: 503, headers: { "Retry-After": "600" } })
    : sum.failed > 0 ? Response.json({ error: { code: "retry", message: `${sum.failed} event(s) could not be processed now; they are kept, send the webhook again` }, ...sum }, { status: 503 }) : Response.json(sum);

/** WhatsApp's and Meta's POST: signed by the owning tenant's app secret. */
export async function metaWebhook(env: Env, provider: "whatsapp" | "meta", req: Request, exec?: ExecutionContext): Promise<Response> {
  const raw = await readLimited(req, MAX_WEBHOOK_BYTES);
  const header = req.headers.get("X-Hub-Signature-256");
  if (!header) throw unverified("X-Hub-Signature-256");
  const owned = await signedAccounts(env, provider, raw, header);
  if (owned.size === 0) throw unverified("X-Hub-Signature-256");
  const body = parseBody(raw);
  const events = provider === "whatsapp" ? whatsappEvents(body) : { events: metaEvents(body), errors: [] };
  for (const e of events.errors) console.warn(`whatsapp webhook error: ${e}`);
  return answer(await dispatch(exec, events.events, (acc) => owned.get(acc)));
}

/** The subscription handshake: hub.challenge back when hub.verify_token is one of the provider's accounts' tokens. */
export async function metaHandshake(platform: Env, provider: Provider, url: URL): Promise<Response> {
  const mode = url.searchParams.get("hub.mode");
  const token = url.searchParams.get("hub.verify_token");
  const challenge = url.searchParams.get("hub.challenge");
  if (mode !== "subscribe" || !token || !challenge) throw badRequest("invalid_handshake", "expected hub.mode=subscribe, hub.verify_token and hub.challenge");
  if (!/^[\w-]{1,200}$/.test(challenge)) throw badRequest("invalid_handshake", "hub.challenge: 1 to 200 letters, digits, '_' or '-'");
  for (const { tenant } of await ownedOnShards(platform, async (db) => (await providerTenants(db, provider)).map((tenant) => ({ tenant })))) {
    const env = await tenantEnv(platform, tenant, { allowSuspended: true });
    const s = (await getConfig(env.DB, tenant)).raw.social;
    const names = new Set((provider === "whatsapp" ? s?.whatsapp : s?.meta)?.map((a) => a.verifyToken) ?? []);
    for (const name of names) {
      const want = await tenantSecret(env, tenant, name);
      if (want && (await sameSecret(want, token))) return new Response(challenge, { headers: { "Content-Type": "text/plain; charset=utf-8" } });
    }
  }
  throw new AppError(403, "invalid_verify_token", "hub.verify_token matches no account");
}

/** Telegram's POST for one bot: its secret token, then one Update. */
export async function telegramWebhook(platform: Env, botId: string, req: Request, exec?: ExecutionContext): Promise<Response> {
  const header = req.headers.get("X-Telegram-Bot-Api-Secret-Token");
  if (!header || !/^\d{1,30}$/.test(botId)) throw unverified("X-Telegram-Bot-Api-Secret-Token");
  const owner = (await ownersOf(platform, "telegram", [botId]))[0];
  const env = owner ? await tenantEnv(platform, owner.tenant, { allowSuspended: true }) : null;
  const cfg = owner && env ? await getConfig(env.DB, owner.tenant) : null;
  const bot = cfg?.raw.social?.telegram.find((b) => b.botId === botId);
  const secret = bot && cfg && env ? await secretOf(env, cfg.raw.tenant.id, bot.webhookSecret) : undefined;
  if (!cfg || !env || !secret || !(await sameSecret(secret, header))) throw unverified("X-Telegram-Bot-Api-Secret-Token");
  const raw = await readLimited(req, MAX_WEBHOOK_BYTES);
  const events = telegramEvents(parseBody(raw), botId);
  return answer(await dispatch(exec, events, (acc) => (acc === botId ? { cfg, env } : undefined)));
}
