// Small reads of one interaction's row for the doors that must know whether it exists already
// (a retried chat start or form post), what it is (a staff chat caller), where it is now (a chat
// whose interaction was forwarded or moved) or what state it is in (the sweep, a mail's duplicate).
import type { InteractionState } from "./interaction-types.ts";

/** The interaction a door created for this external id (a client's idempotency key), if any. */
export const externalIdStatement = (db: D1Database, tenant: string, externalId: string): D1PreparedStatement =>
  db.prepare("SELECT id, queue, created_at FROM interactions WHERE tenant_id = ? AND external_id = ?").bind(tenant, externalId);

export async function interactionByExternalId(db: D1Database, tenant: string, externalId: string): Promise<{ id: string; queue: string; created_at: number } | null> {
  return db.prepare("SELECT id, queue, created_at FROM interactions WHERE tenant_id = ? AND external_id = ?").bind(tenant, externalId).first<{ id: string; queue: string; created_at: number }>();
}

/** The interaction's media, or null when the tenant has no such interaction. */
export async function interactionMedia(db: D1Database, tenant: string, id: string): Promise<string | null> {
  const row = await db.prepare("SELECT media FROM interactions WHERE tenant_id = ? AND id = ?").bind(tenant, id).first<{ media: string }>();
  return row?.media ?? null;
}

/** The interaction's queue as D1 has it, or null. */
export async function interactionQueue(db: D1Database, tenant: string, interactionId: string): Promise<string | null> {
  const row = await db.prepare("SELECT queue FROM interactions WHERE tenant_id = ? AND id = ?").bind(tenant, interactionId).first<{ queue: string | null }>();
  return row?.queue ?? null;
}

/** The interaction's state and last change, or null when the tenant has no such interaction. */
export function interactionStamp(db: D1Database, tenant: string, id: string): Promise<{ state: InteractionState; updated_at: number } | null> {
  return db.prepare("SELECT state, updated_at FROM interactions WHERE tenant_id = ? AND id = ?").bind(tenant, id).first<{ state: InteractionState; updated_at: number }>();
}
