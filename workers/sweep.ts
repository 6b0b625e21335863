// The scheduled sweep: heals the gap "recorded in D1, held by no queue" and takes back offers
// whose agent object never answered.
import { queueStub } from "../durable-objects/names.ts";
import { getConfig } from "./config/store.ts";
import { submitNew } from "./interactions/ingest.ts";
import { markSwept, staleQueued } from "./ucs/interactions.ts";
import { allTenantIds } from "./ucs/tenants.ts";

/** How long a row may sit in 'new' or 'queued' unchanged before the sweep checks that its queue holds it. */
export const SWEEP_AFTER_MS = 60_000;
/** A row found held by its queue is not checked again for this long. */
export const RECHECK_AFTER_MS = 10 * 60_000;

export interface SweepReport {
  checked: string[];
  resubmitted: string[];
  staleOffers: number;
}

export async function sweep(env: Env, now = Date.now()): Promise<SweepReport> {
  const report: SweepReport = { checked: [], resubmitted: [], staleOffers: 0 };
  const rows = await staleQueued(env.DB, now - SWEEP_AFTER_MS, now - RECHECK_AFTER_MS, 500);
  for (const row of rows) {
    report.checked.push(row.id);
    try {
      if (await queueStub(env, row.tenant, row.queue).holds(row.id)) continue;
      // Re-read: it may have moved on while we asked.
      const again = await env.DB.prepare("SELECT state, updated_at FROM interactions WHERE tenant_id = ? AND id = ?").bind(row.tenant, row.id).first<{ state: string; updated_at: number }>();
      if (!again || again.state !== row.state || again.updated_at !== row.updatedAt) continue;
      await submitNew(env, row.tenant, row.id, "resubmitted");
      report.resubmitted.push(row.id);
    } catch (err) {
      console.error(`sweep could not resubmit ${row.id}`, err);
    }
  }
  await markSwept(env.DB, rows, now);
  for (const tenant of await allTenantIds(env.DB)) {
    const cfg = await getConfig(env.DB, tenant);
    const counts = await Promise.all([...cfg.queues.keys()].map((q) => queueStub(env, tenant, q).expireStale().catch(() => 0)));
    report.staleOffers += counts.reduce((a, b) => a + b, 0);
  }
  return report;
}
