// Per-isolate cache of compiled tenant configs. A version check at most every TTL keeps every
// Worker and object within a couple of seconds of an admin's change, at one small D1 read.
// Only finished values are shared: a D1 call started for one request or object cannot be awaited
// by another (workerd refuses I/O across request contexts, and the promise would never settle if
// its request ended first), so each caller that finds the entry stale checks for itself.
import { CompiledConfig } from "./compiled.ts";
import { configVersion } from "../ucs/tenants.ts";
import { loadTenantConfig } from "./tenants.ts";

const TTL_MS = 2000;
const cache = new Map<string, { compiled: CompiledConfig; checkedAt: number }>();

export function getConfig(db: D1Database, tenantId: string): Promise<CompiledConfig> {
  const hit = cache.get(tenantId);
  if (hit && Date.now() - hit.checkedAt < TTL_MS) return Promise.resolve(hit.compiled);
  return refresh(db, tenantId, hit?.compiled);
}

async function refresh(db: D1Database, tenantId: string, current: CompiledConfig | undefined): Promise<CompiledConfig> {
  if (current && (await configVersion(db, tenantId)) === current.version) {
    cache.set(tenantId, { compiled: current, checkedAt: Date.now() });
    return current;
  }
  const { config, version } = await loadTenantConfig(db, tenantId);
  // Another caller may have compiled a newer one meanwhile: keep the newest.
  const now = cache.get(tenantId);
  if (now && now.compiled.version > version) return now.compiled;
  const compiled = new CompiledConfig(config, version);
  cache.set(tenantId, { compiled, checkedAt: Date.now() });
  return compiled;
}

export function forgetConfig(tenantId: string): void {
  cache.delete(tenantId);
}
