// A tenant's secrets in D1 (tenant_secrets), sealed by ./crypto.ts. Every read and write is scoped
// to one tenant; nothing here reads a Worker variable by a name a tenant chose.
import { AppError } from "../kernel/errors.ts";
import { openSecret, sealSecret, secretsKeyProblem, type Sealed } from "./crypto.ts";
import { secretDeleteUnused, secretUpsert } from "./statements.ts";

function platformKey(env: Env): string {
  const key = env.SECRETS_KEY?.trim();
  const problem = key ? secretsKeyProblem(key) : "SECRETS_KEY is not set";
  if (problem) {
    console.error(`tenant secrets unavailable: ${problem}`);
    throw new AppError(503, "secrets_unavailable", "the platform has no usable SECRETS_KEY to seal and open tenant secrets with");
  }
  return key!;
}

/** The key being rotated away from (SECRETS_KEY_PREVIOUS), when set and usable: rows it sealed still open. */
function previousKey(env: Env): string | undefined {
  const key = env.SECRETS_KEY_PREVIOUS?.trim();
  if (!key) return undefined;
  const problem = secretsKeyProblem(key);
  if (problem) console.error(`SECRETS_KEY_PREVIOUS ignored: ${problem}`);
  return problem ? undefined : key;
}

/** Seals and stores a tenant's secret: its new updated_at, or null when it is a new name and the
 *  tenant already keeps MAX_SECRETS_PER_TENANT (decided in the write itself). */
export async function setTenantSecret(env: Env, tenantId: string, name: string, value: string): Promise<number | null> {
  const now = Date.now();
  const s = secretUpsert(tenantId, name, await sealSecret(platformKey(env), tenantId, name, value), now);
  const r = await env.DB.prepare(s.sql).bind(...s.params).run();
  return r.meta.changes > 0 ? now : null;
}

/** Deletes a secret the stored config does not name; false when unset or still named. */
export async function deleteUnusedTenantSecret(db: D1Database, tenantId: string, name: string): Promise<boolean> {
  const s = secretDeleteUnused(tenantId, name);
  const r = await db.prepare(s.sql).bind(...s.params).run();
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

/** The tenant's secret of this name, or undefined when it has none (or its row does not open).
 *  While a key is rotated, a row sealed under SECRETS_KEY_PREVIOUS opens with it and is re-sealed
 *  under SECRETS_KEY (only if the row is unchanged since it was read). */
export async function tenantSecret(env: Env, tenantId: string, name: string): Promise<string | undefined> {
  const row = await env.DB.prepare("SELECT ciphertext, iv FROM tenant_secrets WHERE tenant_id = ? AND name = ?").bind(tenantId, name).first<Sealed>();
  if (!row) return undefined;
  const key = platformKey(env);
  const value = await openSecret(key, tenantId, name, row);
  if (value !== undefined) return value;
  const previous = previousKey(env);
  const old = previous ? await openSecret(previous, tenantId, name, row) : undefined;
  if (old === undefined) {
    console.error(`tenant secret '${name}' of ${tenantId} does not open with this SECRETS_KEY${previous ? " nor SECRETS_KEY_PREVIOUS" : ""}`);
    return undefined;
  }
  const fresh = await sealSecret(key, tenantId, name, old);
  await env.DB.prepare("UPDATE tenant_secrets SET ciphertext = ?, iv = ? WHERE tenant_id = ? AND name = ? AND ciphertext = ? AND iv = ?")
    .bind(fresh.ciphertext, fresh.iv, tenantId, name, row.ciphertext, row.iv)
    .run();
  return old;
}
