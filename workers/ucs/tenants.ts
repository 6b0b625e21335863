// Tenants in D1: the reads of their rows, keys and routes, and the runner of the statements that
// write them (./tenant-statements.ts). Loading, checking and caching a config is configuration's
// work: workers/config/tenants.ts and workers/config/store.ts.
import { sha256Hex } from "../kernel/ids.ts";
import type { Statement, TenantKeys } from "./tenant-statements.ts";

/** An API key's kind: the two every tenant is made with, and keys scoped to reading its events. */
export type KeyKind = keyof TenantKeys | "events";

/** A statement ready to run on D1 (or to join a batch). */
export const bindStatement = (db: D1Database, s: Statement): D1PreparedStatement => db.prepare(s.sql).bind(...s.params);

/** The tenant's stored config (JSON) and its version, or null. */
export function tenantConfigRow(db: D1Database, tenantId: string): Promise<{ config: string; config_version: number } | null> {
  return db.prepare("SELECT config, config_version FROM tenants WHERE id = ?").bind(tenantId).first<{ config: string; config_version: number }>();
}

export async function configVersion(db: D1Database, tenantId: string): Promise<number | null> {
  const row = await db.prepare("SELECT config_version FROM tenants WHERE id = ?").bind(tenantId).first<{ config_version: number }>();
  return row?.config_version ?? null;
}

/** The logins the tenant has credentials for. */
export async function tenantLogins(db: D1Database, tenantId: string): Promise<string[]> {
  const r = await db.prepare("SELECT login FROM credentials WHERE tenant_id = ?").bind(tenantId).all<{ login: string }>();
  return r.results.map((x) => x.login);
}

/** The tenant and kind of an API key, or null. */
export async function tenantByKey(db: D1Database, key: string): Promise<{ tenant: string; kind: KeyKind } | null> {
  const row = await db.prepare("SELECT tenant_id, kind FROM tenant_keys WHERE key_hash = ?").bind(await sha256Hex(key)).first<{ tenant_id: string; kind: KeyKind }>();
  return row ? { tenant: row.tenant_id, kind: row.kind } : null;
}

export async function allTenantIds(db: D1Database): Promise<string[]> {
  const r = await db.prepare("SELECT id FROM tenants").all<{ id: string }>();
  return r.results.map((x) => x.id);
}

/** One of these numbers that routes to another tenant, or null. */
export async function numberTakenElsewhere(db: D1Database, tenantId: string, numbers: readonly string[]): Promise<string | null> {
  const taken = await db
    .prepare("SELECT number FROM number_routes WHERE number IN (SELECT value FROM json_each(?)) AND tenant_id != ?")
    .bind(JSON.stringify(numbers), tenantId)
    .first<{ number: string }>();
  return taken?.number ?? null;
}

/** One of these social accounts that routes to another tenant, or null. */
export async function socialTakenElsewhere(db: D1Database, tenantId: string, accounts: readonly { provider: string; id: string }[]): Promise<{ provider: string; id: string } | null> {
  const r = await db
    .prepare("SELECT provider, account_id AS id FROM social_accounts WHERE provider || ':' || account_id IN (SELECT value FROM json_each(?)) AND tenant_id != ?")
    .bind(JSON.stringify(accounts.map((a) => `${a.provider}:${a.id}`)), tenantId)
    .first<{ provider: string; id: string }>();
  return r ?? null;
}

/** Those of these (lower-cased) mailbox addresses that route to another tenant. */
export async function mailboxesTakenElsewhere(db: D1Database, tenantId: string, addresses: readonly string[]): Promise<string[]> {
  const taken = await db
    .prepare("SELECT address FROM mailbox_routes WHERE address IN (SELECT value FROM json_each(?)) AND tenant_id != ?")
    .bind(JSON.stringify(addresses), tenantId)
    .all<{ address: string }>();
  return taken.results.map((x) => x.address);
}

/** A key scoped to reading the tenant's events (stored as its hash, like every key). */
export async function addEventsKey(db: D1Database, tenant: string, key: string): Promise<void> {
  await db.prepare("INSERT INTO tenant_keys (key_hash, tenant_id, kind, created_at) VALUES (?, ?, 'events', ?)").bind(await sha256Hex(key), tenant, Date.now()).run();
}

export async function revokeEventsKeys(db: D1Database, tenant: string): Promise<number> {
  return (await db.prepare("DELETE FROM tenant_keys WHERE tenant_id = ? AND kind = 'events'").bind(tenant).run()).meta.changes ?? 0;
}
