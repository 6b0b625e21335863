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
