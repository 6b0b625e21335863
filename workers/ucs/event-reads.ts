// Reads of interaction_events (the writes are all in ./events.ts).

/** Whether anyone but `actor` wrote an event for the interaction at or after `at`: a handoff's
 *  receiver acted on it already. */
export async function eventByOtherSince(db: D1Database, tenant: string, interactionId: string, at: number, actor: string): Promise<boolean> {
  const later = await db.prepare("SELECT 1 AS x FROM interaction_events WHERE tenant_id = ? AND interaction_id = ? AND at >= ? AND actor != ? LIMIT 1").bind(tenant, interactionId, at, actor).first();
  return later !== null;
}
