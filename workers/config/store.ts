// Per-isolate cache of compiled tenant configs. A version check at most every TTL keeps every
// Worker and object within a couple of seconds of an admin's change, at one small D1 read.
import { CompiledConfig } from "./compiled.ts";
import { configVersion, loadTenantConfig } from "../ucs/tenants.ts";

const TTL_MS = 2000;
const cache = new Map<string, { compiled: CompiledConfig; checkedAt: number }>();

export async function getConfig(db: D1Database, tenantId: string): Promise<CompiledConfig> {
  const hit = cache.get(tenantId);
  const now = Date.now();
  if (hit && now - hit.checkedAt < TTL_MS) return hit.compiled;
  if (hit) {
    const v = await configVersion(db, tenantId);
    if (v === hit.compiled.version) {
      hit.checkedAt = now;
      return hit.compiled;
    }
  }
  const { config, version } = await loadTenantConfig(db, tenantId);
  const compiled = new CompiledConfig(config, version);
  cache.set(tenantId, { compiled, checkedAt: now });
  return compiled;
}

export function forgetConfig(tenantId: string): void {
  cache.delete(tenantId);
}
