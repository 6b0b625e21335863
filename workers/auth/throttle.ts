// Login throttling with exponential backoff, per (tenant, login) and per client IP.
//
// Where the counters live: D1, one row per key (table login_throttle). D1 has a single writer, so
// every upsert sees the one before it: the count is exact across all Workers, like a Durable Object
// would make it, without a new object class and an RPC hop on every login. The check is one indexed
// read and the count one upsert, both cheap next to the PBKDF2 they guard (about 30 ms of CPU);
// their SQL is in workers/ucs/auth.ts.
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
import { blockedUntil, countThrottled, forgetThrottle, keyBlockedUntil } from "../ucs/auth.ts";

export interface ThrottlePolicy {
  free: number;
  baseSeconds: number;
  maxSeconds: number;
}

export const LOGIN_THROTTLE: ThrottlePolicy = { free: 5, baseSeconds: 1, maxSeconds: 900 };
export const IP_THROTTLE: ThrottlePolicy = { free: 20, baseSeconds: 1, maxSeconds: 900 };
export const THROTTLE_FORGET_SECONDS = 3600;

/** The wait after the n-th counted attempt (the same rule as the upsert in workers/ucs/auth.ts, for docs and tests). */
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
  const until = await blockedUntil(db, keys, now);
  if (until) throw tooMany(until, now);
}

/** Counts one attempt against the key and sets its backoff, atomically; 429 if it is blocked. */
export async function countAttempt(db: D1Database, key: string, p: ThrottlePolicy, now = Date.now()): Promise<void> {
  if ((await countThrottled(db, key, { ...p, forgetSeconds: THROTTLE_FORGET_SECONDS }, now)) !== null) return;
  // Not counted: blocked (by a parallel attempt, maybe). The wait, for Retry-After.
  throw tooMany((await keyBlockedUntil(db, key)) ?? now + 1000, now);
}

/** A successful login: the login's count starts again. */
export async function resetAttempts(db: D1Database, key: string): Promise<void> {
  await forgetThrottle(db, key);
}
