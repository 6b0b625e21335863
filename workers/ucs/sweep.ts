// What the scheduled sweep asks of D1: sends and reviews held too long, sends that lost their
// delivery job, and SMS interrupted while handed to the provider. A shard-wide statement leaves out
// tenants being moved (tenant_fences): their rows are frozen on one side and being copied on the other.
const NOT_MOVING = "AND tenant_id NOT IN (SELECT tenant_id FROM tenant_fences)";

/** Sends ('claimed') and reviews ('reviewing') held since before `before` go back to where they were. */
export async function releaseHeldMessages(db: D1Database, now: number, before: number): Promise<number> {
  const [claimed, reviewing] = await db.batch([
    db.prepare(`UPDATE emails SET status = 'draft', updated_at = ? WHERE status = 'claimed' AND updated_at < ? ${NOT_MOVING}`).bind(now, before),
    db.prepare(`UPDATE emails SET status = 'review', updated_at = ? WHERE status = 'reviewing' AND updated_at < ? ${NOT_MOVING}`).bind(now, before),
  ]);
  return (claimed?.meta.changes ?? 0) + (reviewing?.meta.changes ?? 0);
}

/** Mails or SMS still 'sending' untouched since before `before`: their delivery job was lost. */
export async function lostSends(db: D1Database, table: "emails" | "sms_messages" | "social_messages", before: number, limit = 200): Promise<{ tenant_id: string; id: string }[]> {
  const sql =
    table === "emails"
      ? `SELECT tenant_id, id FROM emails WHERE status = 'sending' AND updated_at < ? ${NOT_MOVING} LIMIT ?`
      : table === "sms_messages"
        ? `SELECT tenant_id, id FROM sms_messages WHERE status = 'sending' AND direction = 'outbound' AND updated_at < ? ${NOT_MOVING} LIMIT ?`
        : `SELECT tenant_id, id FROM social_messages WHERE state = 'sending' AND direction = 'out' AND updated_at < ? ${NOT_MOVING} LIMIT ?`;
  return (await db.prepare(sql).bind(before, limit).all<{ tenant_id: string; id: string }>()).results;
}

/** Marks a lost send as requeued now, so the next sweep does not queue it again. */
export const touchSend = (db: D1Database, table: "emails" | "sms_messages" | "social_messages", tenant: string, id: string, now: number): D1PreparedStatement =>
  db.prepare(`UPDATE ${table} SET updated_at = ? WHERE tenant_id = ? AND id = ?`).bind(now, tenant, id);

/** A social message interrupted while handed to the provider: marked so, never sent twice. */
export const failInterruptedSocial = (db: D1Database, now: number, before: number): D1PreparedStatement =>
  db.prepare(`UPDATE social_messages SET state = 'failed', error = 'interrupted while handed to the provider: it may or may not have been sent', updated_at = ? WHERE state = 'handing' AND updated_at < ? ${NOT_MOVING}`).bind(now, before);

/** An SMS interrupted while handed to the provider may or may not have gone out: marked so, never sent twice. */
export const failInterruptedSms = (db: D1Database, now: number, before: number): D1PreparedStatement =>
  db.prepare(`UPDATE sms_messages SET status = 'failed', error = 'interrupted while handed to the provider: it may or may not have been sent', updated_at = ? WHERE status = 'handing' AND updated_at < ? ${NOT_MOVING}`).bind(now, before);
