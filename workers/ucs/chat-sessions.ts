// Closing the SMS session a ChatSession carried (sms_sessions).

/** Ends the SMS session carried by this chat, so the pair's next SMS starts a new one. */
export const endSmsSession = (db: D1Database, tenant: string, interactionId: string, at: number): D1PreparedStatement =>
  db.prepare("UPDATE sms_sessions SET status = 'ended', ended_at = ? WHERE tenant_id = ? AND interaction_id = ? AND status = 'active'").bind(at, tenant, interactionId);
