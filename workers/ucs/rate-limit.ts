// Fixed-window counters in D1: one upsert per hit, shared by every Worker. Used for form posts per
// IP, callback requests per IP and automatic replies per sender (the "autowar" guard).
export async function hitRate(db: D1Database, key: string, max: number, perSeconds: number, now = Date.now()): Promise<{ allowed: boolean; count: number; retryAfterSeconds: number }> {
  const period = perSeconds * 1000;
  const windowStart = Math.floor(now / period) * period;
  const r = await db
    .prepare(
      `INSERT INTO rate_counters (key, window_start, count) VALUES (?, ?, 1)
       ON CONFLICT (key) DO UPDATE SET count = CASE WHEN window_start = excluded.window_start THEN count + 1 ELSE 1 END, window_start = excluded.window_start
       RETURNING count`,
    )
    .bind(key, windowStart)
    .first<{ count: number }>();
  const count = r?.count ?? 1;
  return { allowed: count <= max, count, retryAfterSeconds: Math.ceil((windowStart + period - now) / 1000) };
}

/** hitRate as a statement, for a door that batches it with its other reads, and the verdict on its row. */
export function rateStatement(db: D1Database, key: string, max: number, perSeconds: number, now = Date.now()): { stmt: D1PreparedStatement; verdict: (r: D1Result) => { allowed: boolean; retryAfterSeconds: number } } {
  const period = perSeconds * 1000;
  const windowStart = Math.floor(now / period) * period;
  const stmt = db
    .prepare(
      `INSERT INTO rate_counters (key, window_start, count) VALUES (?, ?, 1)
       ON CONFLICT (key) DO UPDATE SET count = CASE WHEN window_start = excluded.window_start THEN count + 1 ELSE 1 END, window_start = excluded.window_start
       RETURNING count`,
    )
    .bind(key, windowStart);
  return { stmt, verdict: (r) => ({ allowed: ((r.results[0] as { count?: number } | undefined)?.count ?? 1) <= max, retryAfterSeconds: Math.ceil((windowStart + period - now) / 1000) }) };
}
