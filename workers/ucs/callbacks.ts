// Web callbacks in contact history (the callbacks table): the customer's request, its token's hash,
// the window, attempts and the last outcome, beside the interaction that carries it.

export interface CallbackRow {
  interaction_id: string;
  phone: string;
  name: string | null;
  topic: string | null;
  window_start: number;
  window_end: number;
  token_hash: string;
  attempts: number;
  outcome: string | null;
  created_at: number;
  updated_at: number;
}

export function callbackRow(db: D1Database, tenant: string, interactionId: string): Promise<CallbackRow | null> {
  return db.prepare("SELECT * FROM callbacks WHERE tenant_id = ? AND interaction_id = ?").bind(tenant, interactionId).first<CallbackRow>();
}

/** The start of the callback's window, or null when the interaction has no callback row. */
export async function callbackWindowStart(db: D1Database, tenant: string, interactionId: string): Promise<number | null> {
  return (await callbackRow(db, tenant, interactionId))?.window_start ?? null;
}

/** The request, once per interaction (a repeat heals a first request cut short between its writes). */
export const callbackInsert = (db: D1Database, c: { tenant: string; interactionId: string; phone: string; name: string | null; topic: string | null; start: number; end: number; tokenHash: string; at: number }): D1PreparedStatement =>
  db
    .prepare(
      `INSERT INTO callbacks (tenant_id, interaction_id, phone, name, topic, window_start, window_end, token_hash, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    )
    .bind(c.tenant, c.interactionId, c.phone, c.name, c.topic, c.start, c.end, c.tokenHash, c.at, c.at);

export const callbackCancelled = (db: D1Database, tenant: string, interactionId: string, at: number): D1PreparedStatement =>
  db.prepare("UPDATE callbacks SET outcome = 'cancelled', updated_at = ? WHERE tenant_id = ? AND interaction_id = ?").bind(at, tenant, interactionId);

/** One more attempt, with its outcome. */
export const callbackAttempt = (db: D1Database, tenant: string, interactionId: string, attempts: number, outcome: string, at: number): D1PreparedStatement =>
  db.prepare("UPDATE callbacks SET attempts = ?, outcome = ?, updated_at = ? WHERE tenant_id = ? AND interaction_id = ?").bind(attempts, outcome, at, tenant, interactionId);
