// Webhooks to the Standard Webhooks specification: deliveries verified with the official
// `standardwebhooks` package, retries with Retry-After, 410 disabling the endpoint, replay with the
// same webhook-id, secret rotation with an overlap, and URLs refused when saved.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../workers/index.ts";
import { WEBHOOKS_QUEUE, type WebhookJob } from "../../workers/events/queue.ts";
import { makeTenant, submit, until, type Tenant } from "../helpers.ts";

const RECEIVER = "https://hooks.receiver-test.com/parley";

interface Hit {
  headers: Record<string, string>;
  body: string;
}

/** The receiver behind fetch: each request recorded, answered by `answer` (200 by default). */
function receiver(answer: (n: number) => Response = () => new Response("ok")): Hit[] {
  const hits: Hit[] = [];
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (!url.startsWith(RECEIVER)) return realFetch(input, init);
    hits.push({ headers: Object.fromEntries(new Headers(init?.headers).entries()), body: String(init?.body ?? "") });
    return answer(hits.length);
  });
  return hits;
}

const admins = () => makeTenant([{ id: "adm", role: "admin", capacity: {} }]);

async function addEndpoint(t: Tenant, types?: string[]): Promise<{ id: string; secret: string }> {
  return t.call<{ id: string; secret: string }>("/api/v1/admin/webhooks", { method: "POST", as: "adm", json: { url: RECEIVER, ...(types ? { types } : {}) }, expect: 201 });
}

const deliveries = (t: Tenant, id: string) => t.call<{ deliveries: { sequence: number; state: string; attempts: number; status: number | null; nextAt: number | null }[] }>(`/api/v1/admin/webhooks/${id}/deliveries`, { as: "adm" });

/** The consumer run now over these deliveries' messages, as the Queue hands them over once their delay is up. */
async function consume(t: Tenant, endpoint: string, seqs: number[]) {
  const batch = createMessageBatch<WebhookJob>(WEBHOOKS_QUEUE, seqs.map((seq, i) => ({ id: `m-${i}-${seq}`, timestamp: new Date(), attempts: 2, body: { webhook: { tenant: t.id, endpoint, seq, origin: "http://parley.test" } } })));
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

describe("webhooks", () => {
  afterEach(() => vi.restoreAllMocks());

  it("delivers each new event signed so the standardwebhooks library verifies it, filtered by type", async () => {
    const t = await admins();
    const hits = receiver();
    const ep = await addEndpoint(t, ["parley.interaction.created"]);
    expect(ep.secret).toMatch(/^whsec_/);
    await submit(t, { subject: "hello hooks" });
    await until(async () => hits.length >= 1, "a delivery", 10_000);
    const wh = new Webhook(ep.secret);
    const payload = wh.verify(hits[0]!.body, hits[0]!.headers) as { type: string; sequence: number; subject: string };
    expect(payload.type).toBe("parley.interaction.created");
    expect(hits[0]!.headers["webhook-id"]).toBe(`${t.id}:${payload.sequence}`);
    // Tampered, it does not verify.
    expect(() => wh.verify(hits[0]!.body.replace(`"sequence":${payload.sequence}`, `"sequence":${payload.sequence + 1}`), hits[0]!.headers)).toThrow();
    // Only the types asked for: no "queued" came.
    await new Promise((r) => setTimeout(r, 600));
    expect(hits.every((h) => (JSON.parse(h.body) as { type: string }).type === "parley.interaction.created")).toBe(true);
    const list = await t.call<{ endpoints: { id: string; types: string[] }[] }>("/api/v1/admin/webhooks", { as: "adm" });
    expect(list.endpoints[0]).toMatchObject({ id: ep.id, types: ["parley.interaction.created"] });
    expect(JSON.stringify(list)).not.toContain(ep.secret);
  });

  it("retries a 503 after its Retry-After, then delivers; a 410 disables the endpoint", async () => {
    const t = await admins();
    const hits = receiver((n) => (n === 1 ? new Response("busy", { status: 503, headers: { "Retry-After": "120" } }) : new Response("ok")));
    const ep = await addEndpoint(t, ["parley.interaction.created"]);
    await submit(t, { subject: "retry me" });
    await until(async () => (await deliveries(t, ep.id)).deliveries[0]?.state === "retrying", "a retry scheduled", 10_000);
    const d = (await deliveries(t, ep.id)).deliveries[0]!;
    expect(d).toMatchObject({ status: 503, attempts: 1 });
    expect(d.nextAt! - Date.now()).toBeGreaterThan(100_000);
    // The Queue holds the message for those 120 s. Handed over early, it is not sent (nor lost: it is
    // not due, and its own message comes later); once they are up, it is delivered.
    expect((await consume(t, ep.id, [d.sequence])).explicitAcks).toHaveLength(1);
    expect((await deliveries(t, ep.id)).deliveries[0]).toMatchObject({ state: "retrying", attempts: 1 });
    await env.SHARD_1.prepare("UPDATE webhook_deliveries SET next_at = ? WHERE tenant_id = ? AND state = 'retrying'").bind(Date.now(), t.id).run();
    const r = await consume(t, ep.id, [d.sequence]);
    expect(r.explicitAcks).toHaveLength(1);
    expect((await deliveries(t, ep.id)).deliveries[0]).toMatchObject({ state: "delivered", attempts: 2, status: 200 });
    // A second message for it (a replay beside a retry, the sweep's resend) sends nothing again.
    const hitsBefore = hits.length;
    expect((await consume(t, ep.id, [d.sequence, d.sequence])).explicitAcks).toHaveLength(2);
    expect(hits.length).toBe(hitsBefore);
    expect(hits[0]!.headers["webhook-id"]).toBe(hits[1]!.headers["webhook-id"]);

    const gone = await admins();
    vi.restoreAllMocks();
    receiver(() => new Response("gone", { status: 410 }));
    const ep2 = await addEndpoint(gone, ["parley.interaction.created"]);
    await submit(gone, { subject: "to a dead endpoint" });
    await until(async () => (await gone.call<{ endpoints: { state: string }[] }>("/api/v1/admin/webhooks", { as: "adm" })).endpoints[0]?.state === "disabled", "the endpoint disabled", 10_000);
    const audit = await gone.call<{ events: { type: string; subject: string }[] }>("/api/v1/audit?type=parley.webhook.*", { as: "adm" });
    expect(audit.events[0]).toMatchObject({ type: "parley.webhook.disabled", subject: `webhook:${ep2.id}` });
  });

  it("replays a range with the same webhook-ids and fresh timestamps, and rotates the secret with an overlap", async () => {
    const t = await admins();
    const hits = receiver();
    const ep = await addEndpoint(t, ["parley.interaction.created"]);
    await submit(t, { subject: "one" });
    await submit(t, { subject: "two" });
    await until(async () => hits.length >= 2, "two deliveries", 10_000);
    const first = hits.slice(0, 2).map((h) => ({ id: h.headers["webhook-id"], ts: Number(h.headers["webhook-timestamp"]) }));
    await new Promise((r) => setTimeout(r, 1100));
    const seqs = first.map((f) => Number(f.id!.split(":")[1]));
    const r = await t.call<{ replaying: number }>(`/api/v1/admin/webhooks/${ep.id}/replay`, { method: "POST", as: "adm", json: { from: Math.min(...seqs), to: Math.max(...seqs) } });
    expect(r.replaying).toBe(2);
    await until(async () => hits.length >= 4, "the replays", 10_000);
    const again = hits.slice(2, 4).map((h) => ({ id: h.headers["webhook-id"], ts: Number(h.headers["webhook-timestamp"]) }));
    expect(again.map((a) => a.id).sort()).toEqual(first.map((f) => f.id).sort());
    expect(Math.min(...again.map((a) => a.ts))).toBeGreaterThan(Math.max(...first.map((f) => f.ts)));

    const rotated = await t.call<{ secret: string }>(`/api/v1/admin/webhooks/${ep.id}/rotate`, { method: "POST", as: "adm" });
    expect(rotated.secret).not.toBe(ep.secret);
    await submit(t, { subject: "after rotation" });
    await until(async () => hits.length >= 5, "a delivery after the rotation", 10_000);
    const last = hits[4]!;
    expect(last.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    // Both the new and the old secret verify it during the overlap.
    expect(() => new Webhook(rotated.secret).verify(last.body, last.headers)).not.toThrow();
    expect(() => new Webhook(ep.secret).verify(last.body, last.headers)).not.toThrow();
  });

  it("refuses an endpoint on plain http, a private or loopback address, or an internal name, and a bad type", async () => {
    const t = await admins();
    for (const url of ["http://hooks.receiver-test.com/x", "https://127.0.0.1/x", "https://10.0.0.8/x", "https://metadata.internal/x", "https://[::1]/x"]) {
      const res = await t.api("/api/v1/admin/webhooks", { method: "POST", as: "adm", json: { url } });
      expect(res.status, url).toBe(400);
    }
    expect((await t.api("/api/v1/admin/webhooks", { method: "POST", as: "adm", json: { url: RECEIVER, types: ["interaction.created"] } })).status).toBe(400);
    expect((await t.api("/api/v1/admin/webhooks", { method: "POST", as: "adm", json: { url: RECEIVER } })).status).toBe(201);
  });

  it("delivers in order per subject when asked: an event waits while the one before it about the same subject is open", async () => {
    const t = await admins();
    let fail = true;
    const hits = receiver(() => (fail ? new Response("down", { status: 500 }) : new Response("ok")));
    const ep = await t.call<{ id: string; ordered: boolean }>("/api/v1/admin/webhooks", { method: "POST", as: "adm", json: { url: RECEIVER, ordered: true, types: ["parley.interaction.*"] }, expect: 201 });
    expect(ep.ordered).toBe(true);
    const id = await submit(t, { subject: "in order" });
    // The first event of the interaction fails; the ones after it about the same interaction wait unsent.
    await until(async () => (await deliveries(t, ep.id)).deliveries.some((d) => d.state === "retrying"), "the first one retrying", 10_000);
    await new Promise((r) => setTimeout(r, 1500));
    const rows = (await deliveries(t, ep.id)).deliveries.sort((a, b) => a.sequence - b.sequence);
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows[0]).toMatchObject({ state: "retrying", attempts: 1 });
    expect(rows.slice(1).every((d) => d.attempts === 0 && d.state === "pending")).toBe(true);
    expect(hits.every((h) => (JSON.parse(h.body) as { sequence: number }).sequence === rows[0]!.sequence)).toBe(true);
    // The receiver is back: the first goes, then the rest, in their order.
    fail = false;
    hits.length = 0;
    await consume(t, ep.id, rows.map((d) => d.sequence));
    // (The Queue's own consumer may hand one over again meanwhile: the order of first arrivals is what counts.)
    await until(async () => (await deliveries(t, ep.id)).deliveries.every((d) => d.state === "delivered"), "all delivered", 10_000);
    const order = hits.map((h) => (JSON.parse(h.body) as { sequence: number; subject: string }));
    expect([...new Set(order.map((o) => o.sequence))]).toEqual(rows.map((d) => d.sequence));
    expect(order.every((o) => o.subject === id)).toBe(true);
    expect((await deliveries(t, ep.id)).deliveries.every((d) => d.state === "delivered")).toBe(true);
  });
});
