// The statements that write a tenant, its config and credentials. No bindings: the Worker runs
// them on D1, and the local scripts render them as a SQL file for wrangler.
import { socialAccounts } from "../config/social.ts";
import { hashPassword } from "../auth/password.ts";
import { weakPasswordReason } from "../auth/strength.ts";
import { withoutSecrets, type TenantConfig } from "../config/schema.ts";
import { badRequest } from "../kernel/errors.ts";
import { sha256Hex } from "../kernel/ids.ts";

/** A tenant's API keys as given (stored hashed): ingest writes, read reads. */
export interface TenantKeys {
  ingest: string;
  read: string;
}

export interface Statement {
  sql: string;
  params: (string | number | null)[];
}

/** The statements that create or replace a tenant: usable with D1 and, rendered as SQL, by the demo loader. */
export async function tenantStatements(
  cfg: TenantConfig,
  opts: {
    /** On creation (or re-loading the demo): the tenant's keys, replacing any it had. */
    keys?: TenantKeys;
    version: number;
    existingLogins?: ReadonlySet<string>;
    now?: number;
    /** Demo and benchmark tenants only: hash each distinct password once (same salt for equal passwords). */
    reuseHashes?: boolean;
  },
): Promise<Statement[]> {
  const now = opts.now ?? Date.now();
  const stored = JSON.stringify(withoutSecrets(cfg));
  const t = cfg.tenant;
  const out: Statement[] = [];
  const hashes = new Map<string, Promise<string>>();
  const hash = (pw: string) => {
    if (!opts.reuseHashes) return hashPassword(pw);
    if (!hashes.has(pw)) hashes.set(pw, hashPassword(pw));
    return hashes.get(pw)!;
  };
  if (opts.keys !== undefined) {
    if (opts.keys.ingest === opts.keys.read) throw badRequest("invalid_keys", "the ingest key and the read key must differ");
    // ingest_key_hash is a legacy column (keys live in tenant_keys): a unique placeholder.
    out.push({
      sql: `INSERT INTO tenants (id, name, ingest_key_hash, config, config_version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, config = excluded.config,
              config_version = excluded.config_version, updated_at = excluded.updated_at`,
      params: [t.id, t.name, `moved:${t.id}`, stored, opts.version, now, now],
    });
    // The provisioned kinds only: an events key an admin made survives a reload of the tenant.
    out.push({ sql: "DELETE FROM tenant_keys WHERE tenant_id = ? AND kind IN ('ingest', 'read')", params: [t.id] });
    for (const kind of ["ingest", "read"] as const)
      out.push({ sql: "INSERT INTO tenant_keys (key_hash, tenant_id, kind, created_at) VALUES (?, ?, ?, ?)", params: [await sha256Hex(opts.keys[kind]), t.id, kind, now] });
  } else {
    out.push({ sql: `UPDATE tenants SET name = ?, config = ?, config_version = ?, updated_at = ? WHERE id = ?`, params: [t.name, stored, opts.version, now, t.id] });
  }
  // Mail arriving through email() knows only its recipient: each mailbox address routes to this tenant.
  const addresses = cfg.mailboxes.map((m) => m.address.toLowerCase());
  out.push({ sql: "DELETE FROM mailbox_routes WHERE tenant_id = ? AND address NOT IN (SELECT value FROM json_each(?))", params: [t.id, JSON.stringify(addresses)] });
  for (const address of addresses) out.push({ sql: "INSERT OR IGNORE INTO mailbox_routes (address, tenant_id) VALUES (?, ?)", params: [address, t.id] });
  // An SMS webhook knows only the number it was sent to: each number routes to this tenant.
  const numbers = cfg.numbers.map((n) => n.number);
  out.push({ sql: "DELETE FROM number_routes WHERE tenant_id = ? AND number NOT IN (SELECT value FROM json_each(?))", params: [t.id, JSON.stringify(numbers)] });
  for (const number of numbers) out.push({ sql: "INSERT OR IGNORE INTO number_routes (number, tenant_id) VALUES (?, ?)", params: [number, t.id] });
  // A social webhook knows only the provider's account id (a number id, a page, a bot): each routes here.
  const accounts = socialAccounts(cfg.social).map((a) => `${a.provider}:${a.id}`);
  out.push({ sql: "DELETE FROM social_accounts WHERE tenant_id = ? AND provider || ':' || account_id NOT IN (SELECT value FROM json_each(?))", params: [t.id, JSON.stringify(accounts)] });
  for (const a of socialAccounts(cfg.social)) out.push({ sql: "INSERT OR IGNORE INTO social_accounts (provider, account_id, tenant_id) VALUES (?, ?, ?)", params: [a.provider, a.id, t.id] });
  const logins = cfg.agents.map((a) => a.login.toLowerCase());
  // One JSON parameter, not one per login: D1 binds at most 100 parameters per statement.
  out.push({
    sql: "DELETE FROM credentials WHERE tenant_id = ? AND login NOT IN (SELECT value FROM json_each(?))",
    params: [t.id, JSON.stringify(logins)],
  });
  for (const [i, a] of cfg.agents.entries()) {
    const login = a.login.toLowerCase();
    if (a.password) {
      // Every door that sets a password comes through here: the admin API, provisioning, the demo loader.
      const weak = weakPasswordReason(a.password, [a.login, a.id, ...a.fullName.split(/\s+/)]);
      if (weak) throw badRequest("weak_password", `agents[${i}].password: ${weak}`, [{ path: `agents.${i}.password`, message: weak }]);
      out.push({
        sql: `INSERT INTO credentials (tenant_id, login, agent_id, password_hash) VALUES (?, ?, ?, ?)
              ON CONFLICT (tenant_id, login) DO UPDATE SET agent_id = excluded.agent_id, password_hash = excluded.password_hash`,
        params: [t.id, login, a.id, await hash(a.password)],
      });
    } else if (opts.existingLogins?.has(login)) {
      out.push({ sql: `UPDATE credentials SET agent_id = ? WHERE tenant_id = ? AND login = ?`, params: [a.id, t.id, login] });
    } else {
      throw badRequest("invalid_config", `agents[${i}].password: required for a new login '${a.login}'`);
    }
  }
  return out;
}
