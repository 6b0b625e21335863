// The per-tenant event log (migration 0015): reads for the pull API, the stream and the audit view,
// and the append of events that are not an interaction's (those come by trigger with their history
// row). Every append takes the next sequence in its own statement: D1 runs one write at a time, so
// sequences are contiguous per tenant, and an append in a batch lands or fails with the batch.

export interface LogRow {
  seq: number;
  type: string;
  subject: string | null;
  at: number;
  actor: string;
  origin: string | null;
  data: string | null;
  erased_at: number | null;
}

export interface NewLogEvent {
  tenant: string;
  type: string;
  subject: string | null;
  at: number;
  actor: string;
  origin?: string | null;
  data?: unknown;
  /** The writer's own reference (an object's outbox entry): a second append with it is skipped. */
  ref?: string;
}

/** The append as SQL and parameters, for a batch built as statements (a config replace). */
export const appendEventSql = (e: NewLogEvent): { sql: string; params: (string | number | null)[] } => ({
  sql: `INSERT INTO event_log (tenant_id, seq, type, subject, at, actor, origin, data, ref)
        VALUES (?1, COALESCE((SELECT MAX(seq) FROM event_log WHERE tenant_id = ?1), 0) + 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)${e.ref === undefined ? "" : " ON CONFLICT (tenant_id, ref) WHERE ref IS NOT NULL DO NOTHING"}`,
  params: [e.tenant, e.type, e.subject, e.at, e.actor, e.origin ?? null, e.data === undefined ? null : JSON.stringify(e.data), e.ref ?? null],
});

export const appendEvent = (db: D1Database, e: NewLogEvent): D1PreparedStatement => {
  const s = appendEventSql(e);
  return db.prepare(s.sql).bind(...s.params);
};

export interface LogQuery {
  after: number;
  limit: number;
  /** Exact types, or prefixes ending in '.' (from "parley.interaction.*"). */
  types?: string[];
  actor?: string;
  subject?: string;
  /** Newest first (the audit view). */
  desc?: boolean;
  before?: number;
}

export async function readLog(db: D1Database, tenant: string, q: LogQuery): Promise<LogRow[]> {
  const where = ["tenant_id = ?"];
  const args: (string | number)[] = [tenant];
  if (q.desc) where.push("seq < ?"), args.push(q.before ?? Number.MAX_SAFE_INTEGER);
  else where.push("seq > ?"), args.push(q.after);
  if (q.types?.length) {
    where.push(`(${q.types.map((t) => (t.endsWith(".") ? "substr(type, 1, ?) = ?" : "type = ?")).join(" OR ")})`);
    for (const t of q.types) t.endsWith(".") ? args.push(t.length, t) : args.push(t);
  }
  if (q.actor) where.push("actor = ?"), args.push(q.actor);
  if (q.subject) where.push("subject = ?"), args.push(q.subject);
  const r = await db
    .prepare(`SELECT seq, type, subject, at, actor, origin, data, erased_at FROM event_log WHERE ${where.join(" AND ")} ORDER BY seq ${q.desc ? "DESC" : "ASC"} LIMIT ?`)
    .bind(...args, q.limit)
    .all<LogRow>();
  return r.results;
}

export async function lastSequence(db: D1Database, tenant: string): Promise<number> {
  return (await db.prepare("SELECT COALESCE(MAX(seq), 0) AS s FROM event_log WHERE tenant_id = ?").bind(tenant).first<{ s: number }>())?.s ?? 0;
}

export async function eventAt(db: D1Database, tenant: string, seq: number): Promise<LogRow | null> {
  return db.prepare("SELECT seq, type, subject, at, actor, origin, data, erased_at FROM event_log WHERE tenant_id = ? AND seq = ?").bind(tenant, seq).first<LogRow>();
}
