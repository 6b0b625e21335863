// The scheduled sweep: heals the gap "recorded in D1, held by no queue" and takes back offers
// whose agent object never answered.
import { eventPumpStub, queueStub } from "../durable-objects/names.ts";
import { getConfig } from "./config/store.ts";
import { submitNew } from "./interactions/ingest.ts";
import { markSwept, staleQueued } from "./ucs/interactions.ts";
import { tenantsOnShard } from "./ucs/directory.ts";
import { shardDb, shardList } from "./tenancy/shards.ts";
import { lookupEntry, scopedEnv, type TenantEnv } from "./tenancy/tenant-env.ts";
import { mediaRequeued, overdueMedia } from "./ucs/social.ts";
import { deliveriesTouched, lostDeliveries, tenantsWithEndpoints } from "./ucs/webhooks.ts";
import { enqueueDeliveries } from "./events/queue.ts";
import { queueMediaRetry } from "./social/media.ts";
import { failInterruptedSms, failInterruptedSocial, lostSends, releaseHeldMessages, touchSend } from "./ucs/sweep.ts";
import { interactionStamp } from "./ucs/interaction-reads.ts";
import { enqueueDelivery } from "./outbound/message.ts";
import { privacySweep } from "./privacy/sweep.ts";
import type { CompiledConfig } from "./config/compiled.ts";

/** How long a row may sit in 'new' or 'queued' unchanged before the sweep checks that its queue holds it. */
export const SWEEP_AFTER_MS = 60_000;
/** A row found held by its queue is not checked again for this long. */
export const RECHECK_AFTER_MS = 10 * 60_000;

/** A message in 'sending' untouched this long lost its delivery job (a failed Queue send): queue it again.
 *  Longer than the whole retry schedule, so a job still retrying is never doubled. */
export const REQUEUE_SENDING_AFTER_MS = 60 * 60_000;

/** A send or a review holds its message ('claimed', 'reviewing') for a few seconds; one held this long
 *  lost its Worker midway and goes back to where it was, so its author or reviewer can act again. */
export const RELEASE_HELD_AFTER_MS = 10 * 60_000;

export interface SweepReport {
  released: number;
  requeued: string[];
  checked: string[];
  resubmitted: string[];
  staleOffers: number;
  erasures: number;
  retained: number;
}

export async function sweep(env: Env, now = Date.now()): Promise<SweepReport> {
  const report: SweepReport = { checked: [], resubmitted: [], staleOffers: 0, requeued: [], released: 0, erasures: 0, retained: 0 };
  // Each shard on its own: one that fails doesn't stop the others' sweep.
  for (const s of shardList(env)) await sweepShard(env, s.binding, now, report).catch((e: unknown) => console.error(`sweep of ${s.binding}`, e));
  return report;
}

/** The tenant's env when it lives on `shard` and isn't moving (rows a move left behind, or a tenant
 *  in the middle of one, are not swept here). */
async function sweepEnv(env: Env, tenant: string, shard: string): Promise<TenantEnv | null> {
  const entry = await lookupEntry(env, tenant);
  return entry && !entry.movingTo && entry.shard === shard && entry.status !== "deleting" ? scopedEnv(env, entry, shard) : null;
}

async function sweepShard(platform: Env, shard: string, now: number, report: SweepReport): Promise<void> {
  const db = shardDb(platform, shard);
  const on = (tenant: string) => sweepEnv(platform, tenant, shard);
  const held = now - RELEASE_HELD_AFTER_MS;
  report.released += await releaseHeldMessages(db, now, held);
  for (const e of await lostSends(db, "emails", now - REQUEUE_SENDING_AFTER_MS)) {
    const env = await on(e.tenant_id);
    if (!env) continue;
    await touchSend(db, "emails", e.tenant_id, e.id, now).run();
    await enqueueDelivery(env, { tenant: e.tenant_id, emailId: e.id });
    report.requeued.push(e.id);
  }
  // SMS likewise; one interrupted while handed to the provider may or may not have gone out: it is
  // marked so, never sent twice.
  for (const m of await lostSends(db, "sms_messages", now - REQUEUE_SENDING_AFTER_MS)) {
    if (!(await on(m.tenant_id))) continue;
    await touchSend(db, "sms_messages", m.tenant_id, m.id, now).run();
    try {
      await platform.SENDS.send({ tenant: m.tenant_id, smsId: m.id }, { contentType: "json" });
      report.requeued.push(m.id);
    } catch (err) {
      console.error(`sweep could not requeue SMS ${m.id}`, err);
    }
  }
  await failInterruptedSms(db, now, held).run();
  // Social sends likewise, and media whose retry message was lost (its next attempt is overdue).
  for (const m of await lostSends(db, "social_messages", now - REQUEUE_SENDING_AFTER_MS)) {
    if (!(await on(m.tenant_id))) continue;
    await touchSend(db, "social_messages", m.tenant_id, m.id, now).run();
    try {
      await platform.SENDS.send({ tenant: m.tenant_id, socialId: m.id }, { contentType: "json" });
      report.requeued.push(m.id);
    } catch (err) {
      console.error(`sweep could not requeue social message ${m.id}`, err);
    }
  }
  await failInterruptedSocial(db, now, held).run();
  for (const m of await overdueMedia(db, now - RECHECK_AFTER_MS)) {
    const env = await on(m.tenant_id);
    if (!env) continue;
    await mediaRequeued(db, m.tenant_id, m.message_id, m.idx, now).run();
    await queueMediaRetry(env, m.tenant_id, m.message_id, m.idx, now);
  }
  // Webhook pumps keep their own alarms; one that lost it (a deploy, an error) is woken here.
  for (const tenant of await tenantsWithEndpoints(db)) {
    const env = await on(tenant);
    if (env) await eventPumpStub(env, tenant).start(tenant, new URL(env.PUBLIC_URL).origin).catch((e: unknown) => console.error(`sweep: event pump of ${tenant}`, e));
  }
  // Deliveries whose Queue message was lost (a failed send, a retry the Queue dropped) are sent again.
  const lost = await lostDeliveries(db, now - SWEEP_AFTER_MS * 2, now - RECHECK_AFTER_MS);
  const byEndpoint = new Map<string, typeof lost>();
  for (const d of lost) (byEndpoint.get(`${d.tenant_id}\n${d.endpoint_id}`) ?? byEndpoint.set(`${d.tenant_id}\n${d.endpoint_id}`, []).get(`${d.tenant_id}\n${d.endpoint_id}`)!).push(d);
  for (const ds of byEndpoint.values()) {
    const { tenant_id: tenant, endpoint_id: ep } = ds[0]!;
    const seqs = ds.map((d) => d.seq);
    const env = await on(tenant);
    if (!env) continue;
    await deliveriesTouched(db, tenant, ep, seqs, now).run();
    await enqueueDeliveries(env, tenant, ep, seqs, new URL(env.PUBLIC_URL).origin).catch((e: unknown) => console.error(`sweep: webhook deliveries of ${tenant}/${ep}`, e));
  }
  const rows = await staleQueued(db, now - SWEEP_AFTER_MS, now - RECHECK_AFTER_MS, 500);
  for (const row of rows) {
    const env = await on(row.tenant);
    if (!env) continue;
    report.checked.push(row.id);
    try {
      if (await queueStub(env, row.tenant, row.queue).holds(row.id)) continue;
      // Re-read: it may have moved on while we asked.
      const again = await interactionStamp(db, row.tenant, row.id);
      if (!again || again.state !== row.state || again.updated_at !== row.updatedAt) continue;
      await submitNew(env, row.tenant, row.id, "resubmitted");
      report.resubmitted.push(row.id);
    } catch (err) {
      console.error(`sweep could not resubmit ${row.id}`, err);
    }
  }
  // Only rows of tenants that live here now (a row of a tenant being moved is left as it is).
  await markSwept(db, rows.filter((r) => report.checked.includes(r.id)), now);
  const configs: CompiledConfig[] = [];
  for (const tenant of await tenantsOnShard(platform.CONTROL, shard)) {
    const env = await on(tenant);
    if (!env) continue;
    const cfg = await getConfig(db, tenant);
    configs.push(cfg);
    const counts = await Promise.all([...cfg.queues.keys()].map((q) => queueStub(env, tenant, q).expireStale().catch(() => 0)));
    report.staleOffers += counts.reduce((a, b) => a + b, 0);
  }
  const p = await privacySweep(db, on, configs, now);
  report.erasures += p.erasures;
  report.retained += p.retained;
}
