// Webhook endpoints and their deliveries in D1 (migrations 0016, 0019). Statements returned unrun where
// callers batch them.
import type { LogRow } from "./event-log.ts";

export interface EndpointRow {
  id: string;
  url: string;
  types: string;
  state: "enabled" | "disabled";
  disabled_reason: string | null;
  previous_until: number | null;
  failing_since: number | null;
  cursor: number;
  /** 1: events about the same subject are delivered in order (one waits for the one before). */
  ordered: number;
  created_at: number;
  updated_at: number;
}

export interface DeliveryRow {
  endpoint_id: string;
  seq: number;
  state: "pending" | "delivered" | "retrying" | "failed";
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  latency_ms: number | null;
  next_at: number | null;
  created_at: number;
  updated_at: number;
}

export const endpointInsert = (db: D1Database, tenant: string, e: { id: string; url: string; types: string[]; ordered: boolean; cursor: number; at: number }) =>
  db.prepare("INSERT INTO webhook_endpoints (tenant_id, id, url, types, ordered, state, cursor, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'enabled', ?, ?, ?)").bind(tenant, e.id, e.url, JSON.stringify(e.types), e.ordered ? 1 : 0, e.cursor, e.at, e.at);

export async function endpoints(db: D1Database, tenant: string, onlyEnabled = false): Promise<EndpointRow[]> {
  const r = await db.prepare(`SELECT * FROM webhook_endpoints WHERE tenant_id = ?${onlyEnabled ? " AND state = 'enabled'" : ""} ORDER BY created_at`).bind(tenant).all<EndpointRow>();
  return r.results;
}

export async function endpoint(db: D1Database, tenant: string, id: string): Promise<EndpointRow | null> {
  return db.prepare("SELECT * FROM webhook_endpoints WHERE tenant_id = ? AND id = ?").bind(tenant, id).first<EndpointRow>();
}

export const endpointUpdate = (db: D1Database, tenant: string, id: string, set: Partial<Pick<EndpointRow, "url" | "types" | "ordered" | "state" | "disabled_reason" | "previous_until" | "failing_since" | "cursor">>, at: number) => {
  const keys = Object.keys(set) as (keyof typeof set)[];
  return db.prepare(`UPDATE webhook_endpoints SET ${keys.map((k) => `${k} = ?`).join(", ")}, updated_at = ? WHERE tenant_id = ? AND id = ?`).bind(...keys.map((k) => set[k] ?? null), at, tenant, id);
};

/** The endpoint, its history and its secrets (named `secrets`). */
export const endpointDelete = (db: D1Database, tenant: string, id: string, secrets: string[]) => [
  db.prepare("DELETE FROM webhook_deliveries WHERE tenant_id = ? AND endpoint_id = ?").bind(tenant, id),
  db.prepare("DELETE FROM webhook_endpoints WHERE tenant_id = ? AND id = ?").bind(tenant, id),
  db.prepare("DELETE FROM tenant_secrets WHERE tenant_id = ? AND name IN (SELECT value FROM json_each(?))").bind(tenant, JSON.stringify(secrets)),
];

/** Deliveries in a range sent again: pending, their attempts counted afresh. Answers their numbers (each gets a message). */
export async function replayRange(db: D1Database, tenant: string, endpointId: string, from: number, to: number, at: number): Promise<number[]> {
  const r = await db
    .prepare("UPDATE webhook_deliveries SET state = 'pending', next_at = NULL, attempts = 0, updated_at = ? WHERE tenant_id = ? AND endpoint_id = ? AND seq BETWEEN ? AND ? RETURNING seq")
    .bind(at, tenant, endpointId, from, to)
    .all<{ seq: number }>();
  return r.results.map((x) => x.seq);
}

/** New deliveries, pending until their messages are taken, in one statement (a second fan-out of the same events adds nothing). */
export const deliveriesInsert = (db: D1Database, tenant: string, endpointId: string, items: { seq: number; subject: string | null }[], at: number) =>
  db
    .prepare(
      `INSERT INTO webhook_deliveries (tenant_id, endpoint_id, seq, subject, state, created_at, updated_at)
       SELECT ?1, ?2, json_extract(value, '$.seq'), json_extract(value, '$.subject'), 'pending', ?3, ?3 FROM json_each(?4) WHERE true
       ON CONFLICT (tenant_id, endpoint_id, seq) DO NOTHING`,
    )
    .bind(tenant, endpointId, at, JSON.stringify(items));

/** How long a consumer holds a delivery it claimed (another batch with a message for it skips it). */
export const CLAIM_MS = 60_000;

/** What a Queue batch's deliveries need, in one round trip: the endpoint, the deliveries this batch
 *  claims (open and due, not held by another batch: a message for anything else is acked), and their
 *  events. A claim holds the delivery for CLAIM_MS, until its outcome is recorded. */
export async function deliveryBatch(db: D1Database, tenant: string, endpointId: string, seqs: number[], now: number): Promise<{ endpoint: EndpointRow | null; deliveries: DeliveryRow[]; events: Map<number, LogRow> }> {
  const j = JSON.stringify(seqs);
  const [ep, ds, evs] = await db.batch<Record<string, unknown>>([
    db.prepare("SELECT * FROM webhook_endpoints WHERE tenant_id = ? AND id = ?").bind(tenant, endpointId),
    db
      .prepare(
        `UPDATE webhook_deliveries SET next_at = ?4, updated_at = ?5 WHERE tenant_id = ?1 AND endpoint_id = ?2 AND seq IN (SELECT value FROM json_each(?3))
         AND state IN ('pending', 'retrying') AND (next_at IS NULL OR next_at <= ?6) AND EXISTS (SELECT 1 FROM webhook_endpoints WHERE tenant_id = ?1 AND id = ?2 AND state = 'enabled')
         RETURNING *`,
      )
      .bind(tenant, endpointId, j, now + CLAIM_MS, now, now + 5_000),
    db.prepare("SELECT seq, type, subject, at, actor, origin, data, erased_at FROM event_log WHERE tenant_id = ? AND seq IN (SELECT value FROM json_each(?))").bind(tenant, j),
  ]);
  return {
    endpoint: (ep!.results[0] as unknown as EndpointRow | undefined) ?? null,
    deliveries: ds!.results as unknown as DeliveryRow[],
    events: new Map((evs!.results as unknown as LogRow[]).map((e) => [e.seq, e])),
  };
}

/** Claimed deliveries an in-order endpoint holds back: free again (a retry due at `due`), and touched,
 *  so the sweep does not take them for lost while their message waits in the Queue. */
export const deliveriesWaiting = (db: D1Database, tenant: string, endpointId: string, seqs: number[], due: number, now: number) =>
  db
    .prepare("UPDATE webhook_deliveries SET next_at = CASE WHEN state = 'retrying' THEN ?1 ELSE NULL END, updated_at = ?2 WHERE tenant_id = ?3 AND endpoint_id = ?4 AND seq IN (SELECT value FROM json_each(?5))")
    .bind(due, now, tenant, endpointId, JSON.stringify(seqs));

/** For in-order endpoints: each subject's deliveries still pending or retrying, oldest first, with when each is next due. */
export async function openBySubject(db: D1Database, tenant: string, endpointId: string, subjects: string[]): Promise<Map<string, { seq: number; next_at: number | null }[]>> {
  const r = await db
    .prepare("SELECT subject, seq, next_at FROM webhook_deliveries WHERE tenant_id = ? AND endpoint_id = ? AND subject IN (SELECT value FROM json_each(?)) AND state IN ('pending', 'retrying') ORDER BY subject, seq LIMIT 5000")
    .bind(tenant, endpointId, JSON.stringify(subjects))
    .all<{ subject: string; seq: number; next_at: number | null }>();
  const out = new Map<string, { seq: number; next_at: number | null }[]>();
  for (const x of r.results) (out.get(x.subject) ?? out.set(x.subject, []).get(x.subject)!).push({ seq: x.seq, next_at: x.next_at });
  return out;
}

/** Deliveries whose message was lost: pending since before `pendingBefore`, or a retry overdue since before `retryBefore`. */
export async function lostDeliveries(db: D1Database, pendingBefore: number, retryBefore: number, limit = 500): Promise<{ tenant_id: string; endpoint_id: string; seq: number }[]> {
  const r = await db
    .prepare(
      `SELECT * FROM (
         SELECT tenant_id, endpoint_id, seq FROM webhook_deliveries WHERE state IN ('pending', 'retrying') AND state = 'pending' AND updated_at < ?1
         UNION ALL
         SELECT tenant_id, endpoint_id, seq FROM webhook_deliveries WHERE state IN ('pending', 'retrying') AND state = 'retrying' AND updated_at < ?2 AND next_at < ?2
       ) d WHERE EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.tenant_id = d.tenant_id AND e.id = d.endpoint_id AND e.state = 'enabled') LIMIT ?3`,
    )
    .bind(pendingBefore, retryBefore, limit)
    .all<{ tenant_id: string; endpoint_id: string; seq: number }>();
  return r.results;
}

/** An endpoint's deliveries still to go (sent again when it is enabled again). */
export async function openDeliveries(db: D1Database, tenant: string, endpointId: string, limit = 5000): Promise<number[]> {
  const r = await db.prepare("SELECT seq FROM webhook_deliveries WHERE tenant_id = ? AND endpoint_id = ? AND state IN ('pending', 'retrying') ORDER BY seq LIMIT ?").bind(tenant, endpointId, limit).all<{ seq: number }>();
  return r.results.map((x) => x.seq);
}

export const deliveriesTouched = (db: D1Database, tenant: string, endpointId: string, seqs: number[], at: number) =>
  db.prepare("UPDATE webhook_deliveries SET updated_at = ? WHERE tenant_id = ? AND endpoint_id = ? AND seq IN (SELECT value FROM json_each(?))").bind(at, tenant, endpointId, JSON.stringify(seqs));

export interface DeliveryResult {
  state: DeliveryRow["state"];
  status: number | null;
  error: string | null;
  latencyMs: number | null;
  nextAt: number | null;
}

/** One delivery's outcome (a pass batches one per delivery: each is a primary-key update). */
export const deliveryResult = (db: D1Database, tenant: string, endpointId: string, seq: number, r: DeliveryResult, at: number) =>
  db
    .prepare("UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, last_status = ?, last_error = ?, latency_ms = ?, next_at = ?, updated_at = ? WHERE tenant_id = ? AND endpoint_id = ? AND seq = ?")
    .bind(r.state, r.status, r.error, r.latencyMs, r.nextAt, at, tenant, endpointId, seq);

export async function deliveryHistory(db: D1Database, tenant: string, endpointId: string, limit: number, state?: string): Promise<DeliveryRow[]> {
  const r = await db
    .prepare(`SELECT * FROM webhook_deliveries WHERE tenant_id = ? AND endpoint_id = ?${state ? " AND state = ?" : ""} ORDER BY seq DESC LIMIT ?`)
    .bind(...[tenant, endpointId, ...(state ? [state] : []), limit])
    .all<DeliveryRow>();
  return r.results;
}

/** Tenants with an enabled endpoint: the sweep keeps their pumps running. */
export async function tenantsWithEndpoints(db: D1Database): Promise<string[]> {
  const r = await db.prepare("SELECT DISTINCT tenant_id AS t FROM webhook_endpoints WHERE state = 'enabled' LIMIT 1000").all<{ t: string }>();
  return r.results.map((x) => x.t);
}
