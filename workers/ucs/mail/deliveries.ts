// An outbound message's delivery in contact history: attempts, errors, who was reached, the final
// status. (Its emails row is written by ./emails.ts.) Statements are returned unrun where callers
// batch them.

/** A message to deliver, with its interaction's direction and state. */
export interface DeliveryRow {
  id: string;
  interaction_id: string;
  direction: string;
  status: string;
  raw_key: string | null;
  from_addr: string | null;
  to_addrs: string;
  cc_addrs: string;
  bcc_addrs: string;
  subject: string | null;
  auto: number;
  attempts: number;
  i_direction: string;
  i_state: string;
  delivered_to: string;
}

export function deliveryRow(db: D1Database, tenant: string, emailId: string): Promise<DeliveryRow | null> {
  return db
    .prepare(
      `SELECT e.id, e.interaction_id, e.direction, e.status, e.raw_key, e.from_addr, e.to_addrs, e.cc_addrs, e.bcc_addrs, e.subject, e.auto, e.attempts, e.delivered_to,
         i.direction AS i_direction, i.state AS i_state
       FROM emails e JOIN interactions i ON i.tenant_id = e.tenant_id AND i.id = e.interaction_id WHERE e.tenant_id = ? AND e.id = ?`,
    )
    .bind(tenant, emailId)
    .first<DeliveryRow>();
}

/** The recipients reached so far, so a retry after a partial failure skips them. */
export const deliveredTo = (db: D1Database, tenant: string, emailId: string, reached: string[]): D1PreparedStatement =>
  db.prepare("UPDATE emails SET delivered_to = ? WHERE tenant_id = ? AND id = ?").bind(JSON.stringify(reached), tenant, emailId);

export const deliverySucceeded = (db: D1Database, tenant: string, emailId: string, status: string, transport: string, at: number): D1PreparedStatement =>
  db.prepare("UPDATE emails SET status = ?, attempts = attempts + 1, last_error = NULL, transport = ?, updated_at = ? WHERE tenant_id = ? AND id = ?").bind(status, transport, at, tenant, emailId);

export const deliveryAttemptFailed = (db: D1Database, tenant: string, emailId: string, error: string, at: number): D1PreparedStatement =>
  db.prepare("UPDATE emails SET attempts = attempts + 1, last_error = ?, updated_at = ? WHERE tenant_id = ? AND id = ?").bind(error, at, tenant, emailId);

export const deliveryGaveUp = (db: D1Database, tenant: string, emailId: string, why: string, at: number): D1PreparedStatement =>
  db.prepare("UPDATE emails SET status = 'failed', last_error = COALESCE(last_error, ?), updated_at = ? WHERE tenant_id = ? AND id = ?").bind(why, at, tenant, emailId);
