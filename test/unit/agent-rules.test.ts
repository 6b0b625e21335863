// The Agent object's pure rules: presence steps, capacity room, the next alarm, pull order, stale pins, the desk frames.
import { describe, expect, it } from "vitest";
import { AppError } from "../../workers/kernel/errors.ts";
import { canTake, hasRoom, type AgentSnapshot } from "../../workers/routing/agent-state.ts";
import * as presence from "../../workers/routing/presence.ts";
import { awayLapsed, DESK_RECONNECT_GRACE_MS, nextAgentAlarm, pullOrder, stalePins } from "../../workers/routing/agent-timers.ts";
import { parseDeskFrame } from "../../workers/protocol/desk.ts";

const apply = (p: presence.Presence, step: presence.PresenceStep) => {
  const c = structuredClone(p);
  step(c);
  return c;
};

describe("presence steps", () => {
  const cap = { email: 2, chat: 1 };
  it("logging in sets ready only on media with capacity and keeps an earlier login's start", () => {
    const p = apply(presence.newPresence(0), presence.logIn({ ...cap, sms: 0 }, true, 100));
    expect(p).toMatchObject({ loggedIn: true, loggedInAt: 100, idleSince: 100, ready: { email: true, chat: true } });
    expect(p.ready.sms).toBeUndefined();
    const again = apply({ ...p, reasons: { email: "lunch" } }, presence.logIn(cap, undefined, 500));
    expect(again).toMatchObject({ loggedInAt: 100, idleSince: 100, ready: { email: true, chat: true }, reasons: {} });
  });
  it("refuses ready changes when logged out, unknown reasons and media without capacity", () => {
    const out = presence.newPresence(0);
    expect(() => presence.setReady(out, cap, [], true, {}, true, 1)).toThrow(expect.objectContaining({ code: "logged_out" }));
    const p = apply(out, presence.logIn(cap, false, 1));
    expect(() => presence.setReady(p, cap, ["lunch"], false, { reason: "nap" }, true, 2)).toThrow(expect.objectContaining({ code: "unknown_reason" }));
    expect(() => presence.setReady(p, cap, [], true, { media: ["sms"] }, true, 2)).toThrow(AppError);
  });
  it("becoming ready while idle restarts the idle clock; a reason is kept per media", () => {
    const p = apply(presence.newPresence(0), presence.logIn(cap, false, 1));
    const r = apply(p, presence.setReady(p, cap, [], true, {}, true, 50));
    expect(r.idleSince).toBe(50);
    const busy = apply(p, presence.setReady(p, cap, [], true, {}, false, 60));
    expect(busy.idleSince).toBe(1);
    const nr = apply(r, presence.setReady(r, cap, ["lunch"], false, { media: ["chat"], reason: "lunch" }, true, 70));
    expect(nr).toMatchObject({ ready: { email: true, chat: false }, reasons: { chat: "lunch" } });
  });
  it("done starts after-call work for the tenant's seconds, and it lapses only once due", () => {
    const p = apply(presence.newPresence(0), presence.logIn(cap, true, 1));
    const d = apply(p, presence.finished(30, true, 1_000));
    expect(d).toMatchObject({ afterWork: true, afterWorkUntil: 31_000, idleSince: 1_000 });
    expect(presence.afterWorkLapsed(d, 30_999)).toBeNull();
    expect(apply(d, presence.afterWorkLapsed(d, 31_000)!)).toMatchObject({ afterWork: false, afterWorkUntil: null });
    expect(apply(p, presence.finished(0, false, 5))).toMatchObject({ afterWork: false, idleSince: 1 });
  });
  it("logging out clears readiness, reasons and after-call work", () => {
    const p = apply(apply(presence.newPresence(0), presence.logIn(cap, true, 1)), presence.finished(30, true, 2));
    expect(apply(p, presence.logOut)).toMatchObject({ loggedIn: false, loggedInAt: null, ready: {}, reasons: {}, afterWork: false, afterWorkUntil: null });
  });
});

describe("capacity", () => {
  const snap = (o: Partial<AgentSnapshot>): AgentSnapshot => ({
    agentId: "a", version: 1, loggedIn: true, afterWork: false, ready: { email: true }, reasons: {}, load: {}, capacity: { email: 2, chat: 1 }, idleSince: 0, skills: {}, ...o,
  });
  it("room ignores presence; taking an offer needs presence and room", () => {
    const notReady = snap({ ready: {}, loggedIn: false });
    expect(hasRoom(notReady, "email")).toBe(true);
    expect(canTake(notReady, "email")).toBe(false);
    expect(canTake(snap({}), "email")).toBe(true);
    expect(canTake(snap({ afterWork: true }), "email")).toBe(false);
  });
  it("room is bounded per media and by the overall maximum", () => {
    expect(hasRoom(snap({ load: { email: 2 } }), "email")).toBe(false);
    expect(hasRoom(snap({ load: { email: 1 } }), "email")).toBe(true);
    expect(hasRoom(snap({ load: { email: 1 }, maxTotal: 1 }), "chat")).toBe(false);
    expect(hasRoom(snap({}), "sms")).toBe(false);
  });
});

describe("the agent's next alarm", () => {
  const base = { now: 1_000, offerExpiry: null, afterWorkUntil: null, awaySince: null, outboxRetryAt: null, socketExpiries: [], revocationCheckMs: 5_000 };
  it("is null when nothing is due", () => expect(nextAgentAlarm(base)).toBeNull());
  it("is the earliest of offer expiry, after-work end, the reconnect grace and the outbox retry", () => {
    expect(nextAgentAlarm({ ...base, offerExpiry: 9_000, afterWorkUntil: 8_000 })).toBe(8_000);
    expect(nextAgentAlarm({ ...base, awaySince: 500, offerExpiry: 90_000 })).toBe(500 + DESK_RECONNECT_GRACE_MS);
    expect(nextAgentAlarm({ ...base, outboxRetryAt: 6_000, offerExpiry: 90_000 })).toBe(6_000);
  });
  it("checks each open socket at its token's expiry or the revocation interval, whichever is first", () => {
    expect(nextAgentAlarm({ ...base, socketExpiries: [60_000] })).toBe(6_000);
    expect(nextAgentAlarm({ ...base, socketExpiries: [2_000, 60_000] })).toBe(2_000);
  });
  it("ends the reconnect grace after its time, or at once when a socket is back", () => {
    expect(awayLapsed(null, 0, 99_999)).toBe(false);
    expect(awayLapsed(1_000, 0, 1_000 + DESK_RECONNECT_GRACE_MS - 1)).toBe(false);
    expect(awayLapsed(1_000, 0, 1_000 + DESK_RECONNECT_GRACE_MS)).toBe(true);
    expect(awayLapsed(1_000, 1, 1_001)).toBe(true);
  });
});

describe("pulling across queues", () => {
  const c = (itemId: string, o: Partial<{ boost: number; pinned: boolean; priority: number; enteredAt: number }>) => ({ itemId, boost: 0, pinned: false, priority: 0, enteredAt: 0, ...o });
  it("tries boosted, then pinned, then higher priority, then the oldest first", () => {
    const order = pullOrder([c("old", { enteredAt: 1 }), c("prio", { priority: 5, enteredAt: 9 }), c("pin", { pinned: true, enteredAt: 9 }), c("boost", { boost: 1, enteredAt: 9 }), c("new", { enteredAt: 2 })]);
    expect(order.map((x) => x.itemId)).toEqual(["boost", "pin", "prio", "old", "new"]);
  });
  it("forgets a pin only when its queue said it holds nothing for the agent and the pin predates the question", () => {
    const pins = [{ queue: "a", since: 10 }, { queue: "b", since: 10 }, { queue: "c", since: 50 }, { queue: "d", since: 10 }];
    const answers = [{ queue: "a", pinnedHere: 0 }, { queue: "b", pinnedHere: 2 }, { queue: "c", pinnedHere: 0 }, { queue: "d", pinnedHere: -1 }];
    expect(stalePins(pins, answers, 20)).toEqual(["a"]);
  });
});

describe("desk client frames", () => {
  it("accepts ping and status and names what is wrong with anything else", () => {
    expect(parseDeskFrame('{"type":"ping"}')).toEqual({ type: "ping" });
    expect(parseDeskFrame(new TextEncoder().encode('{"type":"status"}').buffer as ArrayBuffer)).toEqual({ type: "status" });
    expect(parseDeskFrame("{")).toEqual({ error: expect.objectContaining({ code: "invalid_json" }) });
    expect(parseDeskFrame("null")).toEqual({ error: expect.objectContaining({ code: "unknown_type" }) });
    expect(parseDeskFrame('{"type":"accept"}')).toEqual({ error: expect.objectContaining({ code: "unknown_type" }) });
  });
});
