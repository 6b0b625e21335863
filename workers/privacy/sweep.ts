// The scheduled sweep's share of data protection: erasures a request left running (or waiting for open
// work), R2 deletions a crash left pending, expired export archives, and each tenant's retention policy.
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import type { CompiledConfig } from "../config/compiled.ts";
import { expiredExports, exportGone } from "../ucs/export-reads.ts";
import { stalledErasures, tenantsWithPendingBlobs } from "../ucs/privacy.ts";
import { drainBlobs, eraseContact } from "./erase.ts";
import { applyRetention } from "./retention.ts";

/** An erasure untouched this long has lost its request: the sweep carries it on. */
export const ERASURE_STALL_MS = 30_000;

/** One shard's share: `db` is the shard, `on` a tenant's env when it lives there (else null, skipped). */
export async function privacySweep(db: D1Database, on: (tenant: string) => Promise<TenantEnv | null>, configs: CompiledConfig[], now = Date.now()): Promise<{ erasures: number; retained: number }> {
  let erasures = 0;
  let retained = 0;
  for (const e of await stalledErasures(db, now - ERASURE_STALL_MS)) {
    const env = await on(e.tenant_id);
    if (env) await eraseContact(env, e.tenant_id, e.contact_id, { by: "system" }, 10_000).then(() => erasures++, (err: unknown) => console.error(`sweep: erasure for ${e.tenant_id}/${e.contact_id}`, err));
  }
  for (const t of await tenantsWithPendingBlobs(db)) {
    const env = await on(t);
    if (env) await drainBlobs(env, t, {}).catch((err: unknown) => console.error(`sweep: blob deletes of ${t}`, err));
  }
  for (const x of await expiredExports(db, now)) {
    const env = await on(x.tenant_id);
    if (!env) continue;
    await env.BLOBS.delete(x.r2_key);
    await exportGone(db, x.tenant_id, x.id).run();
  }
  for (const cfg of configs) {
    const policy = cfg.raw.retention;
    const env = policy ? await on(cfg.tenantId) : null;
    if (!policy || !env) continue;
    await applyRetention(env, cfg.tenantId, policy, now).then((r) => void (retained += r.interactions), (err: unknown) => console.error(`sweep: retention of ${cfg.tenantId}`, err));
  }
  return { erasures, retained };
}
