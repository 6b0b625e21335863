// EventPump: one per tenant with webhook endpoints. Its alarm reads the event log after each
// endpoint's cursor and delivers what matches, a few at a time, then advances the cursor; retries
// come due on the same alarm. The log is the truth (D1): the pump keeps only its tenant's name, so
// an evicted or restarted pump resumes from the cursors. It wakes every POLL_MS while it has
// endpoints, at once while a backlog remains.
import { DurableObject } from "cloudflare:workers";
import { readLog, eventAt, type LogRow } from "../workers/ucs/event-log.ts";
import { deliveriesDue, deliveryUpsert, endpoints, endpointUpdate, nextRetryAt, type EndpointRow } from "../workers/ucs/webhooks.ts";
import { deliver } from "../workers/events/deliver.ts";


const POLL_MS = 250;
const BATCH = 500;
const CONCURRENCY = 16;

const matches = (ep: EndpointRow, type: string) => {
  const types = JSON.parse(ep.types) as string[];
  return types.length === 0 || types.some((t) => (t.endsWith(".") ? type.startsWith(t) : type === t));
};

async function inParallel<T>(items: T[], n: number, fn: (x: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (i < items.length) await fn(items[i++]!).catch((e: unknown) => console.error("webhook delivery", e));
  }));
}

export class EventPump extends DurableObject<Env> {
  /** Starts (or wakes) the pump of `tenant`; `origin` is the public origin events name as their source. */
  async start(tenant: string, origin: string): Promise<void> {
    await this.ctx.storage.put({ tenant, origin });
    await this.ctx.storage.setAlarm(Date.now());
  }

  override async alarm(): Promise<void> {
    const tenant = await this.ctx.storage.get<string>("tenant");
    const origin = (await this.ctx.storage.get<string>("origin")) ?? "https://parley.invalid";
    if (!tenant) return;
    const eps = await endpoints(this.env.DB, tenant, true);
    if (eps.length === 0) return;
    const now = Date.now();
    // Retries that came due (and replays).
    const due = await deliveriesDue(this.env.DB, tenant, now);
    const byId = new Map(eps.map((e) => [e.id, e]));
    await inParallel(due, CONCURRENCY, async (d) => {
      const ep = byId.get(d.endpoint_id);
      const row = ep ? await eventAt(this.env.DB, tenant, d.seq) : null;
      if (ep && row) await deliver(this.env, tenant, ep, row, d.attempts, origin);
    });
    // New events.
    const from = Math.min(...eps.map((e) => e.cursor));
    const rows = await readLog(this.env.DB, tenant, { after: from, limit: BATCH });
    for (const ep of eps) {
      const mine = rows.filter((r) => r.seq > ep.cursor && matches(ep, r.type));
      const last = rows.at(-1)?.seq ?? ep.cursor;
      if (mine.length) await this.env.DB.batch(mine.map((r) => deliveryUpsert(this.env.DB, tenant, ep.id, r.seq, now)));
      if (last > ep.cursor) await endpointUpdate(this.env.DB, tenant, ep.id, { cursor: last }, now).run();
      await inParallel<LogRow>(mine, CONCURRENCY, (r) => deliver(this.env, tenant, ep, r, 0, origin));
    }
    const retryAt = await nextRetryAt(this.env.DB, tenant);
    const next = rows.length === BATCH ? Date.now() : Math.min(Date.now() + POLL_MS, retryAt ?? Infinity);
    await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
  }
}


