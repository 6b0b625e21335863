// Per-client rate limits for the public endpoints (form posts, callback requests).
import { AppError } from "../kernel/errors.ts";
import { hitRate, rateStatement } from "../ucs/rate-limit.ts";

/** The caller's IP as Cloudflare saw it; requests without one (local tools) share one bucket. */
export const clientIp = (req: Request): string => req.headers.get("CF-Connecting-IP") ?? "unknown";

/** Counts a hit; over the limit → 429, with the wait in details (the CORS wrapper turns it into Retry-After). */
export async function enforceRate(db: D1Database, key: string, limit: { max: number; perSeconds: number }): Promise<void> {
  const r = await hitRate(db, key, limit.max, limit.perSeconds);
  if (!r.allowed) throw new AppError(429, "rate_limited", `too many requests; try again in ${r.retryAfterSeconds} s`, { retryAfterSeconds: r.retryAfterSeconds });
}

/** enforceRate in two halves: the statement to batch with a door's reads, then the check on its result. */
export function rateCheck(db: D1Database, key: string, limit: { max: number; perSeconds: number }): { stmt: D1PreparedStatement; enforce: (r: D1Result) => void } {
  const r = rateStatement(db, key, limit.max, limit.perSeconds);
  return {
    stmt: r.stmt,
    enforce: (res) => {
      const v = r.verdict(res);
      if (!v.allowed) throw new AppError(429, "rate_limited", `too many requests; try again in ${v.retryAfterSeconds} s`, { retryAfterSeconds: v.retryAfterSeconds });
    },
  };
}
