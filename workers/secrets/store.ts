// A tenant's secrets in D1 (tenant_secrets), sealed by ./crypto.ts. Every read and write is scoped
// to one tenant; nothing here reads a Worker variable by a name a tenant chose.
import { AppError } from "../http/errors.ts";
import { MIN_SECRETS_KEY_CHARS, openSecret, sealSecret, type Sealed } from "./crypto.ts";
import { secretUpsert } from "./statements.ts";

function platformKey(env: Env): string {
  const key = env.SECRETS_KEY;
  if (!key || key.length < MIN_SECRETS_KEY_CHARS) throw new AppError(503, "secrets_unavailable", `the platform has no SECRETS_KEY (${MIN_SECRETS_KEY_CHARS}+ characters) to seal and open tenant secrets with`);
  return key;
}

/** Seals and stores a tenant's secret; its new updated_at. */
export async function setTenantSecret(env: Env, tenantId: string, name: string, value: string): Promise<number> {
  const now = Date.now();
  const s = secretUpsert(tenantId, name, await sealSecret(platformKey(env), tenantId, name, value), now);
  await env.DB.prepare(s.sql).bind(...s.params).run();
  return now;
}

export async function deleteTenantSecret(db: D1Database, tenantId: string, name: string): Promise<boolean> {
  const r = await db.prepare("DELETE FROM tenant_secrets WHERE tenant_id = ? AND name = ?").bind(tenantId, name).run();
  return r.meta.changes > 0;
}

/** Names and when each was set: never a value. */
export async function listTenantSecrets(db: D1Database, tenantId: string): Promise<{ name: string; updatedAt: number }[]> {
  const r = await db.prepare("SELECT name, updated_at FROM tenant_secrets WHERE tenant_id = ? ORDER BY name").bind(tenantId).all<{ name: string; updated_at: number }>();
  return r.results.map((x) => ({ name: x.name, updatedAt: x.updated_at }));
}

/** Which of these names the tenant has not set. */
export async function missingSecrets(db: D1Database, tenantId: string, names: readonly string[]): Promise<Set<string>> {
  const missing = new Set(names);
  if (missing.size === 0) return missing;
  const r = await db.prepare("SELECT name FROM tenant_secrets WHERE tenant_id = ? AND name IN (SELECT value FROM json_each(?))").bind(tenantId, JSON.stringify([...missing])).all<{ name: string }>();
  for (const x of r.results) missing.delete(x.name);
  return missing;
}

/** The tenant's secret of this name, or undefined when it has none (or its row does not open). */
export async function tenantSecret(env: Env, tenantId: string, name: string): Promise<string | undefined> {
  const row = await env.DB.prepare("SELECT ciphertext, iv FROM tenant_secrets WHERE tenant_id = ? AND name = ?").bind(tenantId, name).first<Sealed>();
  if (!row) return undefined;
  const value = await openSecret(platformKey(env), tenantId, name, row);
  if (value === undefined) console.error(`tenant secret '${name}' of ${tenantId} does not open with this SECRETS_KEY`);
  return value;
}
