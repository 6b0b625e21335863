// D1 round trips per operation (issue 17): on Cloudflare each D1 call crosses the network to the
// database's primary, so the doors' counts are asserted here (the bench reports them too). The Worker's
// calls are counted through the bench-mode wrapper; a batch() is one trip.
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../workers/index.ts";
import { countedD1, d1Counts, resetD1Counts } from "../../workers/kernel/d1-count.ts";
import { chatTenant, SHOP } from "../chat-helpers.ts";
import { makeTenant, ready } from "../helpers.ts";

const benchEnv = { ...env, BENCH: "1" } as Env;
/** The Worker's round trips for one request (what it did before answering). */
async function trips(req: Request): Promise<{ status: number; trips: number }> {
  resetD1Counts();
  const res = await worker.fetch(req as Parameters<typeof worker.fetch>[0], benchEnv, createExecutionContext());
  await res.arrayBuffer();
  return { status: res.status, trips: d1Counts().worker ?? 0 };
}

describe("D1 round trips", () => {
  it("counts a batch as one trip and each single statement as one", async () => {
    resetD1Counts();
    const db = countedD1(env.SHARD_1, "here");
    await db.prepare("SELECT 1").first();
    await db.batch([db.prepare("SELECT 1"), db.prepare("SELECT 2").bind(), db.prepare("SELECT ?").bind(3)]);
    await db.prepare("SELECT ?").bind(4).all();
    expect(d1Counts()).toEqual({ here: 3 });
  });

  it("an ingest, a form post and a chat start each make at most 2 before they answer", async () => {
    const t = await chatTenant([{ id: "ana", capacity: { chat: 5, generic: 5, email: 5 } }], {}, {
      forms: [{ name: "contact", workflow: "main", allowedOrigins: [SHOP], rateLimit: { max: 100, perSeconds: 60 }, fields: [{ name: "email", label: "Email", type: "email", required: true }, { name: "message", label: "Message", type: "textarea", required: true }] }],
    });
    await ready(t, "ana");
    const ingest = (i: number) => new Request("http://parley.test/api/v1/interactions", { method: "POST", headers: { Authorization: `Bearer ${t.key}`, "Content-Type": "application/json" }, body: JSON.stringify({ media: "generic", queue: "inbound", subject: `trip ${i}`, contact: { email: "trips@example.com" } }) });
    const form = (i: number) => new Request(`http://parley.test/api/v1/forms/${t.id}.contact`, { method: "POST", headers: { Origin: SHOP, "Content-Type": "application/json", "CF-Connecting-IP": "10.0.0.9" }, body: JSON.stringify({ email: "trips@example.com", message: `form ${i}` }) });
    const chat = (i: number) => new Request(`http://parley.test/api/v1/chat/${t.id}/sessions`, { method: "POST", headers: { Origin: SHOP, "Content-Type": "application/json", "CF-Connecting-IP": "10.0.0.9" }, body: JSON.stringify({ clientId: `trips-${i}-${t.id}`, name: "Kim" }) });
    for (const [name, make] of [["ingest", ingest], ["form", form], ["chat start", chat]] as const) {
      await trips(make(0)); // the first one reads the config and warms the caches
      const r = await trips(make(1));
      expect(r.status, name).toBeLessThan(300);
      expect(r.trips, name).toBeLessThanOrEqual(2);
      // (and at least the write: the count is live)
      expect(r.trips, name).toBeGreaterThanOrEqual(1);
    }
  });

  it("a chat message costs the Worker none", async () => {
    const t = await makeTenant([{ id: "ana", capacity: { chat: 2 } }], undefined, { chat: { workflow: "main", allowedOrigins: [SHOP] } });
    await ready(t, "ana");
    const start = await (await worker.fetch(new Request(`http://parley.test/api/v1/chat/${t.id}/sessions`, { method: "POST", headers: { Origin: SHOP, "Content-Type": "application/json" }, body: JSON.stringify({ clientId: `m-${t.id}`, name: "Kim" }) }), env, createExecutionContext())).json<{ chatId: string; token: string }>();
    const msg = (i: number) => new Request(`http://parley.test/api/v1/chat/sessions/${start.chatId}/messages`, { method: "POST", headers: { Origin: SHOP, Authorization: `Bearer ${start.token}`, "Content-Type": "application/json" }, body: JSON.stringify({ clientId: `c${i}`, text: `hello ${i}` }) });
    await trips(msg(0));
    const r = await trips(msg(1));
    expect(r.status).toBe(201);
    expect(r.trips).toBe(0);
  });

  it("reads in a D1 session: every answer carries its bookmark, and a bad bookmark is ignored, not an error", async () => {
    const t = await makeTenant([{ id: "ana", capacity: { generic: 2 } }]);
    const w = await t.api("/api/v1/interactions", { method: "POST", json: { media: "generic", queue: "inbound", subject: "bookmarked" } });
    expect(w.status).toBe(201);
    const bookmark = w.headers.get("X-D1-Bookmark");
    expect(bookmark).toBeTruthy();
    const { id } = await w.json<{ id: string }>();
    for (const given of [bookmark!, "not a bookmark", "0".repeat(500)]) {
      const r = await t.api(`/api/v1/interactions/${id}`, { headers: { "X-D1-Bookmark": given } });
      expect(r.status, given.slice(0, 20)).toBe(200);
      expect(r.headers.get("X-D1-Bookmark")).toBeTruthy();
    }
  });
});
