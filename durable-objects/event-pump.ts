// EventPump: one per tenant with webhook endpoints. Its alarm reads the event log after each
// endpoint's cursor, records a pending delivery for each event that matches together with the new
// cursor (one D1 batch), then hands the deliveries to the webhooks Queue, whose consumer posts them
// and retries them (workers/events/queue.ts). The log is the truth: the pump keeps only its tenant's
// name and origin, so an evicted or restarted pump resumes from the cursors; a delivery whose message
// was lost stays pending and the sweep sends it again. It wakes every POLL_MS while it has endpoints,
// at once while a backlog remains.
import { DurableObject } from "cloudflare:workers";
import { objectEnv } from "../workers/tenancy/tenant-env.ts";
import { readLog } from "../workers/ucs/event-log.ts";
import { deliveriesInsert, endpoints, endpointUpdate, type EndpointRow } from "../workers/ucs/webhooks.ts";
import { enqueueDeliveries } from "../workers/events/queue.ts";

const POLL_MS = 100;
const BATCH = 500;
/** Endpoints are read again this often (a new one, or one disabled, is seen within it). */
const ENDPOINTS_TTL_MS = 2_000;

const matches = (ep: EndpointRow, type: string) => {
  const types = JSON.parse(ep.types) as string[];
  return types.length === 0 || types.some((t) => (t.endsWith(".") ? type.startsWith(t) : type === t));
};

export class EventPump extends DurableObject<Env> {
  private eps: { at: number; list: EndpointRow[] } | null = null;

  /** Starts (or wakes) the pump of `tenant`; `origin` is the public origin events name as their source.
   *  Called on every endpoint change, so the endpoints are read afresh. */
  async start(tenant: string, origin: string): Promise<void> {
    this.eps = null;
    await this.ctx.storage.put({ tenant, origin });
    await this.ctx.storage.setAlarm(Date.now());
  }

  /** The enabled endpoints, with the cursors this pump last wrote (it is their only writer). */
  private async endpoints(tenant: string): Promise<EndpointRow[]> {
    if (!this.eps || Date.now() - this.eps.at > ENDPOINTS_TTL_MS) this.eps = { at: Date.now(), list: await endpoints((await objectEnv(this.env, tenant)).DB, tenant, true) };
    return this.eps.list;
  }

  override async alarm(): Promise<void> {
    const tenant = await this.ctx.storage.get<string>("tenant");
    const origin = (await this.ctx.storage.get<string>("origin")) ?? "https://parley.invalid";
    if (!tenant) return;
    const eps = await this.endpoints(tenant);
    if (eps.length === 0) return;
    const now = Date.now();
    const te = await objectEnv(this.env, tenant);
    const rows = await readLog(te.DB, tenant, { after: Math.min(...eps.map((e) => e.cursor)), limit: BATCH });
    const last = rows.at(-1)?.seq;
    for (const ep of eps) {
      if (last === undefined || last <= ep.cursor) continue;
      const mine = rows.filter((r) => r.seq > ep.cursor && matches(ep, r.type));
      // Recorded with the cursor first: a crash after this loses no delivery (the sweep sends pending ones).
      await te.DB.batch([
        ...(mine.length ? [deliveriesInsert(te.DB, tenant, ep.id, mine.map((r) => ({ seq: r.seq, subject: r.subject })), now)] : []),
        endpointUpdate(te.DB, tenant, ep.id, { cursor: last }, now),
      ]);
      ep.cursor = last;
      if (mine.length) await enqueueDeliveries(te, tenant, ep.id, mine.map((r) => r.seq), origin).catch((e: unknown) => console.error(`event pump: queueing ${tenant}/${ep.id}`, e));
    }
    await this.ctx.storage.setAlarm(rows.length === BATCH ? Date.now() : Date.now() + POLL_MS);
  }

  /** Its tenant was deleted (the platform's delete): the object's storage goes with it, and any
   *  socket still open is told so. */
  async wipe(): Promise<void> {
    for (const ws of this.ctx.getWebSockets()) ws.close(1000, "tenant deleted");
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    // The instance's memory (its schema made, its caches) goes too, once this answer is sent: a
    // tenant made later with the same id starts from nothing.
    setTimeout(() => this.ctx.abort("wiped"), 0);
  }
}
