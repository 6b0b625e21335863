// Objects evicted and restarted lose nothing; the sweep heals work that D1 holds and no queue does.
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { agentName, queueName } from "../../durable-objects/names.ts";
import type { QueueItem } from "../../durable-objects/types.ts";
import { sweep } from "../../workers/sweep.ts";
import { createInteraction } from "../../workers/ucs/interactions.ts";
import { makeTenant, me, offerFor, post, queueItems, ready, stateIs, submit, until } from "../helpers.ts";

describe("durability", () => {
  it("an evicted queue and agent keep waiting work, offers, work in hand, workbins and statistics", async () => {
    const t = await makeTenant([{ id: "a", capacity: { email: 3 } }, { id: "sup", role: "supervisor" }]);
    await ready(t, "a");
    const [one, two, three] = [await submit(t, { priority: 1 }), await submit(t, {}), await submit(t, {})];
    await offerFor(t, "a", one);
    await offerFor(t, "a", two);
    await offerFor(t, "a", three);
    await post(t, `/api/v1/interactions/${one}/accept`, "a");
    await post(t, `/api/v1/interactions/${two}/accept`, "a");
    await post(t, `/api/v1/interactions/${two}/park`, "a", { workbin: "personal" });
    await post(t, "/api/v1/me/ready", "a", { ready: false, reason: "lunch" });
    const waiting = [await submit(t, { priority: 5 }), await submit(t, {})];

    const before = { me: await me(t, "a"), items: await queueItems(t, "inbound", "sup") };
    const statsBefore = await t.call<{ queues: unknown[] }>("/api/v1/stats", { as: "sup" });
    await evictDurableObject(env.AGENT.getByName(agentName(t.id, "a")));
    await evictDurableObject(env.QUEUE.getByName(queueName(t.id, "inbound")));

    const after = await me(t, "a");
    expect(after.offers.map((o) => o.interactionId)).toEqual(before.me.offers.map((o) => o.interactionId));
    expect(after.work.map((w) => w.interactionId)).toEqual([one]);
    expect(after.workbin).toBe(1);
    expect(after.presence).toBe("not_ready");
    expect((await queueItems(t, "inbound", "sup")).map((i) => i.id)).toEqual(before.items.map((i) => i.id));
    expect(before.items.filter((i) => i.state === "waiting").map((i) => i.id)).toEqual(waiting);
    expect(before.items.filter((i) => i.state === "offered").map((i) => i.id)).toEqual([three]);
    const statsAfter = await t.call<{ queues: { entered: number; distributed: number }[] }>("/api/v1/stats", { as: "sup" });
    expect(statsAfter.queues.map((q) => [q.entered, q.distributed])).toEqual((statsBefore.queues as { entered: number; distributed: number }[]).map((q) => [q.entered, q.distributed]));

    // Work resumes where it was.
    await post(t, `/api/v1/interactions/${three}/accept`, "a");
    await post(t, `/api/v1/interactions/${one}/done`, "a");
    await post(t, "/api/v1/me/ready", "a", { ready: true });
    await offerFor(t, "a", waiting[0]);
    await stateIs(t, three, "handling");
    await stateIs(t, one, "done");
  });

  it("the sweep resubmits an interaction recorded in D1 but held by no queue", async () => {
    const t = await makeTenant([{ id: "a" }]);
    await ready(t, "a");
    // As if the Worker died between writing D1 and submitting to the queue.
    const { id } = await createInteraction(env.SHARD_1, {
      tenant: t.id, media: "email", channel: "api", direction: "inbound", queue: "inbound", priority: 0, categories: [], attributes: {}, actor: "ingest", subject: "lost",
    });
    await env.SHARD_1.prepare("UPDATE interactions SET updated_at = ? WHERE tenant_id = ? AND id = ?").bind(Date.now() - 120_000, t.id, id).run();
    const report = await sweep(env);
    expect(report.resubmitted).toContain(id);
    await offerFor(t, "a", id);
    const i = await stateIs(t, id, "offered");
    expect(i.history.map((e) => e.action)).toEqual(["created", "resubmitted", "offered"]);
    // A second sweep finds nothing to do for it.
    expect((await sweep(env)).resubmitted).not.toContain(id);
  });

  it("the sweep leaves alone interactions their queue holds", async () => {
    const t = await makeTenant([{ id: "a" }]);
    const id = await submit(t, {});
    await stateIs(t, id, "queued");
    await env.SHARD_1.prepare("UPDATE interactions SET updated_at = ? WHERE tenant_id = ? AND id = ?").bind(Date.now() - 120_000, t.id, id).run();
    const first = await sweep(env);
    expect(first.checked).toContain(id);
    expect(first.resubmitted).not.toContain(id);
    // Checked and found held: the next runs spend their budget elsewhere.
    expect((await sweep(env)).checked).not.toContain(id);
  });

  it("a queue takes back an offer whose agent never answered", async () => {
    const t = await makeTenant([{ id: "a" }, { id: "sup", role: "supervisor" }]);
    await ready(t, "a");
    const id = await submit(t, {});
    await offerFor(t, "a", id);
    const q = env.QUEUE.getByName(queueName(t.id, "inbound"));
    const { runInDurableObject } = await import("cloudflare:test");
    await runInDurableObject(q, (_i, state) => state.storage.sql.exec("UPDATE items SET offer_until = 1"));
    const report = await sweep(env);
    expect(report.staleOffers).toBeGreaterThanOrEqual(1);
    const i = await stateIs(t, id, "queued");
    expect(i.history.map((e) => e.action)).toContain("offer_stale");
  });

  it("a queue restarted in the middle of a handoff keeps exactly one copy", async () => {
    const t = await makeTenant([{ id: "sup", role: "supervisor" }], [
      { name: "a", media: ["email"], steps: [] },
      { name: "b", media: ["email"], steps: [] },
    ]);
    const arrived = await submit(t, { queue: "a" });
    const stranded = await submit(t, { queue: "a" });
    // `arrived` reached b before a could forget it; `stranded` never reached b.
    const b = env.QUEUE.getByName(queueName(t.id, "b"));
    const listed = (await t.call<{ items: { id: string; item: QueueItem }[] }>("/api/v1/queues/a/interactions", { as: "sup" })).items;
    await b.submit(listed.find((i) => i.id === arrived)!.item, { actor: "test", action: "moved" });
    const a = env.QUEUE.getByName(queueName(t.id, "a"));
    await runInDurableObject(a, (_i, state) => {
      for (const [id, to] of [[arrived, "queue:b"], [stranded, "queue:b"]] as const) {
        state.storage.sql.exec("UPDATE items SET state = 'moving' WHERE id = ?", id);
        state.storage.sql.exec("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", `moving:${id}`, `${to}|${Date.now()}`);
      }
    });
    await evictDurableObject(a);
    await until(async () => {
      const items = await queueItems(t, "a", "sup");
      return items.length === 1 && items[0]!.id === stranded && items[0]!.state === "waiting";
    }, "a to keep only the stranded one, waiting again");
    expect((await queueItems(t, "b", "sup")).map((i) => i.id)).toEqual([arrived]);
  });
});
