// What a contact's export reads from D1 (docs/privacy.md): the contact and its identifiers, then its
// interactions page by page with everything filed under them.
const IN = "IN (SELECT value FROM json_each(?2))";

export type Row = Record<string, unknown>;

export async function exportContactRows(db: D1Database, tenant: string, contacts: string[]): Promise<{ contacts: Row[]; identifiers: Row[]; notes: Row[] }> {
  const j = JSON.stringify(contacts);
  const [c, i, n] = await db.batch<Row>([
    db.prepare(`SELECT id, first_name, last_name, merged_into, created_at, updated_at FROM contacts WHERE tenant_id = ?1 AND id ${IN}`).bind(tenant, j),
    db.prepare(`SELECT kind, value, display, contact_id, created_at FROM contact_identifiers WHERE tenant_id = ?1 AND contact_id ${IN} ORDER BY kind, value`).bind(tenant, j),
    db.prepare(`SELECT id, author, text, created_at FROM notes WHERE tenant_id = ?1 AND contact_id ${IN} AND interaction_id IS NULL ORDER BY created_at`).bind(tenant, j),
  ]);
  return { contacts: c!.results, identifiers: i!.results, notes: n!.results };
}

/** One page of the contact's own interactions after `after` (created_at, id), with every reply and
 *  forward made from them at any depth. */
export async function exportInteractionPage(db: D1Database, tenant: string, contacts: string[], after: { at: number; id: string }, limit: number): Promise<Row[]> {
  const r = await db
    .prepare(
      `WITH RECURSIVE own AS (SELECT id FROM interactions WHERE tenant_id = ?1 AND contact_id ${IN} AND (created_at, id) > (?3, ?4) ORDER BY created_at, id LIMIT ?5),
       -- (a reply that names the contact itself comes on its own page, not twice)
       family(id) AS (SELECT id FROM own UNION SELECT i.id FROM interactions i JOIN family f ON i.tenant_id = ?1 AND i.parent_id = f.id
                      WHERE i.contact_id IS NULL OR i.contact_id NOT ${IN})
       SELECT i.id, i.media, i.channel, i.direction, i.subject, i.thread_id, i.parent_id, i.contact_id, i.state, i.queue, i.agent_id, i.priority, i.categories, i.attributes,
              i.created_at, i.updated_at, i.done_at, i.id IN (SELECT id FROM own) AS own
       FROM interactions i JOIN family f ON i.tenant_id = ?1 AND i.id = f.id ORDER BY i.created_at, i.id`,
    )
    .bind(tenant, JSON.stringify(contacts), after.at, after.id, limit)
    .all<Row>();
  return r.results;
}

/** Everything filed under these interactions, by kind; each row names its interaction. */
export async function exportDetails(db: D1Database, tenant: string, ids: string[]): Promise<Record<string, Row[]>> {
  const j = JSON.stringify(ids);
  const q = (sql: string) => db.prepare(sql).bind(tenant, j);
  const names = ["history", "emails", "parts", "chat", "sms", "social", "media", "notes", "classifications", "callbacks"] as const;
  const res = await db.batch<Row>([
    q(`SELECT interaction_id, at, actor, action, from_state, to_state, queue, agent_id FROM interaction_events WHERE tenant_id = ?1 AND interaction_id ${IN} ORDER BY seq`),
    q(`SELECT interaction_id, id, direction, message_id, from_addr, from_name, to_addrs, cc_addrs, subject, date, status, created_at FROM emails WHERE tenant_id = ?1 AND interaction_id ${IN} ORDER BY created_at`),
    q(`SELECT interaction_id, email_id, seq, kind, content, r2_key, content_type, name, size, sha256 FROM message_parts WHERE tenant_id = ?1 AND interaction_id ${IN} ORDER BY interaction_id, seq`),
    q(`SELECT interaction_id, seq, author_name, role, kind, text, at, file_key, file_type, file_size FROM chat_messages WHERE tenant_id = ?1 AND interaction_id ${IN} AND visibility = 'all' ORDER BY interaction_id, seq`),
    q(`SELECT interaction_id, direction, center, customer, body, status, created_at FROM sms_messages WHERE tenant_id = ?1 AND interaction_id ${IN} ORDER BY created_at`),
    q(`SELECT interaction_id, id, channel, direction, kind, body, state, created_at FROM social_messages WHERE tenant_id = ?1 AND interaction_id ${IN} ORDER BY created_at`),
    q(`SELECT s.interaction_id, m.message_id, m.idx, m.r2_key, m.content_type, m.name, m.size FROM social_media m JOIN social_messages s ON s.tenant_id = m.tenant_id AND s.id = m.message_id
       WHERE m.tenant_id = ?1 AND s.interaction_id ${IN} AND m.state = 'stored'`),
    q(`SELECT interaction_id, id, author, text, created_at FROM notes WHERE tenant_id = ?1 AND interaction_id ${IN} ORDER BY created_at`),
    q(`SELECT interaction_id, categories, confirmed, created_at FROM interaction_classifications WHERE tenant_id = ?1 AND interaction_id ${IN}`),
    q(`SELECT interaction_id, phone, name, topic, window_start, window_end, outcome FROM callbacks WHERE tenant_id = ?1 AND interaction_id ${IN}`),
  ]);
  return Object.fromEntries(names.map((n, i) => [n, res[i]!.results]));
}

/** The export's record, unless an erasure of the contact has begun (then nothing is written). */
export const recordExport = (db: D1Database, e: { tenant: string; id: string; contact: string; key: string; size: number; files: number; by: string; at: number; expires: number }) =>
  db
    .prepare(
      `INSERT INTO exports (tenant_id, id, contact_id, r2_key, size, files, requested_by, created_at, expires_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9
       WHERE NOT EXISTS (SELECT 1 FROM erasures WHERE tenant_id = ?1 AND (contact_id = ?3 OR EXISTS (SELECT 1 FROM json_each(contacts) WHERE value = ?3)))`,
    )
    .bind(e.tenant, e.id, e.contact, e.key, e.size, e.files, e.by, e.at, e.expires);

export const exportById = (db: D1Database, tenant: string, id: string) =>
  db.prepare("SELECT r2_key, contact_id, expires_at FROM exports WHERE tenant_id = ? AND id = ?").bind(tenant, id).first<{ r2_key: string; contact_id: string; expires_at: number }>();

export async function expiredExports(db: D1Database, now: number): Promise<{ tenant_id: string; id: string; r2_key: string }[]> {
  return (await db.prepare("SELECT tenant_id, id, r2_key FROM exports WHERE expires_at < ? LIMIT 100").bind(now).all<{ tenant_id: string; id: string; r2_key: string }>()).results;
}

export const exportGone = (db: D1Database, tenant: string, id: string) => db.prepare("DELETE FROM exports WHERE tenant_id = ? AND id = ?").bind(tenant, id);
