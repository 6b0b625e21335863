// The ChatSession's transcript: server-assigned order, idempotent resend, resume after a drop,
// who sees what, and nothing lost when the object is evicted.
import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { unwrap } from "../../durable-objects/result.ts";
import { canSee, mayPost } from "../../workers/chat/visibility.ts";
import { uniq } from "../helpers.ts";

const session = () => env.CHAT.getByName(uniq("t/chat"));

describe("chat visibility", () => {
  it("shows staff-only messages to agents and supervisors, never to the customer, who can only speak to all", () => {
    expect([canSee("customer", "all"), canSee("customer", "staff"), canSee("agent", "staff"), canSee("supervisor", "staff")]).toEqual([true, false, true, true]);
    expect([mayPost("customer", "all"), mayPost("customer", "staff"), mayPost("agent", "staff")]).toEqual([true, false, true]);
  });
});

describe("ChatSession transcript", () => {
  it("orders messages by a server sequence and stores a resent message once", async () => {
    const s = session();
    unwrap(await s.join({ id: "cust", role: "customer", name: "Kim" }));
    unwrap(await s.join({ id: "ana", role: "agent", name: "Ana" }));
    const a = unwrap(await s.post("cust", { clientId: "c1", text: "Hello" }));
    const b = unwrap(await s.post("ana", { clientId: "a1", text: "Hi Kim" }));
    const again = unwrap(await s.post("cust", { clientId: "c1", text: "Hello" }));
    expect(b.message.seq).toBeGreaterThan(a.message.seq);
    expect(again).toMatchObject({ duplicate: true, message: { seq: a.message.seq } });
    const all = await s.since("customer", 0);
    expect(all.messages.filter((m) => m.kind === "text").map((m) => m.text)).toEqual(["Hello", "Hi Kim"]);
    // The same client id for other words is a client bug, not a resend.
    const reused = await s.post("cust", { clientId: "c1", text: "Something else" });
    expect(reused).toMatchObject({ ok: false, error: { status: 409, code: "client_id_reused" } });
  });

  it("resumes after the last sequence a reader saw, with nothing lost or doubled", async () => {
    const s = session();
    unwrap(await s.join({ id: "cust", role: "customer", name: "Kim" }));
    for (let i = 0; i < 5; i++) unwrap(await s.post("cust", { clientId: `c${i}`, text: `m${i}` }));
    const first = await s.since("agent", 0);
    const seenUpTo = first.messages[3]!.seq; // the reader dropped after the fourth item
    unwrap(await s.post("cust", { clientId: "c5", text: "m5" }));
    const rest = await s.since("agent", seenUpTo);
    const texts = [...first.messages.filter((m) => m.seq <= seenUpTo), ...rest.messages].filter((m) => m.kind === "text").map((m) => m.text);
    expect(texts).toEqual(["m0", "m1", "m2", "m3", "m4", "m5"]);
  });

  it("keeps staff-only messages and supervisors' arrival from the customer, and moves the reader past them", async () => {
    const s = session();
    unwrap(await s.join({ id: "cust", role: "customer", name: "Kim" }));
    unwrap(await s.join({ id: "ana", role: "agent", name: "Ana" }));
    unwrap(await s.join({ id: "sam", role: "supervisor", name: "Sam" }));
    unwrap(await s.post("sam", { clientId: "s1", text: "Offer the refund", visibility: "staff" }));
    unwrap(await s.post("ana", { clientId: "a1", text: "We will refund you" }));
    const cust = await s.since("customer", 0);
    expect(cust.messages.map((m) => m.text)).toEqual(["Kim joined", "Ana joined", "We will refund you"]);
    const staff = await s.since("agent", 0);
    expect(staff.messages.map((m) => m.text)).toEqual(["Kim joined", "Ana joined", "Sam joined", "Offer the refund", "We will refund you"]);
    expect(cust.last).toBe(staff.last);
    expect(await s.post("cust", { clientId: "c1", text: "psst", visibility: "staff" })).toMatchObject({ ok: false, error: { status: 403 } });
  });

  it("refuses non-participants, empty and oversized messages", async () => {
    const s = session();
    unwrap(await s.join({ id: "cust", role: "customer", name: "Kim" }));
    expect(await s.post("stranger", { clientId: "x", text: "hi" })).toMatchObject({ ok: false, error: { status: 403 } });
    expect(await s.post("cust", { clientId: "x", text: "   " })).toMatchObject({ ok: false, error: { code: "empty_message" } });
    expect(await s.post("cust", { clientId: "y", text: "x".repeat(8001) })).toMatchObject({ ok: false, error: { code: "message_too_long" } });
    unwrap(await s.leave("cust"));
    expect(await s.post("cust", { clientId: "z", text: "back?" })).toMatchObject({ ok: false, error: { status: 403 } });
  });

  it("loses nothing when the object is evicted", async () => {
    const s = session();
    unwrap(await s.join({ id: "cust", role: "customer", name: "Kim" }));
    const a = unwrap(await s.post("cust", { clientId: "c1", text: "before" }));
    await evictDurableObject(s);
    const again = unwrap(await s.post("cust", { clientId: "c1", text: "before" }));
    expect(again).toMatchObject({ duplicate: true, message: { seq: a.message.seq } });
    unwrap(await s.post("cust", { clientId: "c2", text: "after" }));
    const all = await s.since("agent", 0);
    expect(all.messages.filter((m) => m.kind === "text").map((m) => m.text)).toEqual(["before", "after"]);
  });
});
