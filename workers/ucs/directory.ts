// The tenant directory in the control database (migrations/control/): which shard, which
// jurisdiction, which status. The only statements that touch CONTROL.
import type { Jurisdiction } from "../tenancy/shards.ts";

export type TenantStatus = "active" | "suspended" | "deleting";

export interface DirectoryEntry {
  id: string;
  name: string;
  shard: string;
  jurisdiction: Jurisdiction;
  status: TenantStatus;
  statusReason: string | null;
  movingTo: string | null;
  createdAt: number;
  updatedAt: number;
}

interface Row {
  tenant_id: string;
  name: string;
  shard: string;
  jurisdiction: Jurisdiction;
  status: TenantStatus;
  status_reason: string | null;
  moving_to: string | null;
  created_at: number;
  updated_at: number;
}

const entry = (r: Row): DirectoryEntry => ({ id: r.tenant_id, name: r.name, shard: r.shard, jurisdiction: r.jurisdiction, status: r.status, statusReason: r.status_reason, movingTo: r.moving_to, createdAt: r.created_at, updatedAt: r.updated_at });

export async function directoryEntry(control: D1Database, tenant: string): Promise<DirectoryEntry | null> {
  const r = await control.prepare("SELECT * FROM tenant_directory WHERE tenant_id = ?").bind(tenant).first<Row>();
  return r ? entry(r) : null;
}

export async function directoryEntries(control: D1Database, opts: { limit: number; after?: string }): Promise<DirectoryEntry[]> {
  const r = await control.prepare("SELECT * FROM tenant_directory WHERE tenant_id > ? ORDER BY tenant_id LIMIT ?").bind(opts.after ?? "", opts.limit).all<Row>();
  return r.results.map(entry);
}

/** Every tenant id with its shard (the sweep and the cross-shard lookups walk these). */
export async function tenantsOnShard(control: D1Database, shard: string): Promise<string[]> {
  const r = await control.prepare("SELECT tenant_id FROM tenant_directory WHERE shard = ? AND status != 'deleting'").bind(shard).all<{ tenant_id: string }>();
  return r.results.map((x) => x.tenant_id);
}

export async function tenantsPerShard(control: D1Database): Promise<Map<string, number>> {
  const r = await control.prepare("SELECT shard, COUNT(*) AS n FROM tenant_directory GROUP BY shard").all<{ shard: string; n: number }>();
  return new Map(r.results.map((x) => [x.shard, x.n]));
}

/** A new tenant's entry; false when the id is taken. */
export async function insertEntry(control: D1Database, e: Pick<DirectoryEntry, "id" | "name" | "shard" | "jurisdiction">, actor: string, now: number): Promise<boolean> {
  const r = await control.batch([
    control.prepare("INSERT INTO tenant_directory (tenant_id, name, shard, jurisdiction, status, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, 'active', ?, ?, ?) ON CONFLICT (tenant_id) DO NOTHING").bind(e.id, e.name, e.shard, e.jurisdiction, actor, now, now),
    control.prepare("INSERT INTO platform_audit (at, actor, action, tenant_id, data) SELECT ?, ?, 'created', ?, ? WHERE changes() > 0").bind(now, actor, e.id, JSON.stringify({ shard: e.shard, jurisdiction: e.jurisdiction })),
  ]);
  return (r[0]!.meta.changes ?? 0) > 0;
}

export async function removeEntry(control: D1Database, tenant: string): Promise<void> {
  await control.prepare("DELETE FROM tenant_directory WHERE tenant_id = ?").bind(tenant).run();
}

/** Sets the status (with the audit line in the same batch); false when the tenant is unknown. */
export async function setStatus(control: D1Database, tenant: string, status: TenantStatus, reason: string | null, actor: string, now: number): Promise<boolean> {
  const r = await control.batch([
    control.prepare("UPDATE tenant_directory SET status = ?, status_reason = ?, updated_at = ? WHERE tenant_id = ?").bind(status, reason, now, tenant),
    control.prepare("INSERT INTO platform_audit (at, actor, action, tenant_id, data) SELECT ?, ?, ?, ?, ? WHERE changes() > 0").bind(now, actor, status, tenant, JSON.stringify({ reason })),
  ]);
  return (r[0]!.meta.changes ?? 0) > 0;
}

/** Marks a move as begun: only one at a time, and only from the shard the tenant is on. */
export async function beginMove(control: D1Database, tenant: string, from: string, to: string, actor: string, now: number): Promise<number | null> {
  const r = await control.batch([
    control.prepare("UPDATE tenant_directory SET moving_to = ?, updated_at = ? WHERE tenant_id = ? AND shard = ? AND moving_to IS NULL").bind(to, now, tenant, from),
    control.prepare("INSERT INTO tenant_moves (tenant_id, from_shard, to_shard, state, started_at) SELECT ?, ?, ?, 'copying', ? WHERE changes() > 0 RETURNING id").bind(tenant, from, to, now),
    control.prepare("INSERT INTO platform_audit (at, actor, action, tenant_id, data) SELECT ?, ?, 'move_started', ?, ? WHERE (SELECT moving_to FROM tenant_directory WHERE tenant_id = ?) = ?").bind(now, actor, tenant, JSON.stringify({ from, to }), tenant, to),
  ]);
  return (r[1]!.results[0] as { id: number } | undefined)?.id ?? null;
}

/** The move's end: switched to `to` when done, back on `from` when it failed. */
export async function endMove(control: D1Database, moveId: number, tenant: string, outcome: { shard: string; state: "done" | "failed"; rows: number; detail: string | null }, actor: string, now: number): Promise<void> {
  await control.batch([
    control.prepare("UPDATE tenant_directory SET shard = ?, moving_to = NULL, updated_at = ? WHERE tenant_id = ?").bind(outcome.shard, now, tenant),
    control.prepare("UPDATE tenant_moves SET state = ?, rows_copied = ?, detail = ?, finished_at = ? WHERE id = ?").bind(outcome.state, outcome.rows, outcome.detail, now, moveId),
    control.prepare("INSERT INTO platform_audit (at, actor, action, tenant_id, data) VALUES (?, ?, ?, ?, ?)").bind(now, actor, outcome.state === "done" ? "moved" : "move_failed", tenant, JSON.stringify({ shard: outcome.shard, rows: outcome.rows, detail: outcome.detail })),
  ]);
}

export async function recentMoves(control: D1Database, tenant: string): Promise<{ id: number; from: string; to: string; state: string; rows: number; detail: string | null; startedAt: number; finishedAt: number | null }[]> {
  const r = await control
    .prepare("SELECT id, from_shard AS 'from', to_shard AS 'to', state, rows_copied AS rows, detail, started_at AS startedAt, finished_at AS finishedAt FROM tenant_moves WHERE tenant_id = ? ORDER BY id DESC LIMIT 10")
    .bind(tenant)
    .all<{ id: number; from: string; to: string; state: string; rows: number; detail: string | null; startedAt: number; finishedAt: number | null }>();
  return r.results;
}

/** The mover's heartbeat, with the rows copied so far. */
export async function moveBeat(control: D1Database, moveId: number, rows: number, now: number): Promise<void> {
  await control.prepare("UPDATE tenant_moves SET rows_copied = ?, beat_at = ? WHERE id = ? AND state = 'copying'").bind(rows, now, moveId).run();
}

/** The tenant's move in progress, if any: its id, shards and last heartbeat. */
export async function openMove(control: D1Database, tenant: string): Promise<{ id: number; from: string; to: string; beatAt: number } | null> {
  return control
    .prepare("SELECT id, from_shard AS 'from', to_shard AS 'to', COALESCE(beat_at, started_at) AS beatAt FROM tenant_moves WHERE tenant_id = ? AND state = 'copying' ORDER BY id DESC LIMIT 1")
    .bind(tenant)
    .first<{ id: number; from: string; to: string; beatAt: number }>();
}
