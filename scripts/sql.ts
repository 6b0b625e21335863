// Renders a tenant's statements as a SQL file for `wrangler d1 execute --file` (the demo loader,
// the bench). A file has no bound parameters, and D1 refuses a statement over 100,000 bytes, so a
// big config (about 800 agents and up) is written in pieces: the row, then `config || piece`.
import { parseConfig, type ParseOptions } from "../workers/config/schema.ts";
import { secretRefs } from "../workers/config/secret-refs.ts";
import { tenantStatements, type Statement, type TenantKeys } from "../workers/ucs/tenant-statements.ts";
import { sealSecret } from "../workers/secrets/crypto.ts";
import { secretUpsert } from "../workers/ucs/secret-statements.ts";

/** D1's SQLITE_LIMIT_SQL_LENGTH. */
const D1_MAX_SQL = 100_000;
const CHUNK = 40_000;

const lit = (v: string | number | null) => (v === null ? "NULL" : typeof v === "number" ? String(v) : `'${v.replace(/'/g, "''")}'`);

export function renderSql(statements: Statement[]): string {
  return statements
    .map((s) => {
      let i = 0;
      // "?" takes the next parameter, "?N" the Nth (as D1 binds them).
      return s.sql.replace(/\?(\d+)?/g, (_, n?: string) => lit((n ? s.params[Number(n) - 1] : s.params[i++]) ?? null)).replace(/\s+/g, " ").trim() + ";";
    })
    .join("\n");
}

/** The tenant row's config, when long, goes in as a first piece and appended pieces. */
export function splitLongConfig(statements: Statement[]): Statement[] {
  const out: Statement[] = [];
  for (const s of statements) {
    const at = /^\s*INSERT INTO tenants\b/.test(s.sql) ? 3 : -1; // params: id, name, ingest_key_hash, config, ...
    const config = at >= 0 ? s.params[at] : undefined;
    if (typeof config !== "string" || config.length <= CHUNK) {
      out.push(s);
      continue;
    }
    const params = [...s.params];
    params[at] = config.slice(0, CHUNK);
    out.push({ sql: s.sql, params });
    for (let i = CHUNK; i < config.length; i += CHUNK) out.push({ sql: "UPDATE tenants SET config = config || ? WHERE id = ?", params: [config.slice(i, i + CHUNK), s.params[0]!] });
  }
  return out;
}

/** The tenant's own secrets its config names (numbers[].secret...), sealed with the platform key
 *  wrangler dev will read (SECRETS_KEY in .dev.vars), as PUT /api/v1/admin/secrets/{name} would. */
export interface TenantSecrets {
  secrets: Record<string, string>;
  secretsKey: string;
}

/** Validates a tenant config (with `opts.devOutboundHost`, .dev.vars' DEV_OUTBOUND_HOST, as wrangler
 *  dev will) and renders the SQL that creates or replaces it (and sets its secrets), every statement
 *  within D1's limit. Every secret the config names must be among `secrets`: else it would load, and
 *  fail at the first webhook or send. */
export async function tenantSql(config: unknown, keys: TenantKeys, secrets?: TenantSecrets, opts: ParseOptions = {}): Promise<{ tenantId: string; sql: string; statements: number; configBytes: number }> {
  const cfg = parseConfig(config, opts);
  const missing = secretRefs(cfg).filter((r) => !(r.name in (secrets?.secrets ?? {})));
  if (missing.length)
    throw new Error(`tenant '${cfg.tenant.id}': ${missing.map((r) => `${r.path} names the secret '${r.name}'`).join("; ")}, but no value was provided to load it with (npm start gives 'twilio' from .dev.vars' TWILIO_AUTH_TOKEN${secrets ? "" : ", and needs SECRETS_KEY in .dev.vars"})`);
  const sealed: Statement[] = [];
  for (const [name, value] of Object.entries(secrets?.secrets ?? {})) sealed.push(secretUpsert(cfg.tenant.id, name, await sealSecret(secrets!.secretsKey, cfg.tenant.id, name, value), Date.now()));
  const statements = [...sealed, ...splitLongConfig(await tenantStatements(cfg, { keys, version: Date.now() % 1_000_000_000, reuseHashes: true }))];
  const rendered = statements.map((s) => renderSql([s]));
  const tooLong = rendered.findIndex((sql) => new TextEncoder().encode(sql).length >= D1_MAX_SQL);
  if (tooLong >= 0) throw new Error(`statement ${tooLong} is over D1's ${D1_MAX_SQL} bytes: ${rendered[tooLong]!.slice(0, 120)}…`);
  return { tenantId: cfg.tenant.id, sql: rendered.join("\n"), statements: statements.length, configBytes: new TextEncoder().encode(JSON.stringify(cfg)).length };
}
