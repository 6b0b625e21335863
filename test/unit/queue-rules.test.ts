// The InteractionQueue object's pure decisions: overflow, the exclusion cycle, its next alarm, staffing and the day's figures.
import { describe, expect, it } from "vitest";
import type { AgentSnapshot } from "../../workers/routing/agent-state.ts";
import { CYCLE_MIN_MS, cycleOver, excludeAgent, inServiceLevel, MIN_ALARM_DELAY_MS, nextQueueAlarm, overflow, overflowWindows, queueStats, returnAction, staffed } from "../../workers/routing/queue-rules.ts";

describe("overflow and the exclusion cycle", () => {
  it("moves to the next target with the higher of the two priorities, and only when the target changed", () => {
    expect(overflow({ priority: 3, targetIdx: 0 }, 0, 9)).toBeNull();
    expect(overflow({ priority: 3, targetIdx: 0 }, 1, 9)).toEqual({ priority: 9 });
    expect(overflow({ priority: 3, targetIdx: 0 }, 1, 1)).toEqual({ priority: 3 });
    expect(overflow({ priority: 3, targetIdx: 1 }, 2, undefined)).toEqual({ priority: 3 });
  });
  it("ends a cycle only when nobody eligible is left and the minimum time has passed", () => {
    expect(cycleOver(0, 1_000, 1_000 + CYCLE_MIN_MS)).toBe(true);
    expect(cycleOver(0, 1_000, 1_000 + CYCLE_MIN_MS - 1)).toBe(false);
    expect(cycleOver(1, 1_000, 99_999)).toBe(false);
    expect(cycleOver(0, null, 99_999)).toBe(false);
  });
  it("adds a passing agent once and names the history action", () => {
    expect(excludeAgent('["a"]', "b")).toEqual(["a", "b"]);
    expect(excludeAgent('["a"]', "a")).toEqual(["a"]);
    expect(returnAction("rejected")).toBe("rejected");
    expect(returnAction("timeout")).toBe("offer_timeout");
  });
});

describe("the queue's next alarm", () => {
  const base = { now: 10_000, offerUntil: null, dueAt: null, pinUntil: null, excludedAt: null, overflows: [], outboxRetryAt: null };
  it("is null with nothing due, else the earliest timer but never sooner than the minimum delay", () => {
    expect(nextQueueAlarm(base)).toBeNull();
    expect(nextQueueAlarm({ ...base, offerUntil: 40_000, dueAt: 30_000, pinUntil: 35_000 })).toBe(30_000);
    expect(nextQueueAlarm({ ...base, excludedAt: 9_000 })).toBe(9_000 + CYCLE_MIN_MS);
    expect(nextQueueAlarm({ ...base, offerUntil: 1 })).toBe(10_000 + MIN_ALARM_DELAY_MS);
    expect(nextQueueAlarm({ ...base, overflows: [{ enteredAt: 9_000, end: 30_000 }], outboxRetryAt: 15_000 })).toBe(15_000);
  });
  it("has one overflow window per target with a timeout, up to the first without one, never for the last", () => {
    expect(overflowWindows([{ timeoutSeconds: 10 }, { timeoutSeconds: 20 }, { timeoutSeconds: 5 }])).toEqual([{ start: 0, end: 10_000 }, { start: 10_000, end: 30_000 }]);
    expect(overflowWindows([{ timeoutSeconds: 10 }, {}, { timeoutSeconds: 5 }])).toEqual([{ start: 0, end: 10_000 }]);
    expect(overflowWindows([{ timeoutSeconds: 10 }])).toEqual([]);
  });
});

describe("staffing and statistics", () => {
  const h = (o: Partial<AgentSnapshot>): AgentSnapshot => ({ agentId: "a", version: 1, loggedIn: true, afterWork: false, ready: { chat: true }, reasons: {}, load: {}, capacity: { chat: 1 }, idleSince: 0, skills: {}, ...o });
  it("counts logged-in agents ready with capacity for the media, busy or not", () => {
    expect(staffed([h({}), h({ load: { chat: 1 } }), h({ loggedIn: false }), h({ ready: {} }), h({ capacity: {} })], "chat")).toBe(2);
  });
  it("averages over distributed and handled work, and gives the service level to one decimal", () => {
    const day = { entered: 10, distributed: 3, abandoned: 1, stopped: 2, in_sl: 2, wait_sum: 10_000, handled: 2, handle_sum: 5_001 };
    const s = queueStats("q", { waiting: 2, offered: null, parked: 1, scheduled: 0, oldest: 4_000 }, day, 20, 10_000, "2026-12-04");
    expect(s).toMatchObject({ queue: "q", waiting: 2, offered: 0, parked: 1, oldestWaitMs: 6_000, avgWaitMs: 3_333, avgHandleMs: 2_501, serviceLevelPct: 50, serviceLevelSeconds: 20, day: "2026-12-04" });
    expect(queueStats("q", { waiting: null, offered: null, parked: null, scheduled: null, oldest: null }, undefined, 60, 1, "d")).toMatchObject({ waiting: 0, oldestWaitMs: 0, avgWaitMs: null, avgHandleMs: null, serviceLevelPct: null });
    expect(inServiceLevel(20_000, 20)).toBe(true);
    expect(inServiceLevel(20_001, 20)).toBe(false);
  });
});
