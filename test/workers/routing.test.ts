// Routing inside workerd: skills and levels, pick rules, overflow, priority and aging.
import { describe, expect, it } from "vitest";
import { makeTenant, me, offerFor, post, queueItems, ready, stateIs, submit, until } from "../helpers.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("routing", () => {
  it("offers only to agents whose skills meet the target's levels", async () => {
    const t = await makeTenant(
      [{ id: "junior", skills: { billing: 3 } }, { id: "senior", skills: { billing: 7 } }, { id: "sup", role: "supervisor" }],
      [{ name: "billing", media: ["email"], steps: [{ type: "route", targets: [{ skills: "billing >= 5" }] }] }],
    );
    await ready(t, "junior");
    await ready(t, "senior");
    const id = await submit(t, { queue: "billing" });
    const offer = await offerFor(t, "senior", id);
    expect(offer.reason?.competing?.map((c) => c.agentId)).toEqual(["senior"]);
    expect((await me(t, "junior")).offers).toEqual([]);
    const i = await stateIs(t, id, "offered");
    expect(i.agentId).toBe("senior");
    expect(i.history.find((e) => e.action === "offered")?.reason.why).toMatch(/longest idle/);
  });

  it("picks the longest idle agent and records who competed", async () => {
    const t = await makeTenant([{ id: "first" }, { id: "second" }, { id: "third" }]);
    await ready(t, "second");
    await sleep(15);
    await ready(t, "first");
    await sleep(15);
    await ready(t, "third");
    const a = await submit(t, {});
    await offerFor(t, "second", a);
    const b = await submit(t, {});
    await offerFor(t, "first", b);
    const i = await stateIs(t, b, "offered");
    const why = i.history.find((e) => e.action === "offered")!.reason;
    expect(why.competing.map((c: { agentId: string }) => c.agentId)).toEqual(["first", "third"]);
    expect(why.pick).toBe("longest_idle");
  });

  it("picks the highest skill when the target says so", async () => {
    const t = await makeTenant(
      [{ id: "b5", skills: { billing: 5 } }, { id: "b9", skills: { billing: 9 } }, { id: "b7", skills: { billing: 7 } }],
      [{ name: "q", media: ["email"], steps: [{ type: "route", targets: [{ skills: "billing >= 1", pick: "highest_skill" }] }] }],
    );
    for (const a of ["b5", "b9", "b7"]) await ready(t, a);
    const id = await submit(t, { queue: "q" });
    await offerFor(t, "b9", id);
  });

  it("overflows to the next target when the first one's timeout passes", async () => {
    const t = await makeTenant(
      [{ id: "generalist", skills: { tech: 2 } }],
      [{ name: "q", media: ["email"], steps: [{ type: "route", targets: [{ skills: "tech >= 8", timeoutSeconds: 1 }, { skills: "tech >= 1", priority: 7 }] }] }],
    );
    await ready(t, "generalist");
    const id = await submit(t, { queue: "q" });
    await sleep(300);
    expect((await me(t, "generalist")).offers).toEqual([]);
    await offerFor(t, "generalist", id);
    const i = await stateIs(t, id, "offered");
    expect(i.history.map((e) => e.action)).toContain("overflow");
    expect(i.priority).toBe(7);
  });

  it("orders a queue by priority, then age, and ages priority", async () => {
    const t = await makeTenant(
      [{ id: "a" }, { id: "sup", role: "supervisor" }],
      [{ name: "q", media: ["email"], aging: { everySeconds: 1, step: 5, max: 50 }, steps: [{ type: "route", targets: [{ skills: "*" }] }] }],
    );
    const old = await submit(t, { queue: "q", priority: 0 });
    await sleep(1100);
    const low = await submit(t, { queue: "q", priority: 1 });
    const high = await submit(t, { queue: "q", priority: 10 });
    const mid = await submit(t, { queue: "q", priority: 3 });
    // old waited >1 s: 0 + 5 = 5 beats 3 and 1, not 10.
    expect((await queueItems(t, "q", "sup")).map((i) => i.id)).toEqual([high, old, mid, low]);
    // The agent who frees up takes the head of the queue.
    await ready(t, "a");
    await offerFor(t, "a", high);
  });

  it("lets a freed agent claim the best interaction across its queues", async () => {
    const t = await makeTenant(
      [{ id: "both", skills: { billing: 5, tech: 5 } }],
      [
        { name: "billing", media: ["email"], steps: [{ type: "route", targets: [{ skills: "billing >= 1" }] }] },
        { name: "tech", media: ["email"], steps: [{ type: "route", targets: [{ skills: "tech >= 1" }] }] },
      ],
    );
    await submit(t, { queue: "billing", priority: 1 });
    const urgent = await submit(t, { queue: "tech", priority: 9 });
    await ready(t, "both");
    await offerFor(t, "both", urgent);
    expect((await me(t, "both")).offers).toHaveLength(1);
  });

  it("never offers beyond capacity, and offers more as capacity frees", async () => {
    const t = await makeTenant([{ id: "a", capacity: { email: 2 } }]);
    await ready(t, "a");
    const ids = [await submit(t, {}), await submit(t, {}), await submit(t, {})];
    await until(async () => (await me(t, "a")).offers.length === 2, "two offers");
    await sleep(100);
    expect((await me(t, "a")).offers.map((o) => o.interactionId).sort()).toEqual(ids.slice(0, 2).sort());
    await post(t, `/api/v1/interactions/${ids[0]}/accept`, "a");
    await post(t, `/api/v1/interactions/${ids[0]}/done`, "a");
    await offerFor(t, "a", ids[2]);
    await stateIs(t, ids[0]!, "done");
  });

  it("does not offer to agents who are not ready, in after-work, or logged out", async () => {
    const t = await makeTenant([{ id: "a" }]);
    await post(t, "/api/v1/me/login", "a", {});
    const id = await submit(t, {});
    await sleep(200);
    expect((await me(t, "a")).offers).toEqual([]);
    await post(t, "/api/v1/me/ready", "a", { ready: true });
    await post(t, "/api/v1/me/after-work", "a", { on: true });
    await sleep(100);
    expect((await me(t, "a")).presence).toBe("after_work");
    await post(t, "/api/v1/me/after-work", "a", { on: false });
    await offerFor(t, "a", id);
  });

  it("holds an agent in after-work for the tenant's afterWorkSeconds after each done, then offers again", async () => {
    const t = await makeTenant([{ id: "a" }], undefined, {
      settings: { offerTimeoutSeconds: 30, tokenTtlSeconds: 3600, afterWorkSeconds: 1, notReadyReasons: ["break"] },
    });
    await ready(t, "a");
    const one = await submit(t, {});
    await offerFor(t, "a", one);
    await post(t, `/api/v1/interactions/${one}/accept`, "a");
    const two = await submit(t, {});
    await post(t, `/api/v1/interactions/${one}/done`, "a");
    const s = await me(t, "a");
    expect(s.presence).toBe("after_work");
    expect(s.offers).toEqual([]);
    // The agent's alarm ends after-work and it claims the waiting interaction.
    await offerFor(t, "a", two);
    expect((await me(t, "a")).presence).toBe("busy");
  });
});
