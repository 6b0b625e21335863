// An agent's routable state, as its Agent object reports it. Pure capacity rules.
import type { Media } from "../config/schema.ts";

export interface AgentSnapshot {
  agentId: string;
  /** Increases with every change, so a queue can ignore an older report that arrives late. */
  version: number;
  loggedIn: boolean;
  afterWork: boolean;
  ready: Partial<Record<Media, boolean>>;
  /** Not-ready reason code per media, when not ready. */
  reasons: Partial<Record<Media, string>>;
  load: Partial<Record<Media, number>>;
  capacity: Partial<Record<Media, number>>;
  maxTotal?: number;
  /** When the agent last became free of all work (or ready): what "longest idle" compares. */
  idleSince: number;
  skills: Record<string, number>;
}

export function totalLoad(s: AgentSnapshot): number {
  let n = 0;
  for (const v of Object.values(s.load)) n += v ?? 0;
  return n;
}

/** Is there room for one more interaction of this media, whatever the agent's presence? (Taking
 *  parked work back needs room, not readiness.) */
export function hasRoom(s: AgentSnapshot, media: Media): boolean {
  if ((s.load[media] ?? 0) >= (s.capacity[media] ?? 0)) return false;
  return s.maxTotal === undefined || totalLoad(s) < s.maxTotal;
}

/** Can this agent be offered one more interaction of this media right now? */
export function canTake(s: AgentSnapshot, media: Media): boolean {
  return s.loggedIn && !s.afterWork && !!s.ready[media] && hasRoom(s, media);
}

/** Share of the agent's capacity in use, 0..1, across media it can take. */
export function occupancy(s: AgentSnapshot): number {
  let cap = 0;
  for (const v of Object.values(s.capacity)) cap += v ?? 0;
  if (s.maxTotal !== undefined) cap = Math.min(cap, s.maxTotal);
  return cap === 0 ? 1 : totalLoad(s) / cap;
}

export type PresenceState = "logged_out" | "after_work" | "busy" | "ready" | "not_ready";

/** One word for dashboards: the agent's overall state. */
export function presenceOf(s: AgentSnapshot): PresenceState {
  if (!s.loggedIn) return "logged_out";
  if (s.afterWork) return "after_work";
  const readyMedia = (Object.keys(s.ready) as Media[]).filter((m) => s.ready[m] && (s.capacity[m] ?? 0) > 0);
  if (readyMedia.length === 0) return "not_ready";
  return readyMedia.some((m) => canTake(s, m)) ? "ready" : "busy";
}
