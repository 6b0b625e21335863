// When an Agent object must wake next, and which pulled candidates it tries first. Pure arithmetic
// and ordering, so they are tested without an object.
import type { Candidate } from "../../durable-objects/types.ts";

/** How long the desktop may be away (its last socket closed) before its pending offers go back to
 *  their queues: a network change or a sleep reconnects within it and finds them still there. The
 *  desktop retries at about 0.5, 1, 2, 4 and 8 s, and at once when the browser comes back online. */
export const DESK_RECONNECT_GRACE_MS = 10_000;

export interface AgentTimers {
  now: number;
  /** The earliest expiry among pending offers. */
  offerExpiry: number | null;
  afterWorkUntil: number | null;
  /** When the desktop's last socket closed, while it is away. */
  awaySince: number | null;
  /** When the outbox wants its failed flush retried. */
  outboxRetryAt: number | null;
  /** Each open socket's token expiry (0 when unknown). */
  socketExpiries: number[];
  /** How often open sockets are checked for revocation (a hibernating socket sends no frame to check it on). */
  revocationCheckMs: number;
}

/** The next time anything is due, or null when nothing is. */
export function nextAgentAlarm(t: AgentTimers): number | null {
  const times: number[] = [];
  if (t.offerExpiry !== null) times.push(t.offerExpiry);
  if (t.afterWorkUntil !== null) times.push(t.afterWorkUntil);
  if (t.awaySince !== null) times.push(t.awaySince + DESK_RECONNECT_GRACE_MS);
  if (t.outboxRetryAt !== null) times.push(t.outboxRetryAt);
  for (const exp of t.socketExpiries) times.push(Math.min(exp, t.now + t.revocationCheckMs));
  return times.length ? Math.min(...times) : null;
}

/** The desktop stayed away past the grace (or is back): time to settle its pending offers. */
export const awayLapsed = (awaySince: number | null, openSockets: number, now: number): boolean =>
  awaySince !== null && (awaySince + DESK_RECONNECT_GRACE_MS <= now || openSockets > 0);

type Ranked = Pick<Candidate, "boost" | "pinned" | "priority" | "enteredAt">;

/** Across queues, the agent tries the best first: boosted, then pinned to it, then priority, then the oldest. */
export function pullOrder<C extends Ranked>(found: C[]): C[] {
  return [...found].sort((a, b) => b.boost - a.boost || Number(b.pinned) - Number(a.pinned) || b.priority - a.priority || a.enteredAt - b.enteredAt);
}

/** Pins to forget after a round: their queue answered it holds nothing for this agent, and the pin
 *  is older than the question (an assignment made meanwhile stays). A queue that failed answers -1. */
export function stalePins(pins: { queue: string; since: number }[], answers: { queue: string; pinnedHere: number }[], roundStart: number): string[] {
  return pins.filter((pin) => {
    const a = answers.find((x) => x.queue === pin.queue);
    return a !== undefined && a.pinnedHere === 0 && pin.since < roundStart;
  }).map((p) => p.queue);
}
