// tenant_secrets in D1: sealed values only (workers/secrets/ seals and opens them). The writes are
// statements in ./secret-statements.ts, which the local scripts render as SQL too.
import type { Sealed } from "../secrets/crypto.ts";
import type { Statement } from "./tenant-statements.ts";
import { bindStatement } from "./tenants.ts";

/** Runs one of ./secret-statements.ts: how many rows it changed. */
export async function runSecretStatement(db: D1Database, s: Statement): Promise<number> {
  return (await bindStatement(db, s).run()).meta.changes;
}

/** The tenant's secret names and when each was set, by name: never a value. */
export async function secretNames(db: D1Database, tenantId: string): Promise<{ name: string; updated_at: number }[]> {
  const r = await db.prepare("SELECT name, updated_at FROM tenant_secrets WHERE tenant_id = ? ORDER BY name").bind(tenantId).all<{ name: string; updated_at: number }>();
  return r.results;
}

/** Which of these names the tenant has set. */
export async function secretsSet(db: D1Database, tenantId: string, names: readonly string[]): Promise<string[]> {
  const r = await db.prepare("SELECT name FROM tenant_secrets WHERE tenant_id = ? AND name IN (SELECT value FROM json_each(?))").bind(tenantId, JSON.stringify(names)).all<{ name: string }>();
  return r.results.map((x) => x.name);
}

/** One secret as sealed, or null. */
export function sealedSecret(db: D1Database, tenantId: string, name: string): Promise<Sealed | null> {
  return db.prepare("SELECT ciphertext, iv FROM tenant_secrets WHERE tenant_id = ? AND name = ?").bind(tenantId, name).first<Sealed>();
}

/** Replaces the sealing of one secret, only if its row is still `old` (unchanged since it was read). */
export async function resealSecret(db: D1Database, tenantId: string, name: string, fresh: Sealed, old: Sealed): Promise<void> {
  await db.prepare("UPDATE tenant_secrets SET ciphertext = ?, iv = ? WHERE tenant_id = ? AND name = ? AND ciphertext = ? AND iv = ?")
    .bind(fresh.ciphertext, fresh.iv, tenantId, name, old.ciphertext, old.iv)
    .run();
}
