// The scheduled sweep: heals the gap "recorded in D1, held by no queue" and takes back offers
// whose agent object never answered.
import { eventPumpStub, queueStub } from "../durable-objects/names.ts";
import { getConfig } from "./config/store.ts";
import { submitNew } from "./interactions/ingest.ts";
import { markSwept, staleQueued } from "./ucs/interactions.ts";
import { allTenantIds } from "./ucs/tenants.ts";
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
  const held = now - RELEASE_HELD_AFTER_MS;
  report.released = await releaseHeldMessages(env.DB, now, held);
  for (const e of await lostSends(env.DB, "emails", now - REQUEUE_SENDING_AFTER_MS)) {
    await touchSend(env.DB, "emails", e.tenant_id, e.id, now).run();
    await enqueueDelivery(env, { tenant: e.tenant_id, emailId: e.id });
    report.requeued.push(e.id);
  }
  // SMS likewise; one interrupted while handed to the provider may or may not have gone out: it is
  // marked so, never sent twice.
  for (const m of await lostSends(env.DB, "sms_messages", now - REQUEUE_SENDING_AFTER_MS)) {
    await touchSend(env.DB, "sms_messages", m.tenant_id, m.id, now).run();
    try {
      await env.SENDS.send({ tenant: m.tenant_id, smsId: m.id }, { contentType: "json" });
      report.requeued.push(m.id);
    } catch (err) {
      console.error(`sweep could not requeue SMS ${m.id}`, err);
    }
  }
  await failInterruptedSms(env.DB, now, held).run();
  // Social sends likewise, and media whose retry message was lost (its next attempt is overdue).
  for (const m of await lostSends(env.DB, "social_messages", now - REQUEUE_SENDING_AFTER_MS)) {
    await touchSend(env.DB, "social_messages", m.tenant_id, m.id, now).run();
    try {
      await env.SENDS.send({ tenant: m.tenant_id, socialId: m.id }, { contentType: "json" });
      report.requeued.push(m.id);
    } catch (err) {
      console.error(`sweep could not requeue social message ${m.id}`, err);
    }
  }
  await failInterruptedSocial(env.DB, now, held).run();
  for (const m of await overdueMedia(env.DB, now - RECHECK_AFTER_MS)) {
    await mediaRequeued(env.DB, m.tenant_id, m.message_id, m.idx, now).run();
    await queueMediaRetry(env, m.tenant_id, m.message_id, m.idx, now);
  }
  // Webhook pumps keep their own alarms; one that lost it (a deploy, an error) is woken here.
  for (const tenant of await tenantsWithEndpoints(env.DB)) await eventPumpStub(env, tenant).start(tenant, new URL(env.PUBLIC_URL).origin).catch((e: unknown) => console.error(`sweep: event pump of ${tenant}`, e));
  // Deliveries whose Queue message was lost (a failed send, a retry the Queue dropped) are sent again.
  const lost = await lostDeliveries(env.DB, now - SWEEP_AFTER_MS * 2, now - RECHECK_AFTER_MS);
  const byEndpoint = new Map<string, typeof lost>();
  for (const d of lost) (byEndpoint.get(`${d.tenant_id}\n${d.endpoint_id}`) ?? byEndpoint.set(`${d.tenant_id}\n${d.endpoint_id}`, []).get(`${d.tenant_id}\n${d.endpoint_id}`)!).push(d);
  for (const ds of byEndpoint.values()) {
    const { tenant_id: tenant, endpoint_id: ep } = ds[0]!;
    const seqs = ds.map((d) => d.seq);
    await deliveriesTouched(env.DB, tenant, ep, seqs, now).run();
    await enqueueDeliveries(env, tenant, ep, seqs, new URL(env.PUBLIC_URL).origin).catch((e: unknown) => console.error(`sweep: webhook deliveries of ${tenant}/${ep}`, e));
  }
  const rows = await staleQueued(env.DB, now - SWEEP_AFTER_MS, now - RECHECK_AFTER_MS, 500);
  for (const row of rows) {
    report.checked.push(row.id);
    try {
      if (await queueStub(env, row.tenant, row.queue).holds(row.id)) continue;
      // Re-read: it may have moved on while we asked.
      const again = await interactionStamp(env.DB, row.tenant, row.id);
      if (!again || again.state !== row.state || again.updated_at !== row.updatedAt) continue;
      await submitNew(env, row.tenant, row.id, "resubmitted");
      report.resubmitted.push(row.id);
    } catch (err) {
      console.error(`sweep could not resubmit ${row.id}`, err);
    }
  }
  await markSwept(env.DB, rows, now);
  const configs: CompiledConfig[] = [];
  for (const tenant of await allTenantIds(env.DB)) {
    const cfg = await getConfig(env.DB, tenant);
    configs.push(cfg);
    const counts = await Promise.all([...cfg.queues.keys()].map((q) => queueStub(env, tenant, q).expireStale().catch(() => 0)));
    report.staleOffers += counts.reduce((a, b) => a + b, 0);
  }
  Object.assign(report, await privacySweep(env, configs, now));
  return report;
}
