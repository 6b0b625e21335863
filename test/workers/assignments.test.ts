// Work assigned to one agent (a transfer to an agent, a supervisor's assign) reaches that agent.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { agentName } from "../../durable-objects/names.ts";
import { makeTenant, offerFor, post, ready, stateIs, submit } from "../helpers.ts";

describe("assigned work", () => {
  it("reaches an agent who was busy on that media when it was assigned, once the agent frees up", async () => {
    const t = await makeTenant(
      [{ id: "a", skills: { billing: 5 } }, { id: "b", capacity: { email: 1, chat: 1 } }],
      [
        { name: "billing", media: ["email"], steps: [{ type: "route", targets: [{ skills: "billing >= 1" }] }] },
        { name: "general", media: ["email", "chat"], steps: [{ type: "route", targets: [{ skills: "!billing" }] }] },
      ],
    );
    await ready(t, "a");
    await ready(t, "b");
    const own = await submit(t, { queue: "general" });
    await offerFor(t, "b", own);
    await post(t, `/api/v1/interactions/${own}/accept`, "b");
    const billing = await submit(t, { queue: "billing" });
    await offerFor(t, "a", billing);
    await post(t, `/api/v1/interactions/${billing}/accept`, "a");
    // b has no email room and no billing skill; its pin must survive its pulls for chat.
    await post(t, `/api/v1/interactions/${billing}/transfer`, "a", { agent: "b" });
    await new Promise((r) => setTimeout(r, 300));
    await post(t, `/api/v1/interactions/${own}/done`, "b");
    await offerFor(t, "b", billing);
    // The offer claimed through the pin expires like any other: the agent's alarm is armed.
    const alarm = await runInDurableObject(env.AGENT.getByName(agentName(t.id, "b")), (_i, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
  });

  it("is offered from a queue with no routing strategy (a review queue)", async () => {
    const t = await makeTenant([{ id: "a" }, { id: "sup", role: "supervisor" }], [{ name: "review", media: ["email"], steps: [] }]);
    await ready(t, "a");
    const id = await submit(t, { queue: "review" });
    await stateIs(t, id, "queued");
    await post(t, `/api/v1/interactions/${id}/assign`, "sup", { agent: "a" });
    await offerFor(t, "a", id);
    await post(t, `/api/v1/interactions/${id}/accept`, "a");
    await stateIs(t, id, "handling", (x) => x.agentId === "a");
  });
});
