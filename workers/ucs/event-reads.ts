// Reads of interaction_events (the writes are all in ./events.ts).

/** Whether anyone but `actor` wrote an event for the interaction at or after `at`: a handoff's
 *  receiver acted on it already. */
export async function eventByOtherSince(db: D1Database, tenant: string, interactionId: string, at: number, actor: string): Promise<boolean> {
  const later = await db.prepare("SELECT 1 AS x FROM interaction_events WHERE tenant_id = ? AND interaction_id = ? AND at >= ? AND actor != ? LIMIT 1").bind(tenant, interactionId, at, actor).first();
  return later !== null;
}

/** When a scheduled interaction is next due: the latest transition to 'scheduled' and its dueAt. */
export async function scheduledDueAt(db: D1Database, tenant: string, interactionId: string): Promise<number | null> {
  const r = await db.prepare("SELECT reason FROM interaction_events WHERE tenant_id = ? AND interaction_id = ? AND to_state = 'scheduled' ORDER BY seq DESC LIMIT 1").bind(tenant, interactionId).first<{ reason: string | null }>();
  const due = r?.reason ? (JSON.parse(r.reason) as { dueAt?: number }).dueAt : undefined;
  return typeof due === "number" ? due : null;
}
