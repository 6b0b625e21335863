// A tenant's config as configuration sees it: created, loaded, checked and replaced as one
// validated document (the SQL is in workers/ucs/tenants.ts and workers/ucs/tenant-statements.ts;
// the per-isolate cache of compiled configs is ./store.ts).
import { parseConfig, withoutSecrets, type ParseOptions, type TenantConfig } from "./schema.ts";
import { secretRefs } from "./secret-refs.ts";
import { appendEventSql } from "../ucs/event-log.ts";
import { socialAccounts } from "./social.ts";
import { missingSecrets } from "../secrets/store.ts";
import { badRequest, conflict, notFound } from "../kernel/errors.ts";
import { changedLogins } from "../auth/changed-logins.ts";
import { bumpTokenVersion } from "../ucs/auth.ts";
import { tenantStatements, type Statement, type TenantKeys } from "../ucs/tenant-statements.ts";
import { bindStatement, mailboxesTakenElsewhere, numberTakenElsewhere, socialTakenElsewhere, tenantConfigRow, tenantLogins, type KeyKind } from "../ucs/tenants.ts";

const bindAll = (db: D1Database, st: Statement[]) => st.map((s) => bindStatement(db, s));

export type { KeyKind, TenantKeys };

/** A new random API key: 256 bits, prefixed with its kind so a leaked one is recognised. */
export const newApiKey = (kind: KeyKind) => `pk_${kind}_${[...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, "0")).join("")}`;

/** Creates a tenant with its config and its two keys, made here unless given (tests, demo, provisioning): the keys
 *  are shown only now. The secrets its config names are set first (setTenantSecret), as for a replace. */
export async function createTenant(db: D1Database, input: unknown, given: Partial<TenantKeys> = {}, opts: ParseOptions & Peers = {}): Promise<{ config: TenantConfig; keys: TenantKeys }> {
  const cfg = parseConfig(input, opts);
  await checkSecretsSet(db, cfg);
  await checkRoutesFree([db, ...(opts.peers ?? [])], cfg);
  const keys: TenantKeys = { ingest: given.ingest ?? newApiKey("ingest"), read: given.read ?? newApiKey("read") };
  await db.batch(bindAll(db, await tenantStatements(cfg, { keys, version: 1 })));
  return { config: cfg, keys };
}

export async function loadTenantConfig(db: D1Database, tenantId: string): Promise<{ config: TenantConfig; version: number }> {
  const row = await tenantConfigRow(db, tenantId);
  if (!row) throw notFound("unknown_tenant", `no tenant '${tenantId}'`);
  return { config: JSON.parse(row.config) as TenantConfig, version: row.config_version };
}

/** Replaces a tenant's config (admin). The tenant id in the body must be the caller's. */
export async function replaceTenantConfig(db: D1Database, tenantId: string, input: unknown, opts: { expectedVersion?: number; actor?: string; origin?: string | null } & ParseOptions & Peers = {}): Promise<{ config: TenantConfig; version: number }> {
  const cfg = parseConfig(input, opts);
  if (cfg.tenant.id !== tenantId) throw badRequest("invalid_config", `tenant.id: must be '${tenantId}'`);
  await checkSecretsSet(db, cfg);
  await checkRoutesFree([db, ...(opts.peers ?? [])], cfg);
  const current = await loadTenantConfig(db, tenantId);
  // An editor that loaded version N saves over N only: someone else's newer save is not undone unseen.
  if (opts.expectedVersion !== undefined && current.version !== opts.expectedVersion)
    throw conflict("version_conflict", `the config changed since you loaded it (version ${opts.expectedVersion}, now ${current.version}); reload and apply your changes again`);
  const existing = await tenantLogins(db, tenantId);
  const version = current.version + 1;
  const st = await tenantStatements(cfg, { version, existingLogins: new Set(existing) });
  // In the same batch as the new config version: a reader that sees the new config sees these too.
  for (const agentId of changedLogins(current.config.agents, cfg.agents)) st.push(bumpTokenVersion(tenantId, agentId));
  // The audit log's entry, in the same batch: a config that changed is a config whose change is logged.
  st.push(appendEventSql({ tenant: tenantId, type: "parley.config.changed", subject: "config", at: Date.now(), actor: opts.actor ?? "system", origin: opts.origin ?? null, data: { version, previous: current.version, sections: changedSections(current.config, cfg) } }));
  await db.batch(bindAll(db, st));
  return { config: withoutSecrets(cfg), version };
}

/** Each secret reference in a stored config that does not resolve: a name the tenant has not set,
 *  or an http transport with no secret (configs from before tenant secrets). Empty when all do. */
export async function secretWarnings(db: D1Database, tenantId: string, cfg: TenantConfig): Promise<{ path: string; message: string }[]> {
  const refs = secretRefs(cfg);
  const missing = await missingSecrets(db, tenantId, refs.map((r) => r.name));
  const out = refs.filter((r) => missing.has(r.name)).map((r) => ({ path: r.path, message: `this tenant has no secret '${r.name}': set it (PUT /api/v1/admin/secrets/${r.name}) or ask the operator to run the secrets upgrade; until then it does not work` }));
  const t = cfg.email?.transport as { kind?: string; secret?: unknown } | undefined;
  if (t?.kind === "http" && !t.secret) out.push({ path: "email.transport.secret", message: "the http transport names no secret (it used the platform's MAIL_API_TOKEN): set one and name it, or ask the operator to run the secrets upgrade; until then no mail is sent" });
  return out;
}

/** A config names only secrets its tenant has set (set first, then name): a typo, or a Worker
 *  variable's name like AUTH_SECRET, is refused here rather than failing at the first webhook. */
async function checkSecretsSet(db: D1Database, cfg: TenantConfig): Promise<void> {
  const refs = secretRefs(cfg);
  const missing = await missingSecrets(db, cfg.tenant.id, refs.map((r) => r.name));
  const issues = refs.filter((r) => missing.has(r.name)).map((r) => ({ path: r.path, message: `this tenant has no secret '${r.name}': set it first with PUT /api/v1/admin/secrets/${r.name}` }));
  if (issues.length) throw badRequest("invalid_config", issues.map((i) => `${i.path}: ${i.message}`).join("; "), issues);
}

/** The other shards: a mailbox, number or social account must be free on every one of them too,
 *  since each is found by asking every shard (tenancy/locate.ts). */
export interface Peers {
  peers?: D1Database[];
}

async function checkRoutesFree(dbs: D1Database[], cfg: TenantConfig): Promise<void> {
  for (const db of dbs) {
    await checkMailboxesFree(db, cfg);
    await checkNumbersFree(db, cfg);
    await checkSocialFree(db, cfg);
  }
}

/** A contact-center number belongs to one tenant: its messages must land in exactly one place. */
async function checkNumbersFree(db: D1Database, cfg: TenantConfig): Promise<void> {
  if (cfg.numbers.length === 0) return;
  const taken = await numberTakenElsewhere(db, cfg.tenant.id, cfg.numbers.map((n) => n.number));
  if (taken !== null) throw badRequest("invalid_config", `numbers[${cfg.numbers.findIndex((n) => n.number === taken)}].number: '${taken}' belongs to another tenant`);
}

/** A social account (a WhatsApp number id, a page, a bot) belongs to one tenant, like a number. */
async function checkSocialFree(db: D1Database, cfg: TenantConfig): Promise<void> {
  const accounts = socialAccounts(cfg.social);
  if (accounts.length === 0) return;
  const taken = await socialTakenElsewhere(db, cfg.tenant.id, accounts);
  if (taken !== null) throw badRequest("invalid_config", `social: the ${taken.provider} account '${taken.id}' belongs to another tenant`);
}

/** A mailbox address belongs to one tenant: mail to it must land in exactly one place. */
async function checkMailboxesFree(db: D1Database, cfg: TenantConfig): Promise<void> {
  if (cfg.mailboxes.length === 0) return;
  const first = (await mailboxesTakenElsewhere(db, cfg.tenant.id, cfg.mailboxes.map((m) => m.address.toLowerCase())))[0];
  if (first !== undefined) {
    const i = cfg.mailboxes.findIndex((m) => m.address.toLowerCase() === first);
    throw badRequest("invalid_config", `mailboxes[${i}].address: '${first}' belongs to another tenant`);
  }
}

/** The top-level sections whose JSON differs (passwords aside): what a config change touched. */
function changedSections(before: TenantConfig, after: TenantConfig): string[] {
  const a = withoutSecrets(before) as unknown as Record<string, unknown>;
  const b = withoutSecrets(after) as unknown as Record<string, unknown>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}
