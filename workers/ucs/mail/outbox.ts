// The local outbox (transport 'outbox'): what would have been sent, written by delivery
// (workers/outbound) and read for the console.
/** Outbox messages, newest first, of one interaction or all. */
export async function outboxMessages(db: D1Database, tenant: string, interactionId: string | null, limit: number): Promise<Record<string, unknown>[]> {
  const r = await db
    .prepare(
      "SELECT id, email_id, interaction_id, mail_from, rcpt_to, subject, size, auto, created_at FROM outbox WHERE tenant_id = ? AND (? IS NULL OR interaction_id = ?) ORDER BY created_at DESC LIMIT ?",
    )
    .bind(tenant, interactionId, interactionId, limit)
    .all<Record<string, unknown>>();
  return r.results;
}

/** Where an outbox message's raw MIME is in R2. */
export async function outboxRawKey(db: D1Database, tenant: string, id: string): Promise<string | null> {
  const m = await db.prepare("SELECT raw_key FROM outbox WHERE tenant_id = ? AND id = ?").bind(tenant, id).first<{ raw_key: string }>();
  return m?.raw_key ?? null;
}

/** Local use: the message kept where GET /api/v1/outbox shows it, once. */
export const outboxInsert = (db: D1Database, o: { tenant: string; id: string; emailId: string; interactionId: string; from: string; rcpt: string[]; subject: string | null; rawKey: string | null; size: number; auto: number; at: number }): D1PreparedStatement =>
  db
    .prepare("INSERT OR IGNORE INTO outbox (tenant_id, id, email_id, interaction_id, mail_from, rcpt_to, subject, raw_key, size, auto, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    .bind(o.tenant, o.id, o.emailId, o.interactionId, o.from, JSON.stringify(o.rcpt), o.subject, o.rawKey, o.size, o.auto, o.at);
