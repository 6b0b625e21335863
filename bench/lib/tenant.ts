// Loads a big tenant into the local D1, like scripts/local.ts loadTenant, but within D1's limit of
// 100,000 bytes per SQL statement: loadTenant renders the config JSON as one literal, and a config
// of ~850 agents or more no longer fits ("statement too long: SQLITE_TOOBIG"). Here the config is
// written in chunks: the tenant row with the first one, then `config = config || <chunk>` updates.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { wrangler } from "../../scripts/local.ts";
import { renderSql } from "../../scripts/sql.ts";
import { parseConfig } from "../../workers/config/schema.ts";
import { tenantStatements, type Statement } from "../../workers/ucs/tenant-statements.ts";

/** D1's SQLITE_LIMIT_SQL_LENGTH. */
const D1_MAX_SQL = 100_000;
const CHUNK = 40_000;

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
    for (let i = CHUNK; i < config.length; i += CHUNK)
      out.push({ sql: "UPDATE tenants SET config = config || ? WHERE id = ?", params: [config.slice(i, i + CHUNK), s.params[0]!] });
  }
  return out;
}

export async function loadBigTenant(config: unknown, ingestKey: string, persistTo: string): Promise<{ configBytes: number; statements: number }> {
  const cfg = parseConfig(config);
  const statements = splitLongConfig(await tenantStatements(cfg, { ingestKey, version: Date.now() % 1_000_000_000, reuseHashes: true }));
  const rendered = statements.map((s) => renderSql([s]));
  const tooLong = rendered.findIndex((sql) => Buffer.byteLength(sql) >= D1_MAX_SQL);
  if (tooLong >= 0) throw new Error(`statement ${tooLong} is ${Buffer.byteLength(rendered[tooLong]!)} bytes, over D1's ${D1_MAX_SQL}: ${rendered[tooLong]!.slice(0, 120)}…`);
  const file = join(persistTo, `tenant-${cfg.tenant.id}.sql`);
  writeFileSync(file, rendered.join("\n"));
  wrangler(["d1", "execute", "DB", "--local", "--file", file, "--persist-to", persistTo], { quiet: true });
  return { configBytes: Buffer.byteLength(JSON.stringify(cfg)), statements: statements.length };
}
