// When a callback may be placed: the one read the ingest path needs from the callbacks table.

/** The start of the callback's window, or null when the interaction has no callback row. */
export async function callbackWindowStart(db: D1Database, tenant: string, interactionId: string): Promise<number | null> {
  const cb = await db.prepare("SELECT window_start FROM callbacks WHERE tenant_id = ? AND interaction_id = ?").bind(tenant, interactionId).first<{ window_start: number }>();
  return cb?.window_start ?? null;
}
