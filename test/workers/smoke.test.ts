import { describe, expect, it } from "vitest";
import { makeTenant, post, submit, until } from "../helpers.ts";

describe("smoke", () => {
  it("routes one interaction to a ready agent", async () => {
    const t = await makeTenant([{ id: "a1", capacity: { email: 2 } }]);
    const h = await t.call<{ ok: boolean }>("/api/health", { as: "" });
    expect(h.ok).toBe(true);
    await post(t, "/api/v1/me/login", "a1", { ready: true });
    const id = await submit(t, { externalId: "x1", subject: "Hello", text: "Need help", contact: { email: "Ann@Example.com", name: "Ann Smith" } });
    const me = await until(async () => {
      const s = await t.call<{ offers: { interactionId: string }[] }>("/api/v1/me", { as: "a1" });
      return s.offers.length ? s : null;
    }, "an offer");
    expect(me.offers[0]!.interactionId).toBe(id);
    await post(t, `/api/v1/interactions/${id}/accept`, "a1");
    await post(t, `/api/v1/interactions/${id}/done`, "a1");
    const got = await until(async () => {
      const r = await t.call<{ state: string; history: { action: string }[] }>(`/api/v1/interactions/${id}`);
      return r.state === "done" ? r : null;
    }, "done in D1");
    expect(got.history.map((e) => e.action)).toEqual(["created", "queued", "offered", "accepted", "done"]);
  });
});
