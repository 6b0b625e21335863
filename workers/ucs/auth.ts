// Logins in D1: credentials, the login throttle's counters (login_throttle) and each login's token
// version (token_versions). The policy that uses them is in workers/auth/.
import type { Statement } from "./tenant-statements.ts";

/** A login's credentials row (login lower-cased by the caller), or null. */
export async function credentialOf(db: D1Database, tenant: string, login: string): Promise<{ agent_id: string; password_hash: string } | null> {
  return db.prepare("SELECT agent_id, password_hash FROM credentials WHERE tenant_id = ? AND login = ?").bind(tenant, login).first<{ agent_id: string; password_hash: string }>();
}

/** A login's current token version: what a new token carries (absent: 1). */
export async function tokenVersionOf(db: D1Database, tenantId: string, agentId: string): Promise<number> {
  const row = await db.prepare("SELECT version FROM token_versions WHERE tenant_id = ? AND agent_id = ?").bind(tenantId, agentId).first<{ version: number }>();
  return row?.version ?? 1;
}

/** Every login's token version that moved from 1. */
export async function tokenVersionRows(db: D1Database, tenant: string): Promise<{ agent_id: string; version: number }[]> {
  const r = await db.prepare("SELECT agent_id, version FROM token_versions WHERE tenant_id = ?").bind(tenant).all<{ agent_id: string; version: number }>();
  return r.results;
}

/** Revokes every token of this login issued so far (the first bump takes it from the implicit 1 to 2). */
export const bumpTokenVersion = (tenantId: string, agentId: string): Statement => ({
  sql: `INSERT INTO token_versions (tenant_id, agent_id, version) VALUES (?, ?, 2)
        ON CONFLICT (tenant_id, agent_id) DO UPDATE SET version = token_versions.version + 1`,
  params: [tenantId, agentId],
});

/** The latest end of a block among these throttle keys, if any is blocked after `now`. */
export async function blockedUntil(db: D1Database, keys: string[], now: number): Promise<number | null> {
  const r = await db.prepare("SELECT MAX(blocked_until) AS until FROM login_throttle WHERE key IN (SELECT value FROM json_each(?)) AND blocked_until > ?")
    .bind(JSON.stringify(keys), now).first<{ until: number | null }>();
  return r?.until ?? null;
}

/** The counting rule, as the upsert applies it (workers/auth/throttle.ts says why). */
export interface CountRule {
  free: number;
  baseSeconds: number;
  maxSeconds: number;
  forgetSeconds: number;
}

/** Counts one attempt against the key and sets its backoff, atomically: the new count, or null
 *  when the key is blocked (then nothing is counted). */
export async function countThrottled(db: D1Database, key: string, p: CountRule, now: number): Promise<number | null> {
  // ?1 key, ?2 now, ?3 forget-before, ?4 free, ?5 max s, ?6 base s. `n` is the new count.
  const n = "(CASE WHEN last_at < ?3 THEN 1 ELSE attempts + 1 END)";
  const row = await db
    .prepare(
      `INSERT INTO login_throttle (key, attempts, blocked_until, last_at) VALUES (?1, 1, CASE WHEN ?4 < 1 THEN ?2 + ?6 * 1000 ELSE 0 END, ?2)
       ON CONFLICT (key) DO UPDATE SET
         attempts = ${n},
         blocked_until = CASE WHEN ${n} > ?4 THEN ?2 + min(?5, ?6 * (1 << min(30, ${n} - ?4 - 1))) * 1000 ELSE 0 END,
         last_at = ?2
       WHERE blocked_until <= ?2
       RETURNING attempts`,
    )
    .bind(key, now, now - p.forgetSeconds * 1000, p.free, p.maxSeconds, p.baseSeconds)
    .first<{ attempts: number }>();
  return row?.attempts ?? null;
}

/** When the key's block ends, or null when it has no row. */
export async function keyBlockedUntil(db: D1Database, key: string): Promise<number | null> {
  const b = await db.prepare("SELECT blocked_until FROM login_throttle WHERE key = ?").bind(key).first<{ blocked_until: number }>();
  return b?.blocked_until ?? null;
}

/** Forgets the key's count. */
export async function forgetThrottle(db: D1Database, key: string): Promise<void> {
  await db.prepare("DELETE FROM login_throttle WHERE key = ?").bind(key).run();
}
