// Shared by `npm start` and the bench: a local wrangler dev with migrations and a tenant loaded.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tenantSql } from "./sql.ts";
import type { TenantKeys } from "../workers/ucs/tenant-statements.ts";

export const root = new URL("..", import.meta.url).pathname;

export function wrangler(args: string[], opts: { quiet?: boolean } = {}): void {
  const r = spawnSync("npx", ["wrangler", ...args], { cwd: root, stdio: opts.quiet ? "pipe" : "inherit", env: { ...process.env, CI: "1", WRANGLER_SEND_METRICS: "false" } });
  if (r.status !== 0) {
    if (opts.quiet) process.stderr.write(`${r.stdout}\n${r.stderr}\n`);
    throw new Error(`wrangler ${args.join(" ")} failed (${r.status})`);
  }
}

/** Local secrets for wrangler dev, made once per checkout; a secret added later is appended.
 *  SECRETS_KEY seals tenant secrets in D1. TWILIO_AUTH_TOKEN is not read by the Worker: loadTenant
 *  stores it as the local tenant's own secret "twilio", which signs the demo numbers' webhooks (README: SMS).
 *  PLATFORM_SECRET is the local platform operator's (npm start creates the demo tenants with it). */
export function ensureDevVars(): void {
  const p = `${root}.dev.vars`;
  const have = existsSync(p) ? readFileSync(p, "utf8") : "";
  const want: Record<string, string> = { AUTH_SECRET: randomBytes(32).toString("hex"), TWILIO_AUTH_TOKEN: randomBytes(16).toString("hex"), SECRETS_KEY: randomBytes(32).toString("hex"), PLATFORM_SECRET: randomBytes(32).toString("hex") };
  const missing = Object.entries(want).filter(([k]) => !new RegExp(`^${k}=`, "m").test(have));
  if (missing.length) writeFileSync(p, `${have}${have && !have.endsWith("\n") ? "\n" : ""}${missing.map(([k, v]) => `${k}=${v}`).join("\n")}\n`);
}

/** The D1 bindings of wrangler.toml: CONTROL (the tenant directory) and the shards, in order. */
export function d1Bindings(toml = readFileSync(`${root}wrangler.toml`, "utf8")): { control: string; shards: string[] } {
  const bindings = [...toml.matchAll(/^\s*binding\s*=\s*"((?:CONTROL|SHARD_[A-Z0-9_]+))"/gm)].map((m) => m[1]!);
  return { control: "CONTROL", shards: bindings.filter((b) => b.startsWith("SHARD_")) };
}

/** Migrations on the control database and on every shard (`npm run migrate` does the same). */
export function applyMigrations(persistTo?: string): void {
  const { control, shards } = d1Bindings();
  for (const b of [control, ...shards]) wrangler(["d1", "migrations", "apply", b, "--local", ...(persistTo ? ["--persist-to", persistTo] : [])], { quiet: true });
}

/** The directory entry placing a tenant on a shard (what the platform API writes when it creates one). */
export function directorySql(tenantId: string, name: string, shard: string, jurisdiction = "eu"): string {
  const lit = (v: string) => `'${v.replace(/'/g, "''")}'`;
  const now = Date.now();
  return `INSERT INTO tenant_directory (tenant_id, name, shard, jurisdiction, status, created_by, created_at, updated_at) VALUES (${lit(tenantId)}, ${lit(name)}, ${lit(shard)}, ${lit(jurisdiction)}, 'active', 'local', ${now}, ${now}) ON CONFLICT (tenant_id) DO UPDATE SET shard = excluded.shard, status = 'active', moving_to = NULL;`;
}

/** A variable of a .dev.vars file (the checkout's by default), or undefined. */
export function devVar(name: string, path = `${root}.dev.vars`): string | undefined {
  const m = new RegExp(`^${name}\\s*=\\s*"?([^"\\n]*)"?\\s*$`, "m").exec(existsSync(path) ? readFileSync(path, "utf8") : "");
  return m?.[1]?.trim() || undefined;
}

/** The local tenant's own secrets: "twilio" is .dev.vars' TWILIO_AUTH_TOKEN (the demo numbers name it). */
export function localSecrets(): Record<string, string> {
  const twilio = devVar("TWILIO_AUTH_TOKEN");
  return twilio ? { twilio } : {};
}

/** Loads (or reloads) a tenant config and its two API keys (ingest, read) into the local D1, with its
 *  own secrets sealed under .dev.vars' SECRETS_KEY. */
export async function loadTenant(config: unknown, keys: TenantKeys, persistTo?: string, secrets: Record<string, string> = localSecrets(), shard = "SHARD_0"): Promise<void> {
  const secretsKey = devVar("SECRETS_KEY");
  if (!secretsKey && Object.keys(secrets).length) throw new Error(".dev.vars has no SECRETS_KEY to seal the tenant's secrets with (ensureDevVars writes one)");
  const { tenantId, sql } = await tenantSql(config, keys, secretsKey ? { secrets, secretsKey } : undefined, { devOutboundHost: devVar("DEV_OUTBOUND_HOST") });
  mkdirSync(`${root}.wrangler`, { recursive: true });
  const file = `${root}.wrangler/tenant-${tenantId}.sql`;
  writeFileSync(file, sql);
  wrangler(["d1", "execute", shard, "--local", "--file", file, ...(persistTo ? ["--persist-to", persistTo] : [])], { quiet: true });
  const name = (config as { tenant?: { name?: string } }).tenant?.name ?? tenantId;
  wrangler(["d1", "execute", "CONTROL", "--local", "--command", directorySql(tenantId, name, shard), ...(persistTo ? ["--persist-to", persistTo] : [])], { quiet: true });
}

export const readJson = (path: string): unknown => JSON.parse(readFileSync(`${root}${path}`, "utf8"));

/** `vars` override wrangler.toml's and .dev.vars' for this run (the browser tests' fake provider host). */
export function startDev(port: number, opts: { persistTo?: string; quiet?: boolean; vars?: Record<string, string> } = {}): ChildProcess {
  const vars = Object.entries(opts.vars ?? {}).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  return spawn("npx", ["wrangler", "dev", "--port", String(port), "--ip", "127.0.0.1", "--test-scheduled", ...vars, ...(opts.persistTo ? ["--persist-to", opts.persistTo] : [])], {
    cwd: root,
    stdio: opts.quiet ? ["ignore", "pipe", "pipe"] : ["ignore", "inherit", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    detached: true,
  });
}

export async function waitForHealth(base: string, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(`${base}/api/health`);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${base} did not answer /api/health in ${ms / 1000} s`);
}
