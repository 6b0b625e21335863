// What a ChatSession asks of contact history: the queue D1 shows for its interaction (it may have
// been forwarded or moved since the chat opened), and closing the SMS session it carries.

/** The interaction's queue as D1 has it, or null. */
export async function interactionQueue(db: D1Database, tenant: string, interactionId: string): Promise<string | null> {
  const row = await db.prepare("SELECT queue FROM interactions WHERE tenant_id = ? AND id = ?").bind(tenant, interactionId).first<{ queue: string | null }>();
  return row?.queue ?? null;
}

/** Ends the SMS session carried by this chat, so the pair's next SMS starts a new one. */
export const endSmsSession = (db: D1Database, tenant: string, interactionId: string, at: number): D1PreparedStatement =>
  db.prepare("UPDATE sms_sessions SET status = 'ended', ended_at = ? WHERE tenant_id = ? AND interaction_id = ? AND status = 'active'").bind(at, tenant, interactionId);
