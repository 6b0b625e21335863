// EventPump: one per tenant with webhook endpoints. Its alarm reads the event log after each
// endpoint's cursor and delivers what matches, a few at a time, then advances the cursor; retries
// come due on the same alarm. The log is the truth (D1): the pump keeps only its tenant's name, so
// an evicted or restarted pump resumes from the cursors. It wakes every POLL_MS while it has
// endpoints, at once while a backlog remains.
import { DurableObject } from "cloudflare:workers";
import { readLog, eventAt, type LogRow } from "../workers/ucs/event-log.ts";
import { deliveriesDue, deliveryUpsert, endpoints, nextRetryAt, type EndpointRow } from "../workers/ucs/webhooks.ts";
import { deliver, keysOf, recordPass, type Attempted, type Keys } from "../workers/events/deliver.ts";


const POLL_MS = 250;
const BATCH = 500;
const CONCURRENCY = 48;

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
    const keys = new Map<string, Keys>();
    const keysFor = async (ep: EndpointRow) => keys.get(ep.id) ?? (keys.set(ep.id, await keysOf(this.env, tenant, ep)), keys.get(ep.id)!);
    for (const ep of eps) {
      const mine = due.filter((d) => d.endpoint_id === ep.id);
      if (!mine.length) continue;
      const k = await keysFor(ep);
      const outcomes: Attempted[] = [];
      await inParallel(mine, CONCURRENCY, async (d) => {
        const row = await eventAt(this.env.DB, tenant, d.seq);
        if (row) outcomes.push(await deliver(this.env, tenant, ep, k, row, d.attempts, origin));
      });
      await recordPass(this.env, tenant, ep, outcomes, null);
    }
    // New events: delivered first, then recorded with the cursor in one batch (a crash between the
    // two sends them again, with the same webhook-id: at least once, never lost).
    const from = Math.min(...eps.map((e) => e.cursor));
    const rows = await readLog(this.env.DB, tenant, { after: from, limit: BATCH });
    for (const ep of eps) {
      const mine = rows.filter((r) => r.seq > ep.cursor && matches(ep, r.type));
      const last = rows.at(-1)?.seq ?? ep.cursor;
      const k = mine.length ? await keysFor(ep) : { current: undefined, previous: undefined };
      const outcomes: Attempted[] = [];
      await inParallel<LogRow>(mine, CONCURRENCY, async (r) => void outcomes.push(await deliver(this.env, tenant, ep, k, r, 0, origin)));
      if (mine.length) await this.env.DB.batch(mine.map((r) => deliveryUpsert(this.env.DB, tenant, ep.id, r.seq, now)));
      await recordPass(this.env, tenant, ep, outcomes, last > ep.cursor ? last : null);
    }
    const retryAt = await nextRetryAt(this.env.DB, tenant);
    const next = rows.length === BATCH ? Date.now() : Math.min(Date.now() + POLL_MS, retryAt ?? Infinity);
    await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
  }
}


