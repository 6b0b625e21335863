// The InteractionQueue object's decisions, pure: overflow to the next strategy target, the
// exclusion cycle after an agent passes, when to wake, who counts as staffing, and the day's
// service level and averages. The object stores and sends; these decide.
import type { Media } from "../config/schema.ts";
import type { AgentSnapshot } from "./agent-state.ts";
import type { QueueStats, ReturnWhy } from "../../durable-objects/types.ts";

/** A returned interaction is not offered again to agents who passed on it until the cycle ends:
 *  every eligible agent was tried (and at least this long has passed) or the target overflowed. */
export const CYCLE_MIN_MS = 5_000;
/** Timers closer than this are batched into one wake-up. */
export const MIN_ALARM_DELAY_MS = 50;

/** On overflow to target `toIndex` the item takes that target's priority if it is higher, and its
 *  exclusion cycle starts fresh. Null when the item is still in its target. */
export function overflow(item: { priority: number; targetIdx: number }, toIndex: number, targetPriority: number | undefined): { priority: number } | null {
  if (toIndex === item.targetIdx) return null;
  return { priority: targetPriority !== undefined ? Math.max(item.priority, targetPriority) : item.priority };
}

/** The cycle of exclusions ends when no eligible agent is left and the minimum time has passed. */
export const cycleOver = (eligibleLeft: number, excludedAt: number | null, now: number): boolean =>
  eligibleLeft === 0 && excludedAt !== null && now - excludedAt >= CYCLE_MIN_MS;

/** The excluded list (stored as JSON) with one more agent that passed. */
export function excludeAgent(excludedJson: string, agentId: string): string[] {
  const ex = new Set(JSON.parse(excludedJson) as string[]);
  ex.add(agentId);
  return [...ex];
}

/** The history action for an offer that came back. */
export const returnAction = (why: ReturnWhy): string => (why === "rejected" ? "rejected" : `offer_${why}`);

/** Per target with a timeout (all but the last), the window of time in queue [start, end) it covers:
 *  an item that entered at e is in that target while now - e is within it, and overflows at e + end. */
export function overflowWindows(targets: readonly { timeoutSeconds?: number }[]): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  let start = 0;
  for (const t of targets.slice(0, -1)) {
    if (t.timeoutSeconds === undefined) break;
    const end = start + t.timeoutSeconds * 1000;
    out.push({ start, end });
    start = end;
  }
  return out;
}

export interface QueueTimers {
  now: number;
  /** Earliest offer or handoff deadline. */
  offerUntil: number | null;
  /** Earliest scheduled item's time. */
  dueAt: number | null;
  /** Earliest preferred-agent lapse. */
  pinUntil: number | null;
  /** Earliest exclusion start among waiting items. */
  excludedAt: number | null;
  /** Each window's oldest item still within it: it overflows at entered + window end. */
  overflows: { enteredAt: number; end: number }[];
  /** When the outbox wants its failed flush retried. */
  outboxRetryAt: number | null;
}

/** The next time the queue must wake, or null when nothing is due. */
export function nextQueueAlarm(t: QueueTimers): number | null {
  const times: number[] = [];
  if (t.offerUntil !== null) times.push(t.offerUntil);
  if (t.dueAt !== null) times.push(t.dueAt);
  if (t.pinUntil !== null) times.push(t.pinUntil);
  if (t.excludedAt !== null) times.push(t.excludedAt + CYCLE_MIN_MS);
  for (const o of t.overflows) times.push(o.enteredAt + o.end);
  if (t.outboxRetryAt !== null) times.push(t.outboxRetryAt);
  return times.length ? Math.max(t.now + MIN_ALARM_DELAY_MS, Math.min(...times)) : null;
}

/** How many logged-in agents could take this media from here now or when they free up. */
export const staffed = (hints: Iterable<AgentSnapshot>, media: Media): number =>
  [...hints].filter((h) => h.loggedIn && h.ready[media] === true && (h.capacity[media] ?? 0) > 0).length;

export interface DayCounts {
  entered: number;
  distributed: number;
  abandoned: number;
  stopped: number;
  in_sl: number;
  wait_sum: number;
  handled: number;
  handle_sum: number;
}

export interface LiveCounts {
  waiting: number | null;
  offered: number | null;
  parked: number | null;
  scheduled: number | null;
  oldest: number | null;
}

export const inServiceLevel = (waitedMs: number, slSeconds: number): boolean => waitedMs <= slSeconds * 1000;

/** The queue's figures: averages over what was distributed and handled today; the service level is
 *  the share answered within its seconds of all answered or abandoned, to one decimal. */
export function queueStats(queue: string, live: LiveCounts, day: DayCounts | undefined, slSeconds: number, now: number, dayName: string): QueueStats {
  const answeredOrLost = (day?.distributed ?? 0) + (day?.abandoned ?? 0);
  return {
    queue,
    waiting: live.waiting ?? 0,
    offered: live.offered ?? 0,
    parked: live.parked ?? 0,
    scheduled: live.scheduled ?? 0,
    oldestWaitMs: live.oldest === null ? 0 : now - live.oldest,
    entered: day?.entered ?? 0,
    distributed: day?.distributed ?? 0,
    abandoned: day?.abandoned ?? 0,
    stopped: day?.stopped ?? 0,
    avgWaitMs: day?.distributed ? Math.round(day.wait_sum / day.distributed) : null,
    avgHandleMs: day?.handled ? Math.round(day.handle_sum / day.handled) : null,
    serviceLevelPct: answeredOrLost ? Math.round((1000 * (day?.in_sl ?? 0)) / answeredOrLost) / 10 : null,
    serviceLevelSeconds: slSeconds,
    day: dayName,
  };
}
