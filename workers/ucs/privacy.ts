// What erasure, retention and export ask of D1 (docs/privacy.md). Lists travel as one JSON parameter
// (`IN (SELECT value FROM json_each(?))`), so a slice of any size stays one statement under D1's
// bound-parameter limit.

/** An interaction in a slice: what says which objects and blobs it touched. */
export interface SliceItem {
  id: string;
  media: string;
  state: string;
}

/** States in which some object still works on an interaction: erasing it then would race that object. */
export const LIVE_STATES = ["new", "queued", "offered", "handling", "workbin", "scheduled", "sending"] as const;

const IN = (n: number) => `IN (SELECT value FROM json_each(?${n}))`;

/** The person behind a contact id: the surviving contact and every contact merged into it. Null when unknown. */
export async function contactScope(db: D1Database, tenant: string, id: string): Promise<string[] | null> {
  const row = await db.prepare("SELECT id, merged_into FROM contacts WHERE tenant_id = ? AND id = ?").bind(tenant, id).first<{ id: string; merged_into: string | null }>();
  if (!row) return null;
  const survivor = row.merged_into ?? row.id;
  const merged = await db.prepare("SELECT id FROM contacts WHERE tenant_id = ? AND merged_into = ? LIMIT 1000").bind(tenant, survivor).all<{ id: string }>();
  return [survivor, ...merged.results.map((r) => r.id)];
}

/** The contact's interactions still in a live state (an erasure waits until they are finished). */
export async function liveInteractions(db: D1Database, tenant: string, contacts: string[]): Promise<{ id: string; state: string }[]> {
  const r = await db
    .prepare(`SELECT id, state FROM interactions WHERE tenant_id = ?1 AND contact_id ${IN(2)} AND state IN (${LIVE_STATES.map((s) => `'${s}'`).join(", ")}) LIMIT 20`)
    .bind(tenant, JSON.stringify(contacts))
    .all<{ id: string; state: string }>();
  return r.results;
}

/** The next slice of the contact's interactions, with every reply and forward made from them at any
 *  depth (a forward names no contact, and would be out of reach once its original is gone). */
export async function nextContactSlice(db: D1Database, tenant: string, contacts: string[], limit: number): Promise<SliceItem[]> {
  const r = await db
    .prepare(
      `WITH RECURSIVE own AS (SELECT id FROM interactions WHERE tenant_id = ?1 AND contact_id ${IN(2)} ORDER BY created_at LIMIT ?3),
       family(id) AS (SELECT id FROM own UNION SELECT i.id FROM interactions i JOIN family f ON i.tenant_id = ?1 AND i.parent_id = f.id)
       SELECT i.id, i.media, i.state FROM interactions i JOIN family f ON i.tenant_id = ?1 AND i.id = f.id`,
    )
    .bind(tenant, JSON.stringify(contacts), limit)
    .all<SliceItem>();
  return r.results;
}

/** Finished interactions older than `before` that the retention policy has not dealt with yet. */
export async function retentionSlice(db: D1Database, tenant: string, before: number, limit: number): Promise<SliceItem[]> {
  const r = await db
    .prepare("SELECT id, media, state FROM interactions WHERE tenant_id = ? AND anonymised_at IS NULL AND state IN ('done', 'stopped', 'failed') AND updated_at < ? ORDER BY updated_at LIMIT ?")
    .bind(tenant, before, limit)
    .all<SliceItem>();
  return r.results;
}

/** Every queue and agent that ever held these interactions: their objects may keep traces (outboxes, workbins). */
export async function objectsTouched(db: D1Database, tenant: string, ids: string[]): Promise<{ queues: string[]; agents: string[] }> {
  const [q, a] = await db.batch<{ v: string }>([
    db.prepare(`SELECT DISTINCT queue AS v FROM interaction_events WHERE tenant_id = ?1 AND interaction_id ${IN(2)} AND queue IS NOT NULL
                UNION SELECT queue FROM interactions WHERE tenant_id = ?1 AND id ${IN(2)} AND queue IS NOT NULL`).bind(tenant, JSON.stringify(ids)),
    db.prepare(`SELECT DISTINCT agent_id AS v FROM interaction_events WHERE tenant_id = ?1 AND interaction_id ${IN(2)} AND agent_id IS NOT NULL
                UNION SELECT agent_id FROM interactions WHERE tenant_id = ?1 AND id ${IN(2)} AND agent_id IS NOT NULL`).bind(tenant, JSON.stringify(ids)),
  ]);
  return { queues: q!.results.map((r) => r.v), agents: a!.results.map((r) => r.v) };
}

/** The R2 keys these interactions' rows point at: raw mail in and out, attachments, chat files, media. */
export async function blobsOf(db: D1Database, tenant: string, ids: string[]): Promise<string[]> {
  const r = await db
    .prepare(
      `SELECT r2_key AS k FROM message_parts WHERE tenant_id = ?1 AND interaction_id ${IN(2)} AND r2_key IS NOT NULL
       UNION SELECT raw_key FROM emails WHERE tenant_id = ?1 AND interaction_id ${IN(2)} AND raw_key IS NOT NULL
       UNION SELECT raw_key FROM outbox WHERE tenant_id = ?1 AND interaction_id ${IN(2)}
       UNION SELECT file_key FROM chat_messages WHERE tenant_id = ?1 AND interaction_id ${IN(2)} AND file_key IS NOT NULL
       UNION SELECT m.r2_key FROM social_media m JOIN social_messages s ON s.tenant_id = m.tenant_id AND s.id = m.message_id
         WHERE m.tenant_id = ?1 AND s.interaction_id ${IN(2)} AND m.r2_key IS NOT NULL`,
    )
    .bind(tenant, JSON.stringify(ids))
    .all<{ k: string }>();
  return r.results.map((x) => x.k);
}

export type Mode = "erase" | "anonymise";

/** A statement of a removal batch: what the receipt counts it as (null: not counted), and how — the
 *  rows it changed, or the `n` it selects ("rows", for what is counted before it is deleted). */
export type Step = [name: string | null, stmt: D1PreparedStatement, count?: "rows"];

/** One slice's removal, as one atomic batch of named statements (the names become the receipt's
 *  counts). `blobs` are recorded as pending in the same batch. Erase deletes the interactions and
 *  their history; anonymise keeps both for statistics, without a word the customer wrote or an
 *  identifier, and the history without its reasons. */
export function sliceStatements(db: D1Database, tenant: string, ids: string[], blobs: string[], mode: Mode, now: number): Step[] {
  const j = JSON.stringify(ids);
  // ?1 the tenant, ?2 the ids, ?3 the time (bound only where used: D1 refuses unused parameters).
  const on = (sql: string) => (sql.includes("?3") ? db.prepare(sql).bind(tenant, j, now) : db.prepare(sql).bind(tenant, j));
  const del = (table: string, col = "interaction_id") => on(`DELETE FROM ${table} WHERE tenant_id = ?1 AND ${col} ${IN(2)}`);
  const st: Step[] = [
    [null, db.prepare("INSERT INTO pending_blob_deletes (tenant_id, r2_key, at) SELECT ?1, value, ?3 FROM json_each(?2) WHERE true ON CONFLICT DO NOTHING").bind(tenant, JSON.stringify(blobs), now)],
    ["message_parts", del("message_parts")],
    ["emails", del("emails")],
    ["email_refs", del("email_refs")],
    // A mail thread goes (erase) or loses its subject (anonymise) once none of its interactions is left untouched.
    mode === "erase"
      ? ["email_threads", on(`DELETE FROM email_threads WHERE tenant_id = ?1 AND thread_id IN (SELECT thread_id FROM interactions WHERE tenant_id = ?1 AND id ${IN(2)})
           AND NOT EXISTS (SELECT 1 FROM interactions o WHERE o.tenant_id = ?1 AND o.thread_id = email_threads.thread_id AND o.id NOT ${IN(2)})`)]
      : ["email_threads", on(`UPDATE email_threads SET subject_norm = '', contact_id = NULL WHERE tenant_id = ?1 AND thread_id IN (SELECT thread_id FROM interactions WHERE tenant_id = ?1 AND id ${IN(2)})`)],
    ["outbox", del("outbox")],
    ["callbacks", del("callbacks")],
    ["chats", del("chats")],
    ["chat_messages", del("chat_messages")],
    ["sms_sessions", del("sms_sessions")],
    ["sms_messages", del("sms_messages")],
    ["social_media", on(`DELETE FROM social_media WHERE tenant_id = ?1 AND message_id IN (SELECT id FROM social_messages WHERE tenant_id = ?1 AND interaction_id ${IN(2)})`)],
    ["social_messages", del("social_messages")],
    ["social_threads", on(`UPDATE social_threads SET interaction_id = NULL, updated_at = ?3 WHERE tenant_id = ?1 AND interaction_id ${IN(2)}`)],
    ["classifications", del("interaction_classifications")],
    ["training_examples", del("classifier_examples")],
    ["notes", del("notes")],
    // Full-text entries are found by a scan (FTS5 indexes only their words): one per slice, bounded by the index's size.
    // (FTS5 reports its shadow tables' writes as changes: the entries are counted first.)
    ["search_entries", on(`SELECT COUNT(*) AS n FROM search_index WHERE tenant_id = ?1 AND kind = 'message' AND ref ${IN(2)}`), "rows"],
    [null, on(`DELETE FROM search_index WHERE tenant_id = ?1 AND kind = 'message' AND ref ${IN(2)}`)],
    [null, on(`INSERT INTO erasure_grants (tenant_id, interaction_id) SELECT ?1, value FROM json_each(?2) WHERE true ON CONFLICT DO NOTHING`)],
  ];
  if (mode === "erase") {
    st.push(
      ["history", del("interaction_events")],
      ["log_events", on(`UPDATE event_log SET data = NULL, origin = NULL, erased_at = ?3 WHERE tenant_id = ?1 AND subject ${IN(2)} AND erased_at IS NULL`)],
      ["interactions", del("interactions", "id")],
    );
  } else {
    st.push(
      ["history", on(`UPDATE interaction_events SET reason = NULL WHERE tenant_id = ?1 AND interaction_id ${IN(2)} AND reason IS NOT NULL`)],
      ["log_events", on(`UPDATE event_log SET data = json_remove(data, '$.reason', '$.text', '$.subject'), origin = NULL WHERE tenant_id = ?1 AND subject ${IN(2)} AND data IS NOT NULL`)],
      ["interactions", on(`UPDATE interactions SET subject = NULL, contact_id = NULL, external_id = NULL, attributes = '{}', anonymised_at = ?3 WHERE tenant_id = ?1 AND id ${IN(2)}`)],
    );
  }
  st.push([null, on(`DELETE FROM erasure_grants WHERE tenant_id = ?1 AND interaction_id ${IN(2)}`)]);
  return st;
}

/** The contact itself, once its interactions are gone: identifiers, names, notes, threads, what was
 *  filed under its phone numbers and addresses, its search entries and its log events' payloads. */
export function contactStatements(db: D1Database, tenant: string, contacts: string[], now: number): Step[] {
  const on = (sql: string) => (sql.includes("?3") ? db.prepare(sql).bind(tenant, JSON.stringify(contacts), now) : db.prepare(sql).bind(tenant, JSON.stringify(contacts)));
  const values = (kind: string) => `(SELECT value FROM contact_identifiers WHERE tenant_id = ?1 AND kind = '${kind}' AND contact_id ${IN(2)})`;
  const threads = `SELECT channel, account_id, user_id FROM social_threads WHERE tenant_id = ?1 AND contact_id ${IN(2)}`;
  return [
    ["sms_messages", on(`DELETE FROM sms_messages WHERE tenant_id = ?1 AND customer IN ${values("phone")}`)],
    ["sms_sessions", on(`DELETE FROM sms_sessions WHERE tenant_id = ?1 AND customer IN ${values("phone")}`)],
    ["sms_opt_outs", on(`DELETE FROM sms_opt_outs WHERE tenant_id = ?1 AND customer IN ${values("phone")}`)],
    ["rate_counters", on(`DELETE FROM rate_counters WHERE key IN (SELECT 'auto:' || ?1 || ':' || value FROM contact_identifiers WHERE tenant_id = ?1 AND contact_id ${IN(2)})`)],
    // Media of the contact's messages that never joined an interaction: their bytes are deleted too.
    [null, on(`INSERT INTO pending_blob_deletes (tenant_id, r2_key, at) SELECT ?1, r2_key, ?3 FROM social_media WHERE tenant_id = ?1 AND r2_key IS NOT NULL
       AND message_id IN (SELECT id FROM social_messages WHERE tenant_id = ?1 AND (channel, account_id, user_id) IN (${threads})) ON CONFLICT DO NOTHING`)],
    ["social_media", on(`DELETE FROM social_media WHERE tenant_id = ?1 AND message_id IN (SELECT id FROM social_messages WHERE tenant_id = ?1 AND (channel, account_id, user_id) IN (${threads}))`)],
    ["social_messages", on(`DELETE FROM social_messages WHERE tenant_id = ?1 AND (channel, account_id, user_id) IN (${threads})`)],
    ["social_threads", on(`DELETE FROM social_threads WHERE tenant_id = ?1 AND contact_id ${IN(2)}`)],
    ["email_threads", on(`DELETE FROM email_threads WHERE tenant_id = ?1 AND contact_id ${IN(2)}`)],
    ["email_refs", on(`DELETE FROM email_refs WHERE tenant_id = ?1 AND contact_id ${IN(2)}`)],
    ["notes", on(`DELETE FROM notes WHERE tenant_id = ?1 AND contact_id ${IN(2)}`)],
    ["search_entries", on(`SELECT COUNT(*) AS n FROM search_index WHERE tenant_id = ?1 AND (contact_id ${IN(2)} OR (kind = 'contact' AND ref ${IN(2)}))`), "rows"],
    [null, on(`DELETE FROM search_index WHERE tenant_id = ?1 AND (contact_id ${IN(2)} OR (kind = 'contact' AND ref ${IN(2)}))`)],
    ["log_events", on(`UPDATE event_log SET data = NULL, origin = NULL, erased_at = ?3 WHERE tenant_id = ?1 AND subject ${IN(2)} AND erased_at IS NULL`)],
    // Its exports' archives go with it.
    [null, on(`INSERT INTO pending_blob_deletes (tenant_id, r2_key, at) SELECT ?1, r2_key, ?3 FROM exports WHERE tenant_id = ?1 AND contact_id ${IN(2)} ON CONFLICT DO NOTHING`)],
    ["exports", on(`DELETE FROM exports WHERE tenant_id = ?1 AND contact_id ${IN(2)}`)],
    ["identifiers", on(`DELETE FROM contact_identifiers WHERE tenant_id = ?1 AND contact_id ${IN(2)}`)],
    ["contacts", on(`DELETE FROM contacts WHERE tenant_id = ?1 AND id ${IN(2)}`)],
  ];
}

/** Merges the words' deletions into the full-text index, so no deleted term lingers in its segments. */
export const optimizeSearch = (db: D1Database) => db.prepare("INSERT INTO search_index (search_index) VALUES ('optimize')");

/** Pending blob deletions of a tenant (oldest first), and their end once R2 has dropped them. A
 *  content-addressed blob (an attachment's or a message's hash) still named by a row elsewhere stays. */
export async function pendingBlobs(db: D1Database, tenant: string, limit: number): Promise<{ key: string; shared: boolean }[]> {
  const r = await db
    .prepare(
      `SELECT p.r2_key AS key,
         EXISTS (SELECT 1 FROM message_parts WHERE tenant_id = p.tenant_id AND r2_key = p.r2_key)
         OR EXISTS (SELECT 1 FROM emails WHERE tenant_id = p.tenant_id AND raw_key = p.r2_key) AS shared
       FROM pending_blob_deletes p WHERE p.tenant_id = ? ORDER BY p.at LIMIT ?`,
    )
    .bind(tenant, limit)
    .all<{ key: string; shared: number }>();
  return r.results.map((x) => ({ key: x.key, shared: x.shared === 1 }));
}

export const blobsDone = (db: D1Database, tenant: string, keys: string[]) =>
  db.prepare(`DELETE FROM pending_blob_deletes WHERE tenant_id = ?1 AND r2_key ${IN(2)}`).bind(tenant, JSON.stringify(keys));

export const tenantsWithPendingBlobs = async (db: D1Database): Promise<string[]> =>
  (await db.prepare("SELECT DISTINCT tenant_id AS t FROM pending_blob_deletes LIMIT 100").all<{ t: string }>()).results.map((r) => r.t);

// ----- the erasure job -----

export interface ErasureRow {
  id: string;
  contact_id: string;
  contacts: string;
  state: "running" | "done";
  removed: string;
  requested_by: string;
  receipt: string | null;
  started_at: number;
  finished_at: number | null;
}

export const erasureFor = (db: D1Database, tenant: string, contact: string) =>
  db.prepare("SELECT * FROM erasures WHERE tenant_id = ? AND (contact_id = ? OR EXISTS (SELECT 1 FROM json_each(contacts) WHERE value = ?))").bind(tenant, contact, contact).first<ErasureRow>();

export const erasureById = (db: D1Database, tenant: string, id: string) => db.prepare("SELECT * FROM erasures WHERE tenant_id = ? AND id = ?").bind(tenant, id).first<ErasureRow>();

/** Starts the job, or answers the one already there for this contact (a second request is the same job). */
export async function startErasure(db: D1Database, tenant: string, e: { id: string; contact: string; contacts: string[]; by: string; at: number }): Promise<ErasureRow> {
  await db
    .prepare("INSERT INTO erasures (tenant_id, id, contact_id, contacts, state, requested_by, started_at, updated_at) VALUES (?, ?, ?, ?, 'running', ?, ?, ?) ON CONFLICT DO NOTHING")
    .bind(tenant, e.id, e.contact, JSON.stringify(e.contacts), e.by, e.at, e.at)
    .run();
  return (await erasureFor(db, tenant, e.contact))!;
}

export const erasureProgress = (db: D1Database, tenant: string, id: string, removed: Record<string, number>, now: number) =>
  db.prepare("UPDATE erasures SET removed = ?, updated_at = ? WHERE tenant_id = ? AND id = ?").bind(JSON.stringify(removed), now, tenant, id);

export const erasureDone = (db: D1Database, tenant: string, id: string, removed: Record<string, number>, receipt: string, now: number) =>
  db.prepare("UPDATE erasures SET state = 'done', removed = ?, receipt = ?, finished_at = ?, updated_at = ? WHERE tenant_id = ? AND id = ? AND state = 'running'").bind(JSON.stringify(removed), receipt, now, now, tenant, id);

/** Jobs left running by a request that ended before they did: the sweep carries them on. */
export const stalledErasures = async (db: D1Database, before: number): Promise<{ tenant_id: string; contact_id: string }[]> =>
  (await db.prepare("SELECT tenant_id, contact_id FROM erasures WHERE state = 'running' AND updated_at < ? ORDER BY updated_at LIMIT 10").bind(before).all<{ tenant_id: string; contact_id: string }>()).results;
