// Tenants, their config and credentials in D1.
import { hashPassword } from "../auth/password.ts";
import { parseConfig, withoutSecrets, type TenantConfig } from "../config/schema.ts";
import { badRequest, notFound } from "../http/errors.ts";
import { sha256Hex } from "../ids.ts";

export interface Statement {
  sql: string;
  params: (string | number | null)[];
}

/** The statements that create or replace a tenant: usable with D1 and, rendered as SQL, by the demo loader. */
export async function tenantStatements(
  cfg: TenantConfig,
  opts: { ingestKey?: string; version: number; existingLogins?: ReadonlySet<string>; now?: number },
): Promise<Statement[]> {
  const now = opts.now ?? Date.now();
  const stored = JSON.stringify(withoutSecrets(cfg));
  const t = cfg.tenant;
  const out: Statement[] = [];
  if (opts.ingestKey !== undefined) {
    out.push({
      sql: `INSERT INTO tenants (id, name, ingest_key_hash, config, config_version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, ingest_key_hash = excluded.ingest_key_hash, config = excluded.config,
              config_version = excluded.config_version, updated_at = excluded.updated_at`,
      params: [t.id, t.name, await sha256Hex(opts.ingestKey), stored, opts.version, now, now],
    });
  } else {
    out.push({ sql: `UPDATE tenants SET name = ?, config = ?, config_version = ?, updated_at = ? WHERE id = ?`, params: [t.name, stored, opts.version, now, t.id] });
  }
  const logins = cfg.agents.map((a) => a.login.toLowerCase());
  out.push({
    sql: `DELETE FROM credentials WHERE tenant_id = ? AND login NOT IN (${logins.map(() => "?").join(", ") || "''"})`,
    params: [t.id, ...logins],
  });
  for (const [i, a] of cfg.agents.entries()) {
    const login = a.login.toLowerCase();
    if (a.password) {
      out.push({
        sql: `INSERT INTO credentials (tenant_id, login, agent_id, password_hash) VALUES (?, ?, ?, ?)
              ON CONFLICT (tenant_id, login) DO UPDATE SET agent_id = excluded.agent_id, password_hash = excluded.password_hash`,
        params: [t.id, login, a.id, await hashPassword(a.password)],
      });
    } else if (opts.existingLogins?.has(login)) {
      out.push({ sql: `UPDATE credentials SET agent_id = ? WHERE tenant_id = ? AND login = ?`, params: [a.id, t.id, login] });
    } else {
      throw badRequest("invalid_config", `agents[${i}].password: required for a new login '${a.login}'`);
    }
  }
  return out;
}

const bindAll = (db: D1Database, st: Statement[]) => st.map((s) => db.prepare(s.sql).bind(...s.params));

/** Creates a tenant with its config and ingest key (tests, demo, provisioning). */
export async function createTenant(db: D1Database, input: unknown, ingestKey: string): Promise<TenantConfig> {
  const cfg = parseConfig(input);
  await db.batch(bindAll(db, await tenantStatements(cfg, { ingestKey, version: 1 })));
  return cfg;
}

export async function loadTenantConfig(db: D1Database, tenantId: string): Promise<{ config: TenantConfig; version: number }> {
  const row = await db.prepare("SELECT config, config_version FROM tenants WHERE id = ?").bind(tenantId).first<{ config: string; config_version: number }>();
  if (!row) throw notFound("unknown_tenant", `no tenant '${tenantId}'`);
  return { config: JSON.parse(row.config) as TenantConfig, version: row.config_version };
}

export async function configVersion(db: D1Database, tenantId: string): Promise<number | null> {
  const row = await db.prepare("SELECT config_version FROM tenants WHERE id = ?").bind(tenantId).first<{ config_version: number }>();
  return row?.config_version ?? null;
}

/** Replaces a tenant's config (admin). The tenant id in the body must be the caller's. */
export async function replaceTenantConfig(db: D1Database, tenantId: string, input: unknown): Promise<{ config: TenantConfig; version: number }> {
  const cfg = parseConfig(input);
  if (cfg.tenant.id !== tenantId) throw badRequest("invalid_config", `tenant.id: must be '${tenantId}'`);
  const current = await loadTenantConfig(db, tenantId);
  const existing = await db.prepare("SELECT login FROM credentials WHERE tenant_id = ?").bind(tenantId).all<{ login: string }>();
  const version = current.version + 1;
  const st = await tenantStatements(cfg, { version, existingLogins: new Set(existing.results.map((r) => r.login)) });
  await db.batch(bindAll(db, st));
  return { config: withoutSecrets(cfg), version };
}

export async function tenantByIngestKey(db: D1Database, key: string): Promise<string | null> {
  const row = await db.prepare("SELECT id FROM tenants WHERE ingest_key_hash = ?").bind(await sha256Hex(key)).first<{ id: string }>();
  return row?.id ?? null;
}

export async function allTenantIds(db: D1Database): Promise<string[]> {
  const r = await db.prepare("SELECT id FROM tenants").all<{ id: string }>();
  return r.results.map((x) => x.id);
}
