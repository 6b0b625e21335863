// The ChatSession object by itself: server-assigned order, idempotent resend, resume after a drop,
// who sees and says what in each mode, nothing lost when the object is evicted, and the idle alert
// and close on its alarm.
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ChatMeta } from "../../durable-objects/chat-store.ts";
import { chatStub } from "../../durable-objects/names.ts";
import { unwrap } from "../../durable-objects/result.ts";
import { canSee, postVisibility } from "../../workers/chat/visibility.ts";
import { chatTenant } from "../chat-helpers.ts";
import { tenv, uniq } from "../helpers.ts";

/** An open chat in a real tenant (the object reads the tenant's chat settings). */
async function opened(chat: Parameters<typeof chatTenant>[1] = {}) {
  const t = await chatTenant(undefined, chat);
  const id = uniq("i");
  const s = chatStub(await tenv(t.id), t.id, id);
  unwrap(await s.open({ tenant: t.id, interactionId: id, queue: "inbound", contactId: null, customer: { name: "Kim", email: null } }));
  return { t, id, s };
}

const texts = (r: { messages: { kind: string; text: string }[] }) => r.messages.filter((m) => m.kind === "text").map((m) => m.text);

describe("chat visibility rules", () => {
  it("shows staff-only messages to agents and supervisors, never to the customer", () => {
    expect([canSee("customer", "all"), canSee("customer", "staff"), canSee("agent", "staff"), canSee("supervisor", "staff")]).toEqual([true, false, true, true]);
  });

  it("gives each mode its voice", () => {
    expect(postVisibility("customer", undefined)).toEqual({ ok: true, visibility: "all" });
    expect(postVisibility("customer", "staff").ok).toBe(false);
    expect(postVisibility("monitor", undefined).ok).toBe(false);
    expect(postVisibility("coach", undefined)).toEqual({ ok: true, visibility: "staff" });
    expect(postVisibility("consult", "all").ok).toBe(false);
    expect(postVisibility("primary", "staff")).toEqual({ ok: true, visibility: "staff" });
    expect(postVisibility("barge", undefined)).toEqual({ ok: true, visibility: "all" });
  });
});

describe("ChatSession transcript", () => {
  it("greets, orders messages by a server sequence and stores a resent message once", async () => {
    const { s } = await opened();
    unwrap(await s.join({ id: "agent:ana", mode: "primary", name: "Ana" }));
    const a = unwrap(await s.post("customer", { clientId: "c1", text: "Hello" }));
    const b = unwrap(await s.post("agent:ana", { clientId: "a1", text: "Hi Kim" }));
    const again = unwrap(await s.post("customer", { clientId: "c1", text: "Hello" }));
    expect(b.message.seq).toBeGreaterThan(a.message.seq);
    expect(again).toMatchObject({ duplicate: true, message: { seq: a.message.seq } });
    const all = unwrap(await s.since("customer", 0));
    expect(all.messages[0]).toMatchObject({ kind: "notice", text: "Welcome! An agent will be with you shortly." });
    expect(texts(all)).toEqual(["Hello", "Hi Kim"]);
    // The same client id for other words is a client bug, not a resend.
    expect(await s.post("customer", { clientId: "c1", text: "Something else" })).toMatchObject({ ok: false, error: { status: 409, code: "client_id_reused" } });
    expect(await s.post("customer", { clientId: "c2", text: "   " })).toMatchObject({ ok: false, error: { code: "empty_message" } });
    expect(await s.post("customer", { clientId: "c3", text: "x".repeat(8001) })).toMatchObject({ ok: false, error: { code: "message_too_long" } });
    expect(await s.post("stranger", { clientId: "s1", text: "hi" })).toMatchObject({ ok: false, error: { status: 403 } });
  });

  it("greets once when two opens race on a new object", async () => {
    const t = await chatTenant();
    const id = uniq("i");
    const s = chatStub(await tenv(t.id), t.id, id);
    const o = { tenant: t.id, interactionId: id, queue: "inbound", contactId: null, customer: { name: "Kim", email: null } };
    await Promise.all([s.open(o), s.open(o), s.open(o)]);
    const all = unwrap(await s.since("customer", 0));
    expect(all.messages.filter((m) => m.text.startsWith("Welcome"))).toHaveLength(1);
  });

  it("resumes after the last sequence a reader saw, with nothing lost or doubled, page by page", async () => {
    const { s } = await opened();
    for (let i = 0; i < 5; i++) unwrap(await s.post("customer", { clientId: `c${i}`, text: `m${i}` }));
    const first = unwrap(await s.since("customer", 0));
    const mid = first.messages.find((m) => m.text === "m2")!.seq;
    const rest = unwrap(await s.since("customer", mid));
    expect(texts(rest)).toEqual(["m3", "m4"]);
    expect(rest.last).toBe(first.last);
    expect(texts(unwrap(await s.since("customer", rest.last)))).toEqual([]);
  });

  it("keeps consultation and coaching from the customer, and keeps a monitor silent", async () => {
    const { s, t } = await opened();
    unwrap(await s.join({ id: "agent:ana", mode: "primary", name: "Ana" }));
    // Only an invited agent joins to consult.
    expect(await s.join({ id: "agent:ben", mode: "consult", name: "Ben" })).toMatchObject({ ok: false, error: { status: 403 } });
    unwrap(await s.invite("agent:ana", "ben", "consult", { by: "Ana", agent: "Ben" }));
    unwrap(await s.join({ id: "agent:ben", mode: "consult", name: "Ben" }));
    unwrap(await s.join({ id: "agent:sam", mode: "monitor", name: "Sam" }));
    const consult = unwrap(await s.post("agent:ben", { clientId: "b1", text: "Offer the refund" }));
    expect(consult.message.visibility).toBe("staff");
    expect(await s.post("agent:sam", { clientId: "s1", text: "psst" })).toMatchObject({ ok: false, error: { status: 403 } });
    unwrap(await s.setMode("agent:sam", "coach"));
    unwrap(await s.post("agent:sam", { clientId: "s2", text: "Be kind" }));
    unwrap(await s.post("agent:ana", { clientId: "a1", text: "We can refund you" }));
    const customer = unwrap(await s.since("customer", 0));
    const agent = unwrap(await s.since("agent:ana", 0));
    expect(texts(customer)).toEqual(["We can refund you"]);
    expect(texts(agent)).toEqual(["Offer the refund", "Be kind", "We can refund you"]);
    // The customer never learns of the consultant or the silent supervisor.
    expect(customer.messages.map((m) => m.text).join("|")).not.toMatch(/Ben|Sam/);
    unwrap(await s.setMode("agent:sam", "barge"));
    const barged = unwrap(await s.post("agent:sam", { clientId: "s3", text: "I'm the supervisor, happy to help" }));
    expect(barged.message.visibility).toBe("all");
    expect(texts(unwrap(await s.since("customer", 0)))).toContain("I'm the supervisor, happy to help");
    expect(unwrap(await s.since("customer", 0)).messages.map((m) => m.text)).toContain("Sam joined the chat");
    void t;
  });

  it("loses nothing when the object is evicted", async () => {
    const { s } = await opened();
    unwrap(await s.post("customer", { clientId: "c1", text: "before" }));
    await evictDurableObject(s);
    unwrap(await s.post("customer", { clientId: "c1", text: "before" }));
    unwrap(await s.post("customer", { clientId: "c2", text: "after" }));
    expect(texts(unwrap(await s.since("customer", 0)))).toEqual(["before", "after"]);
  });

  it("alerts an idle customer, then closes the chat, on its alarm", async () => {
    const { s } = await opened({ idle: { alertSeconds: 60, closeSeconds: 30, alertText: "Still there?", closeText: "Closed for inactivity." } });
    unwrap(await s.join({ id: "agent:ana", mode: "primary", name: "Ana" }));
    // Time passes: move the idle deadline to now, as if the customer had been quiet for a minute
    // (then evict, so the object reads its storage afresh, as after a real wait it might).
    const due = async () => {
      await runInDurableObject(s, (_o, state) => {
        const row = state.storage.sql.exec<{ v: string }>("SELECT v FROM kv WHERE k = 'meta'").one();
        const m = JSON.parse(row.v) as ChatMeta;
        expect(m.idleAt).not.toBeNull();
        m.idleAt = Date.now() - 1;
        state.storage.sql.exec("UPDATE kv SET v = ? WHERE k = 'meta'", JSON.stringify(m));
      });
      await evictDurableObject(s);
    };
    await due();
    expect(await runDurableObjectAlarm(s)).toBe(true);
    const alerted = unwrap(await s.since("customer", 0));
    expect(alerted.messages.at(-1)).toMatchObject({ kind: "notice", text: "Still there?" });
    expect(alerted.status).toBe("active");
    // The customer answers: the countdown starts over.
    unwrap(await s.post("customer", { clientId: "c1", text: "yes, sorry" }));
    await due();
    await runDurableObjectAlarm(s);
    expect(unwrap(await s.state()).status).toBe("active");
    await due();
    await runDurableObjectAlarm(s);
    const closed = unwrap(await s.state());
    expect(closed).toMatchObject({ status: "ended", endReason: "idle" });
    expect(unwrap(await s.since("customer", 0)).messages.at(-1)).toMatchObject({ text: "Closed for inactivity." });
    expect(await s.post("customer", { clientId: "c9", text: "hello?" })).toMatchObject({ ok: false, error: { code: "chat_ended" } });
  });
});
