// npm start's demo tenants, created through the platform operators' API (the code a real operator's
// request runs): "demo" on the first shard, "acme" on the second, so the sharded path is the one the
// demo uses. On later starts the demo's config is reloaded from demo/tenant.json.
import { devVar, localSecrets, readJson } from "./local.ts";

export const DEMO_INGEST_KEY = "demo-ingest-key-change-me";
export const DEMO_READ_KEY = "demo-read-key-change-me";
export const ACME_INGEST_KEY = "acme-ingest-key-change-me";
export const ACME_READ_KEY = "acme-read-key-change-me";
export const DEMO_PASSWORD = "parley-demo";

async function api(base: string, secret: string, method: string, path: string, json?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${base}${path}`, { method, headers: { Authorization: `Bearer ${secret}`, ...(json === undefined ? {} : { "Content-Type": "application/json" }) }, body: json === undefined ? undefined : JSON.stringify(json) });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** Creates the demo tenants (or reloads demo's config); answers what it did, for the banner. */
export async function loadDemoTenants(base: string): Promise<string[]> {
  const secret = devVar("PLATFORM_SECRET");
  if (!secret) throw new Error(".dev.vars has no PLATFORM_SECRET (ensureDevVars writes one)");
  const done: string[] = [];
  const config = readJson("demo/tenant.json") as { tenant: { id: string; name: string } };
  const secrets = localSecrets();
  const demo = await api(base, secret, "GET", `/api/platform/v1/tenants/${config.tenant.id}`);
  if (demo.status === 404) {
    const r = await api(base, secret, "POST", "/api/platform/v1/tenants", { id: config.tenant.id, name: config.tenant.name, shard: "SHARD_0", jurisdiction: "eu", admin: { login: "alex" }, adminPassword: DEMO_PASSWORD, config, keys: { ingest: DEMO_INGEST_KEY, read: DEMO_READ_KEY }, secrets });
    if (r.status !== 201) throw new Error(`creating the demo tenant: ${r.status} ${JSON.stringify(r.body)}`);
    done.push(`created "${config.tenant.id}" on SHARD_0`);
  } else {
    const r = await api(base, secret, "PUT", `/api/platform/v1/tenants/${config.tenant.id}/config`, { config, secrets });
    if (r.status !== 200) throw new Error(`reloading the demo tenant's config: ${r.status} ${JSON.stringify(r.body)}`);
    done.push(`reloaded "${config.tenant.id}" (${(demo.body as { shard?: string }).shard ?? "?"}) from demo/tenant.json`);
  }
  const acme = await api(base, secret, "GET", "/api/platform/v1/tenants/acme");
  if (acme.status === 404) {
    const r = await api(base, secret, "POST", "/api/platform/v1/tenants", { id: "acme", name: "Acme Travel", shard: "SHARD_1", jurisdiction: "eu", admin: { login: "owner", fullName: "Olivia Owner" }, adminPassword: DEMO_PASSWORD, keys: { ingest: ACME_INGEST_KEY, read: ACME_READ_KEY } });
    if (r.status !== 201) throw new Error(`creating the acme tenant: ${r.status} ${JSON.stringify(r.body)}`);
    done.push(`created "acme" on SHARD_1`);
  }
  return done;
}
