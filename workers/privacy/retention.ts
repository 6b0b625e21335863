// The retention policy (config `retention`): finished interactions older than N days are erased or
// anonymised by the scheduled sweep, a few bounded slices per tenant per run, oldest first.
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import type { TenantConfig } from "../config/schema.ts";
import { retentionSlice } from "../ucs/privacy.ts";
import { eraseSlice, type Removed } from "./erase.ts";

const SLICE = 25;
/** Slices per tenant per sweep: bounded work per run; a backlog is worked down over the next runs. */
export const RETENTION_SLICES = 4;

export async function applyRetention(env: TenantEnv, tenant: string, policy: NonNullable<TenantConfig["retention"]>, now = Date.now(), slices = RETENTION_SLICES, sliceSize = SLICE): Promise<{ interactions: number; removed: Removed }> {
  const before = now - policy.days * 86_400_000;
  const removed: Removed = {};
  let interactions = 0;
  for (let i = 0; i < slices; i++) {
    const items = await retentionSlice(env.DB, tenant, before, sliceSize);
    if (!items.length) break;
    await eraseSlice(env, tenant, items, policy.mode, removed);
    interactions += items.length;
  }
  return { interactions, removed };
}
