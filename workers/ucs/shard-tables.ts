// A tenant's rows on a shard, table by table, for moving a tenant between shards and deleting one.
// The tables are read from the schema itself (sqlite_master), so a table a later migration adds is
// moved, fenced and deleted with the rest: any table with a tenant_id column (and `tenants` by id).

export interface TenantTable {
  name: string;
  /** The column naming the tenant. */
  key: string;
  /** Columns copied, in order (a rowid alias is left out: the target numbers its rows itself). */
  columns: string[];
  /** How its rows are read in a stable order. */
  order: string;
  /** An FTS table: no triggers on it; it is written only alongside fenced tables. */
  virtual: boolean;
}

const q = (ident: string) => `"${ident.replace(/"/g, '""')}"`;

/** The shard's tenant tables, `tenants` first (the others refer to it). */
export async function tenantTables(db: D1Database): Promise<TenantTable[]> {
  const all = (await db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%' AND name != 'tenant_fences' ORDER BY name").all<{ name: string; sql: string }>()).results;
  const virtuals = all.filter((t) => /^CREATE VIRTUAL TABLE/i.test(t.sql)).map((t) => t.name);
  const out: TenantTable[] = [];
  for (const t of all) {
    if (virtuals.some((v) => t.name.startsWith(`${v}_`))) continue; // an FTS table's own storage
    const cols = (await db.prepare(`PRAGMA table_info(${q(t.name)})`).all<{ name: string; type: string; pk: number }>()).results;
    const key = cols.some((c) => c.name === "tenant_id") ? "tenant_id" : t.name === "tenants" ? "id" : null;
    if (!key) continue;
    const virtual = virtuals.includes(t.name);
    const withoutRowid = /WITHOUT\s+ROWID/i.test(t.sql);
    const pk = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
    const rowidAlias = !withoutRowid && pk.length === 1 && /^INTEGER$/i.test(pk[0]!.type) ? pk[0]!.name : null;
    out.push({
      name: t.name,
      key,
      columns: cols.map((c) => c.name).filter((c) => c !== rowidAlias),
      order: withoutRowid ? pk.map((c) => q(c.name)).join(", ") : "rowid",
      virtual,
    });
  }
  return out.sort((a, b) => (a.name === "tenants" ? -1 : b.name === "tenants" ? 1 : a.name.localeCompare(b.name)));
}

/** A page of the tenant's rows of one table, as arrays in `columns` order. */
export async function rowsPage(db: D1Database, t: TenantTable, tenant: string, limit: number, offset: number): Promise<unknown[][]> {
  return db.prepare(`SELECT ${t.columns.map(q).join(", ")} FROM ${q(t.name)} WHERE ${q(t.key)} = ? ORDER BY ${t.order} LIMIT ? OFFSET ?`).bind(tenant, limit, offset).raw();
}

export async function insertRows(db: D1Database, t: TenantTable, rows: unknown[][]): Promise<void> {
  if (!rows.length) return;
  const sql = `INSERT INTO ${q(t.name)} (${t.columns.map(q).join(", ")}) VALUES (${t.columns.map(() => "?").join(", ")})`;
  await db.batch(rows.map((r) => db.prepare(sql).bind(...r)));
}

export async function countRows(db: D1Database, t: TenantTable, tenant: string): Promise<number> {
  return (await db.prepare(`SELECT COUNT(*) AS n FROM ${q(t.name)} WHERE ${q(t.key)} = ?`).bind(tenant).first<{ n: number }>())?.n ?? 0;
}

export async function deleteRows(db: D1Database, t: TenantTable, tenant: string): Promise<number> {
  return (await db.prepare(`DELETE FROM ${q(t.name)} WHERE ${q(t.key)} = ?`).bind(tenant).run()).meta.changes ?? 0;
}

export type FenceState = "frozen" | "gone" | "importing";

export async function setFence(db: D1Database, tenant: string, state: FenceState | null): Promise<void> {
  if (state === null) await db.prepare("DELETE FROM tenant_fences WHERE tenant_id = ?").bind(tenant).run();
  else await db.prepare("INSERT INTO tenant_fences (tenant_id, state, at) VALUES (?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET state = excluded.state, at = excluded.at").bind(tenant, state, Date.now()).run();
}

export async function fenceOf(db: D1Database, tenant: string): Promise<FenceState | null> {
  return (await db.prepare("SELECT state FROM tenant_fences WHERE tenant_id = ?").bind(tenant).first<{ state: FenceState }>())?.state ?? null;
}

/** The message a fenced write fails with (fenced() recognises it). */
export const FENCED = "parley_tenant_fenced";

/** The fence triggers of every tenant table (idempotent): a frozen tenant's rows can't be written
 *  at all, a gone tenant's only deleted. */
export async function ensureFences(db: D1Database, tables: TenantTable[]): Promise<void> {
  const st: D1PreparedStatement[] = [];
  for (const t of tables) {
    if (t.virtual) continue;
    const k = q(t.key);
    const guard = (row: "NEW" | "OLD", states: string) => `WHEN EXISTS (SELECT 1 FROM tenant_fences WHERE tenant_id = ${row}.${k} AND state IN (${states})) BEGIN SELECT RAISE(ABORT, '${FENCED}'); END`;
    st.push(db.prepare(`CREATE TRIGGER IF NOT EXISTS ${q(`fence_${t.name}_i`)} BEFORE INSERT ON ${q(t.name)} ${guard("NEW", "'frozen', 'gone'")}`));
    st.push(db.prepare(`CREATE TRIGGER IF NOT EXISTS ${q(`fence_${t.name}_u`)} BEFORE UPDATE ON ${q(t.name)} ${guard("NEW", "'frozen', 'gone'")}`));
    st.push(db.prepare(`CREATE TRIGGER IF NOT EXISTS ${q(`fence_${t.name}_d`)} BEFORE DELETE ON ${q(t.name)} ${guard("OLD", "'frozen'")}`));
  }
  if (st.length) await db.batch(st);
}

/** The tenant's usage on its shard: interactions, stored bytes (message parts and raw mail as
 *  recorded), agents with a login. */
export async function tenantUsage(db: D1Database, tenant: string): Promise<{ interactions: number; storageBytes: number; agents: number }> {
  const [a, b, r, c] = await db.batch<{ n: number }>([
    db.prepare("SELECT COUNT(*) AS n FROM interactions WHERE tenant_id = ?").bind(tenant),
    db.prepare("SELECT COALESCE(SUM(size), 0) AS n FROM message_parts WHERE tenant_id = ?").bind(tenant),
    db.prepare("SELECT COALESCE(SUM(raw_size), 0) AS n FROM emails WHERE tenant_id = ?").bind(tenant),
    db.prepare("SELECT COUNT(*) AS n FROM credentials WHERE tenant_id = ?").bind(tenant),
  ]);
  return { interactions: a!.results[0]?.n ?? 0, storageBytes: (b!.results[0]?.n ?? 0) + (r!.results[0]?.n ?? 0), agents: c!.results[0]?.n ?? 0 };
}

/** The tenant's chat objects' ids (web chats and social conversations keep one ChatSession each). */
export async function chatIdsOf(db: D1Database, tenant: string): Promise<string[]> {
  return (await db.prepare("SELECT id FROM interactions WHERE tenant_id = ? AND media = 'chat'").bind(tenant).all<{ id: string }>()).results.map((r) => r.id);
}
