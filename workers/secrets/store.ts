// A tenant's secrets in D1 (tenant_secrets; the SQL is in workers/ucs/secrets.ts), sealed by
// ./crypto.ts. Every read and write is scoped to one tenant; nothing here reads a Worker variable by
// a name a tenant chose.
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import { AppError } from "../kernel/errors.ts";
import { openSecret, sealSecret, secretsKeyProblem } from "./crypto.ts";
import { secretDeleteUnused, secretUpsert } from "../ucs/secret-statements.ts";
import { resealSecret, runSecretStatement, sealedSecret, secretNames, secretsSet } from "../ucs/secrets.ts";

function platformKey(env: TenantEnv): string {
  const key = env.SECRETS_KEY?.trim();
  const problem = key ? secretsKeyProblem(key) : "SECRETS_KEY is not set";
  if (problem) {
    console.error(`tenant secrets unavailable: ${problem}`);
    throw new AppError(503, "secrets_unavailable", "the platform has no usable SECRETS_KEY to seal and open tenant secrets with");
  }
  return key!;
}

/** The key being rotated away from (SECRETS_KEY_PREVIOUS), when set and usable: rows it sealed still open. */
function previousKey(env: TenantEnv): string | undefined {
  const key = env.SECRETS_KEY_PREVIOUS?.trim();
  if (!key) return undefined;
  const problem = secretsKeyProblem(key);
  if (problem) console.error(`SECRETS_KEY_PREVIOUS ignored: ${problem}`);
  return problem ? undefined : key;
}

/** Seals and stores a tenant's secret: its new updated_at, or null when it is a new name and the
 *  tenant already keeps MAX_SECRETS_PER_TENANT (decided in the write itself). */
export async function setTenantSecret(env: TenantEnv, tenantId: string, name: string, value: string): Promise<number | null> {
  const now = Date.now();
  const s = secretUpsert(tenantId, name, await sealSecret(platformKey(env), tenantId, name, value), now);
  return (await runSecretStatement(env.DB, s)) > 0 ? now : null;
}

/** Deletes a secret the stored config does not name; false when unset or still named. */
export async function deleteUnusedTenantSecret(db: D1Database, tenantId: string, name: string): Promise<boolean> {
  return (await runSecretStatement(db, secretDeleteUnused(tenantId, name))) > 0;
}

/** Names and when each was set: never a value. */
export async function listTenantSecrets(db: D1Database, tenantId: string): Promise<{ name: string; updatedAt: number }[]> {
  return (await secretNames(db, tenantId)).map((x) => ({ name: x.name, updatedAt: x.updated_at }));
}

/** Which of these names the tenant has not set. */
export async function missingSecrets(db: D1Database, tenantId: string, names: readonly string[]): Promise<Set<string>> {
  const missing = new Set(names);
  if (missing.size === 0) return missing;
  for (const name of await secretsSet(db, tenantId, [...missing])) missing.delete(name);
  return missing;
}

/** The tenant's secret of this name, or undefined when it has none (or its row does not open).
 *  While a key is rotated, a row sealed under SECRETS_KEY_PREVIOUS opens with it and is re-sealed
 *  under SECRETS_KEY (only if the row is unchanged since it was read). */
export async function tenantSecret(env: TenantEnv, tenantId: string, name: string): Promise<string | undefined> {
  const row = await sealedSecret(env.DB, tenantId, name);
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
  await resealSecret(env.DB, tenantId, name, fresh, row);
  return old;
}
