// One-time upgrade for a deployment whose tenants' configs were stored before tenant secrets
// (docs/sms.md, "Upgrading"). Their numbers name the Worker variables TWILIO_AUTH_TOKEN or
// SMS_GENERIC_SECRET, and their http mail transports name no secret (MAIL_API_TOKEN was used): after
// the deploy their webhooks get 403 and their sends fail. For each such tenant this seals the value
// the operator gives as the tenant's own secret ("twilio", "generic", "mail") and rewrites the config
// to name it. Values come from the environment, never the command line, and are never printed.
//
//   SECRETS_KEY=… TWILIO_AUTH_TOKEN=… MAIL_API_TOKEN=… npm run upgrade-secrets -- --remote [--dry-run]
//   npm run upgrade-secrets -- --local   (values and SECRETS_KEY from .dev.vars when not in the environment)
//
// Options: --remote | --local (one is required), --persist-to DIR (local), --dry-run (print the plan,
// change nothing), --var NAME (also upgrade references to this Worker variable of yours, as "name").
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { secretsKeyProblem } from "../workers/secrets/crypto.ts";
import { LEGACY_SECRETS, PLATFORM_ONLY, planUpgrade, upgradeStatements } from "../workers/secrets/upgrade.ts";
import { d1Bindings, devVar, root } from "./local.ts";
import { renderSql } from "./sql.ts";
import type { Statement } from "../workers/ucs/tenant-statements.ts";

const args = process.argv.slice(2);
const flag = (f: string) => args.includes(f);
const option = (f: string) => (args.includes(f) ? args[args.indexOf(f) + 1] : undefined);
const fail = (msg: string): never => {
  process.stderr.write(`upgrade-secrets: ${msg}\n`);
  process.exit(1);
};

if (flag("--remote") === flag("--local")) fail("say where: --remote (the deployed D1) or --local (wrangler dev's)");
const where = flag("--remote") ? ["--remote"] : ["--local", ...(option("--persist-to") ? ["--persist-to", option("--persist-to")!] : [])];
const extra = args.flatMap((a, i) => (a === "--var" && args[i + 1] ? [args[i + 1]!] : []));
for (const name of extra) if ((PLATFORM_ONLY as readonly string[]).includes(name)) fail(`--var ${name}: a platform secret is never given to a tenant`);

/** From the environment; locally, .dev.vars too. */
const value = (name: string) => process.env[name]?.trim() || (flag("--local") ? devVar(name) : undefined);

// Remotely, the deployed databases' ids are in the deploy config (npm run deploy writes it).
const config = flag("--remote") && existsSync(`${root}wrangler.deploy.toml`) ? ["--config", "wrangler.deploy.toml"] : [];

function d1<T>(shard: string, sql: string): T[] {
  const r = spawnSync("npx", ["wrangler", "d1", "execute", shard, ...where, ...config, "--json", "--command", sql], { cwd: root, encoding: "utf8", env: { ...process.env, CI: "1", WRANGLER_SEND_METRICS: "false" }, maxBuffer: 1 << 30 });
  if (r.status !== 0) fail(`wrangler d1 execute failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  const out = JSON.parse(r.stdout) as { results: T[] }[];
  return out.flatMap((x) => x.results);
}

const secretsKey = value("SECRETS_KEY") ?? fail("give SECRETS_KEY (the same value as the Worker's: `wrangler secret put SECRETS_KEY`) in the environment");
const keyProblem = secretsKeyProblem(secretsKey);
if (keyProblem) fail(keyProblem);
const values = Object.fromEntries([...Object.keys(LEGACY_SECRETS), ...extra].map((n) => [n, value(n)]));

// Every shard's tenants, each upgraded on its own shard.
let changed = 0;
let total = 0;
for (const shard of d1Bindings().shards) {
const tenants = d1<{ id: string; config: string; config_version: number }>(shard, "SELECT id, config, config_version FROM tenants ORDER BY id");
const set = d1<{ tenant_id: string; name: string }>(shard, "SELECT tenant_id, name FROM tenant_secrets");
total += tenants.length;
const statements: Statement[] = [];
for (const t of tenants) {
  const plan = planUpgrade({ tenantId: t.id, config: JSON.parse(t.config) as Record<string, unknown>, version: t.config_version, secrets: set.filter((s) => s.tenant_id === t.id).map((s) => s.name) }, values, extra);
  for (const p of plan.problems) process.stderr.write(`! ${p}\n`);
  if (plan.seal.length === 0 && plan.changes.length === 0) continue;
  changed++;
  for (const s of plan.seal) console.log(`${t.id}: seal ${s.legacy} as the tenant's secret '${s.name}'`);
  for (const c of plan.changes) console.log(`${t.id}: ${c.path}: ${c.from ?? "(none)"} -> ${c.to}`);
  statements.push(...(await upgradeStatements(plan, secretsKey)));
}
if (statements.length === 0 || flag("--dry-run")) continue;
mkdirSync(`${root}.wrangler`, { recursive: true });
const file = `${root}.wrangler/upgrade-secrets.sql`;
writeFileSync(file, renderSql(statements), { mode: 0o600 });
try {
  const r = spawnSync("npx", ["wrangler", "d1", "execute", shard, ...where, ...config, "--file", file], { cwd: root, stdio: "inherit", env: { ...process.env, CI: "1", WRANGLER_SEND_METRICS: "false" } });
  if (r.status !== 0) fail(`wrangler d1 execute --file failed (${r.status}); nothing is lost, run again`);
} finally {
  // Sealed values only, but no reason to leave them lying about.
  writeFileSync(file, "");
}
}

if (changed === 0) console.log(`Nothing to upgrade (${total} tenants).`);
else if (flag("--dry-run")) console.log(`Dry run: ${changed} of ${total} tenants would change; nothing written.`);
else console.log(`Upgraded ${changed} of ${total} tenants. A config an admin saved meanwhile was left alone: run again to upgrade it. Check GET /api/v1/admin/config's warnings.`);
