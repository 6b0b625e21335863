// Per-isolate cache of compiled tenant configs. A version check at most every TTL keeps every
// Worker and object within a couple of seconds of an admin's change, at one small D1 read; the
// check is shared by everyone who asks meanwhile, so a burst makes one read, not one each.
import { CompiledConfig } from "./compiled.ts";
import { configVersion, loadTenantConfig } from "../ucs/tenants.ts";

const TTL_MS = 2000;
const cache = new Map<string, { compiled: CompiledConfig; checkedAt: number }>();
const refreshing = new Map<string, Promise<CompiledConfig>>();

export function getConfig(db: D1Database, tenantId: string): Promise<CompiledConfig> {
  const hit = cache.get(tenantId);
  if (hit && Date.now() - hit.checkedAt < TTL_MS) return Promise.resolve(hit.compiled);
  let p = refreshing.get(tenantId);
  if (!p) {
    p = refresh(db, tenantId, hit?.compiled).finally(() => refreshing.delete(tenantId));
    refreshing.set(tenantId, p);
  }
  return p;
}

async function refresh(db: D1Database, tenantId: string, current: CompiledConfig | undefined): Promise<CompiledConfig> {
  if (current && (await configVersion(db, tenantId)) === current.version) {
    cache.set(tenantId, { compiled: current, checkedAt: Date.now() });
    return current;
  }
  const { config, version } = await loadTenantConfig(db, tenantId);
  const compiled = new CompiledConfig(config, version);
  cache.set(tenantId, { compiled, checkedAt: Date.now() });
  return compiled;
}

export function forgetConfig(tenantId: string): void {
  cache.delete(tenantId);
}
