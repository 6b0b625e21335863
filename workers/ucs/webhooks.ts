// Webhook endpoints and their deliveries in D1 (migration 0016). Statements returned unrun where
// callers batch them.

export interface EndpointRow {
  id: string;
  url: string;
  types: string;
  state: "enabled" | "disabled";
  disabled_reason: string | null;
  previous_until: number | null;
  failing_since: number | null;
  cursor: number;
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

export const endpointInsert = (db: D1Database, tenant: string, e: { id: string; url: string; types: string[]; cursor: number; at: number }) =>
  db.prepare("INSERT INTO webhook_endpoints (tenant_id, id, url, types, state, cursor, created_at, updated_at) VALUES (?, ?, ?, ?, 'enabled', ?, ?, ?)").bind(tenant, e.id, e.url, JSON.stringify(e.types), e.cursor, e.at, e.at);

export async function endpoints(db: D1Database, tenant: string, onlyEnabled = false): Promise<EndpointRow[]> {
  const r = await db.prepare(`SELECT * FROM webhook_endpoints WHERE tenant_id = ?${onlyEnabled ? " AND state = 'enabled'" : ""} ORDER BY created_at`).bind(tenant).all<EndpointRow>();
  return r.results;
}

export async function endpoint(db: D1Database, tenant: string, id: string): Promise<EndpointRow | null> {
  return db.prepare("SELECT * FROM webhook_endpoints WHERE tenant_id = ? AND id = ?").bind(tenant, id).first<EndpointRow>();
}

export const endpointUpdate = (db: D1Database, tenant: string, id: string, set: Partial<Pick<EndpointRow, "url" | "types" | "state" | "disabled_reason" | "previous_until" | "failing_since" | "cursor">>, at: number) => {
  const keys = Object.keys(set) as (keyof typeof set)[];
  return db.prepare(`UPDATE webhook_endpoints SET ${keys.map((k) => `${k} = ?`).join(", ")}, updated_at = ? WHERE tenant_id = ? AND id = ?`).bind(...keys.map((k) => set[k] ?? null), at, tenant, id);
};

/** The endpoint, its history and its secrets (named `secrets`). */
export const endpointDelete = (db: D1Database, tenant: string, id: string, secrets: string[]) => [
  db.prepare("DELETE FROM webhook_deliveries WHERE tenant_id = ? AND endpoint_id = ?").bind(tenant, id),
  db.prepare("DELETE FROM webhook_endpoints WHERE tenant_id = ? AND id = ?").bind(tenant, id),
  db.prepare("DELETE FROM tenant_secrets WHERE tenant_id = ? AND name IN (SELECT value FROM json_each(?))").bind(tenant, JSON.stringify(secrets)),
];

/** Deliveries in a range sent again: due now, their attempts counted afresh. */
export const replayRange = (db: D1Database, tenant: string, endpointId: string, from: number, to: number, at: number) =>
  db
    .prepare("UPDATE webhook_deliveries SET state = 'retrying', next_at = ?, attempts = 0, updated_at = ? WHERE tenant_id = ? AND endpoint_id = ? AND seq BETWEEN ? AND ?")
    .bind(at, at, tenant, endpointId, from, to);

/** A delivery about to be attempted (new, or again when replayed). */
export const deliveryUpsert = (db: D1Database, tenant: string, endpointId: string, seq: number, at: number, replay = false) =>
  db
    .prepare(
      `INSERT INTO webhook_deliveries (tenant_id, endpoint_id, seq, state, next_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant_id, endpoint_id, seq) DO ${replay ? "UPDATE SET state = 'retrying', next_at = excluded.next_at, attempts = 0, updated_at = excluded.updated_at" : "NOTHING"}`,
    )
    .bind(tenant, endpointId, seq, replay ? "retrying" : "pending", replay ? at : null, at, at);

export const deliveryResult = (db: D1Database, tenant: string, endpointId: string, seq: number, r: { state: DeliveryRow["state"]; status: number | null; error: string | null; latencyMs: number | null; nextAt: number | null }, at: number) =>
  db
    .prepare("UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, last_status = ?, last_error = ?, latency_ms = ?, next_at = ?, updated_at = ? WHERE tenant_id = ? AND endpoint_id = ? AND seq = ?")
    .bind(r.state, r.status, r.error, r.latencyMs, r.nextAt, at, tenant, endpointId, seq);

export async function deliveriesDue(db: D1Database, tenant: string, now: number, limit = 200): Promise<DeliveryRow[]> {
  const r = await db.prepare("SELECT * FROM webhook_deliveries WHERE tenant_id = ? AND state = 'retrying' AND next_at <= ? ORDER BY next_at LIMIT ?").bind(tenant, now, limit).all<DeliveryRow>();
  return r.results;
}

export async function nextRetryAt(db: D1Database, tenant: string): Promise<number | null> {
  return (await db.prepare("SELECT MIN(next_at) AS n FROM webhook_deliveries WHERE tenant_id = ? AND state = 'retrying'").bind(tenant).first<{ n: number | null }>())?.n ?? null;
}

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
