// The dashboard's pure parts: client frames, samples, and the alarm loop's timing, run as a
// simulated hour so the loop is seen to tick, sample, linger and end.
import { describe, expect, it } from "vitest";
import { dueAt, HISTORY_MS, nextAlarm, parseClientFrame, SAMPLE_MS, TICK_MS, toSample, type Clock } from "../../workers/stats/frames.ts";
import type { QueueStats } from "../../workers/stats/live.ts";

const q = (queue: string, waiting: number): QueueStats => ({
  queue, waiting, offered: 0, parked: 0, scheduled: 0, oldestWaitMs: waiting ? 5000 : 0, entered: waiting, distributed: 0, abandoned: 0, stopped: 0,
  avgWaitMs: null, avgHandleMs: 1200, serviceLevelPct: 50, serviceLevelSeconds: 60, day: "2026-01-01",
});

/** Runs the loop as the object does, from `start` to `end`, with sockets open while `open(t)`. */
function simulate(start: number, end: number, open: (t: number) => boolean, lingerFrom: number | null) {
  const c: Clock = { open: open(start), pushedAt: 0, sampledAt: 0, lingerUntil: lingerFrom === null ? null : lingerFrom + HISTORY_MS };
  const pushes: number[] = [];
  const samples: number[] = [];
  let at: number | null = start;
  while (at !== null && at <= end) {
    c.open = open(at);
    const due = dueAt(at, c);
    if (due.push) (pushes.push(at), (c.pushedAt = at));
    if (due.sample) (samples.push(at), (c.sampledAt = at));
    at = nextAlarm(at, c);
  }
  return { pushes, samples, stoppedAt: at };
}

describe("dashboard frames", () => {
  it("takes ping and refresh and names what is wrong with anything else", () => {
    expect(parseClientFrame('{"type":"ping"}')).toEqual({ ok: true, frame: { type: "ping" } });
    expect(parseClientFrame('{"type":"refresh","extra":1}')).toEqual({ ok: true, frame: { type: "refresh" } });
    const code = (raw: string | ArrayBuffer) => (parseClientFrame(raw) as { ok: false; error: { code: string } }).error.code;
    expect(code("nope")).toBe("malformed_frame");
    expect(code("null")).toBe("malformed_frame");
    expect(code('"ping"')).toBe("malformed_frame");
    expect(code(new ArrayBuffer(2))).toBe("malformed_frame");
    expect(code('{"type":"move"}')).toBe("unknown_frame");
    expect(code(`{"type":"ping","pad":"${"x".repeat(2000)}"}`)).toBe("frame_too_large");
  });

  it("samples the four charted figures per queue, keyed by name", () => {
    expect(toSample({ at: 7, queues: [q("inbound", 2), q("sales", 0)], agents: [] })).toEqual({
      at: 7,
      queues: {
        inbound: { waiting: 2, oldestWaitMs: 5000, serviceLevelPct: 50, avgHandleMs: 1200 },
        sales: { waiting: 0, oldestWaitMs: 0, serviceLevelPct: 50, avgHandleMs: 1200 },
      },
    });
  });
});

describe("dashboard loop", () => {
  const t0 = 1_000_000_000_000;

  it("pushes every 2 s and samples every 15 s while a socket is open", () => {
    const r = simulate(t0, t0 + 60_000, () => true, null);
    expect(r.pushes.length).toBe(31);
    expect(r.pushes.slice(1).every((t, i) => t - r.pushes[i]! === TICK_MS)).toBe(true);
    expect(r.samples).toEqual([t0, t0 + SAMPLE_MS, t0 + 2 * SAMPLE_MS, t0 + 3 * SAMPLE_MS, t0 + 4 * SAMPLE_MS]);
  });

  it("after the last socket closes, samples for an hour without pushes, then stops", () => {
    const closed = t0 + 10_000;
    const r = simulate(t0, t0 + 3 * HISTORY_MS, (t) => t < closed, closed);
    expect(r.pushes.every((t) => t < closed)).toBe(true);
    const after = r.samples.filter((t) => t >= closed);
    expect(after.length).toBe(HISTORY_MS / SAMPLE_MS);
    expect(after.at(-1)!).toBeLessThanOrEqual(closed + HISTORY_MS);
    expect(r.stoppedAt).toBeNull();
  });

  it("never spins: a step that keeps failing (nothing recorded) still waits, and a late alarm past the hour stops", () => {
    const c: Clock = { open: true, pushedAt: 0, sampledAt: 0, lingerUntil: null };
    expect(nextAlarm(t0, c)).toBeGreaterThanOrEqual(t0 + 500);
    const late: Clock = { open: false, pushedAt: t0, sampledAt: t0, lingerUntil: t0 + 1000 };
    expect(dueAt(t0 + 5 * HISTORY_MS, late)).toEqual({ push: false, sample: false });
    expect(nextAlarm(t0 + 5 * HISTORY_MS, late)).toBeNull();
    expect(nextAlarm(t0, { open: false, pushedAt: 0, sampledAt: 0, lingerUntil: null })).toBeNull();
  });
});
