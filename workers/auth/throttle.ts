// Login throttling with exponential backoff, per (tenant, login) and per client IP.
//
// Where the counters live: D1, one row per key (table login_throttle). D1 has a single writer, so
// every upsert sees the one before it: the count is exact across all Workers, like a Durable Object
// would make it, without a new object class and an RPC hop on every login. The check is one indexed
// read and the count one upsert, both cheap next to the PBKDF2 they guard (about 30 ms of CPU).
// workers/ucs/rate-limit.ts's fixed windows are not reused: they cannot grow the wait per failure.
//
// - A login's attempts are counted BEFORE the password hash, atomically (the upsert refuses to count
//   while blocked): a burst of parallel guesses gets at most LOGIN_FREE_ATTEMPTS hash checks.
//   A successful login resets the count.
// - An IP's failures are counted after the check: successes cost nothing, so an office of agents
//   behind one address can all log in; a blocked IP is refused before the hash.
// - After the free attempts, each one blocks the next for BASE × 2^(n − free − 1) seconds, up to
//   MAX; a key left alone for THROTTLE_FORGET_SECONDS starts again from zero.
import { AppError } from "../kernel/errors.ts";

export interface ThrottlePolicy {
  free: number;
  baseSeconds: number;
  maxSeconds: number;
}

export const LOGIN_THROTTLE: ThrottlePolicy = { free: 5, baseSeconds: 1, maxSeconds: 900 };
export const IP_THROTTLE: ThrottlePolicy = { free: 20, baseSeconds: 1, maxSeconds: 900 };
export const THROTTLE_FORGET_SECONDS = 3600;

/** The wait after the n-th counted attempt (the same rule as the SQL below, for docs and tests). */
export function backoffSeconds(n: number, p: ThrottlePolicy): number {
  return n <= p.free ? 0 : Math.min(p.maxSeconds, p.baseSeconds * 2 ** Math.min(30, n - p.free - 1));
}

export const loginKey = (tenant: string, login: string) => `login:${JSON.stringify([tenant, login.toLowerCase()])}`;
export const ipKey = (ip: string) => `ip:${ip}`;

const tooMany = (until: number, now: number) => {
  const retryAfterSeconds = Math.max(1, Math.ceil((until - now) / 1000));
  return new AppError(429, "too_many_attempts", `too many login attempts; try again in ${retryAfterSeconds} s`, { retryAfterSeconds });
};

/** 429 if any of these keys is blocked now. */
export async function checkNotBlocked(db: D1Database, keys: string[], now = Date.now()): Promise<void> {
  const r = await db.prepare("SELECT MAX(blocked_until) AS until FROM login_throttle WHERE key IN (SELECT value FROM json_each(?)) AND blocked_until > ?")
    .bind(JSON.stringify(keys), now).first<{ until: number | null }>();
  if (r?.until) throw tooMany(r.until, now);
}

/** Counts one attempt against the key and sets its backoff, atomically; 429 if it is blocked. */
export async function countAttempt(db: D1Database, key: string, p: ThrottlePolicy, now = Date.now()): Promise<void> {
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
    .bind(key, now, now - THROTTLE_FORGET_SECONDS * 1000, p.free, p.maxSeconds, p.baseSeconds)
    .first<{ attempts: number }>();
  if (row) return;
  // Not counted: blocked (by a parallel attempt, maybe). The wait, for Retry-After.
  const b = await db.prepare("SELECT blocked_until FROM login_throttle WHERE key = ?").bind(key).first<{ blocked_until: number }>();
  throw tooMany(b?.blocked_until ?? now + 1000, now);
}

/** A successful login: the login's count starts again. */
export async function resetAttempts(db: D1Database, key: string): Promise<void> {
  await db.prepare("DELETE FROM login_throttle WHERE key = ?").bind(key).run();
}
