// A chat's pure timing policy (workers/chat/policy.ts): idle countdown, queue position, finishing retries, caps, next alarm.
import { describe, expect, it } from "vitest";
import { endReasonOf, finishPending, finishRetry, IDLE_WRITE_MS, idleAlertAt, idleRestartDue, idleStep, messageCap, nextChatAlarm, nextPositionAt, positionText, RETRY_MS } from "../../workers/chat/policy.ts";
import { MAX_ALL_MESSAGES, MAX_MESSAGES } from "../../workers/chat/limits.ts";

const idle = { alertSeconds: 60, closeSeconds: 30, alertText: "Still there?" };

describe("the idle countdown", () => {
  it("restarts on customer activity at most every few seconds, and only while active", () => {
    expect(idleRestartDue({ status: "active", idleStage: 0, lastCustomerAt: 1_000 }, 1_000 + IDLE_WRITE_MS - 1)).toBe(false);
    expect(idleRestartDue({ status: "active", idleStage: 0, lastCustomerAt: 1_000 }, 1_000 + IDLE_WRITE_MS)).toBe(true);
    expect(idleRestartDue({ status: "active", idleStage: 1, lastCustomerAt: 1_000 }, 1_001)).toBe(true);
    expect(idleRestartDue({ status: "waiting", idleStage: 1, lastCustomerAt: 0 }, 99_999)).toBe(false);
  });
  it("alerts after the tenant's seconds for a web chat, the number's for an SMS session, and not twice", () => {
    expect(idleAlertAt({ status: "active", idleAt: null, lastCustomerAt: 1_000 }, idle)).toBe(61_000);
    expect(idleAlertAt({ status: "active", idleAt: null, lastCustomerAt: 1_000, sms: { idleSeconds: 600 } }, idle)).toBe(601_000);
    expect(idleAlertAt({ status: "active", idleAt: 5, lastCustomerAt: 1_000 }, idle)).toBeNull();
    expect(idleAlertAt({ status: "waiting", idleAt: null, lastCustomerAt: 1_000 }, idle)).toBeNull();
    expect(idleAlertAt({ status: "active", idleAt: null, lastCustomerAt: 1_000 }, undefined)).toBeNull();
  });
  it("alerts a web chat first, then ends it; an SMS session just ends; chat switched off stops the clock", () => {
    const due = { status: "active" as const, idleAt: 100, idleStage: 0 as const };
    expect(idleStep(due, idle, 99)).toEqual({ kind: "wait" });
    expect(idleStep(due, idle, 100)).toEqual({ kind: "alert", closeAt: 30_100, text: "Still there?" });
    expect(idleStep({ ...due, idleStage: 1 }, idle, 100)).toEqual({ kind: "end" });
    expect(idleStep({ ...due, sms: { idleSeconds: 1 } }, idle, 100)).toEqual({ kind: "end" });
    expect(idleStep(due, undefined, 100)).toEqual({ kind: "off" });
    expect(idleStep({ ...due, status: "ended" }, idle, 100)).toEqual({ kind: "wait" });
  });
});

describe("queue position", () => {
  it("is announced every so often, or never when switched off", () => {
    expect(nextPositionAt(30, 1_000)).toBe(31_000);
    expect(nextPositionAt(0, 1_000)).toBeNull();
  });
  it("says the place and a rounded wait of at least a minute", () => {
    expect(positionText(1, null)).toBe("You are next in line.");
    expect(positionText(3, 20)).toBe("You are number 3 in the queue. Estimated wait: about 1 minute.");
    expect(positionText(2, 300)).toBe("You are number 2 in the queue. Estimated wait: about 5 minutes.");
  });
});

describe("finishing a chat", () => {
  const done = { abandonPending: false, transcriptWritten: true, transcriptTo: null, transcriptMailed: false };
  it("is pending while the queue, the SMS session, the transcript or its mail is left", () => {
    expect(finishPending(done)).toBe(false);
    expect(finishPending({ ...done, abandonPending: true })).toBe(true);
    expect(finishPending({ ...done, sms: { idleSeconds: 1 } })).toBe(true);
    expect(finishPending({ ...done, sms: { idleSeconds: 1, closed: true } })).toBe(false);
    expect(finishPending({ ...done, transcriptWritten: false })).toBe(true);
    expect(finishPending({ ...done, transcriptTo: "kim@example.com" })).toBe(true);
  });
  it("backs off along the retry steps after failures, and goes on in a second when only pending", () => {
    expect(finishRetry(0, true, true, 0)).toEqual({ retries: 1, retryAt: RETRY_MS[0] });
    expect(finishRetry(3, true, true, 0)).toEqual({ retries: 4, retryAt: RETRY_MS[3] });
    expect(finishRetry(9, true, true, 0)).toEqual({ retries: 10, retryAt: RETRY_MS[3] });
    expect(finishRetry(2, false, true, 0)).toEqual({ retries: 0, retryAt: 1_000 });
    expect(finishRetry(2, false, false, 0)).toEqual({ retries: 0, retryAt: null });
  });
});

describe("caps, enders and the next alarm", () => {
  it("lets staff go on past the customer's cap", () => {
    expect(messageCap("customer")).toBe(MAX_MESSAGES);
    expect(messageCap("agent")).toBe(MAX_ALL_MESSAGES);
    expect(endReasonOf("customer")).toBe("customer");
    expect(endReasonOf("supervisor")).toBe("supervisor");
    expect(endReasonOf(undefined)).toBe("agent");
  });
  it("wakes for its status's timer and each staff socket's check", () => {
    const m = { status: "waiting" as const, positionAt: 9_000, idleAt: 1, retryAt: 1 };
    expect(nextChatAlarm(m, [], 5_000, 0)).toBe(9_000);
    expect(nextChatAlarm({ ...m, status: "active" }, [], 5_000, 0)).toBe(1);
    expect(nextChatAlarm({ ...m, positionAt: null }, [], 5_000, 0)).toBeNull();
    expect(nextChatAlarm({ ...m, positionAt: null }, [60_000], 5_000, 1_000)).toBe(6_000);
    expect(nextChatAlarm(m, [2_000], 5_000, 1_000)).toBe(2_000);
  });
});
