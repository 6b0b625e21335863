// The supervisor dashboard's socket logic, pure: parsing the console's frames (their types are
// workers/protocol/dashboard.ts), a history sample taken
// from live stats, and when the Dashboard object's alarm next has work. The object wires these to
// its sockets, its SQLite and its alarm.
import { readJsonFrame } from "../kernel/json-frame.ts";
import type { DashboardClientFrame, DashboardFrame } from "../protocol/dashboard.ts";
import type { LiveStats } from "./types.ts";

export { toSample } from "../protocol/dashboard.ts";
export type { QueueSample, Sample } from "./types.ts";

/** While a socket is open, stats are pushed this often. */
export const TICK_MS = 2_000;
/** A history sample is recorded this often, with or without sockets. */
export const SAMPLE_MS = 15_000;
/** How much history is kept, and how long sampling goes on after the last socket closed. */
export const HISTORY_MS = 3_600_000;
/** An alarm that fires a little early (timers are not exact) still counts as on time. */
export const SLACK_MS = 250;
/** Never sooner than this after an alarm, so a failing step cannot spin the loop. */
const MIN_GAP_MS = 500;
/** Client frames are a few bytes (UTF-8); anything much larger is not one of them. */
export const MAX_FRAME_BYTES = 1024;

export type FrameError = { code: "frame_too_large" | "malformed_frame" | "unknown_frame" | "stats_unavailable" | "unauthorized"; message: string };


export const statsFrame = (s: LiveStats): DashboardFrame => ({ type: "stats", at: s.at, queues: s.queues, agents: s.agents });

export function parseClientFrame(raw: string | ArrayBuffer): { ok: true; frame: DashboardClientFrame } | { ok: false; error: FrameError } {
  const read = readJsonFrame(raw, MAX_FRAME_BYTES);
  if (!read.ok) return read;
  const type = read.value.type;
  if (type === "ping" || type === "refresh") return { ok: true, frame: { type } };
  return { ok: false, error: { code: "unknown_frame", message: "type: ping or refresh; act through the REST API" } };
}

/** The alarm loop's clock: when stats were last pushed and a sample last taken (or tried), whether a
 *  socket is open, and until when sampling lingers without one. */
export interface Clock {
  open: boolean;
  pushedAt: number;
  sampledAt: number;
  lingerUntil: number | null;
}

/** What an alarm at `now` has to do. An alarm is set within the linger only, but may fire late: a
 *  sample up to one interval past its end still counts. */
export function dueAt(now: number, c: Clock): { push: boolean; sample: boolean } {
  const sampling = c.open || (c.lingerUntil !== null && now <= c.lingerUntil + SAMPLE_MS);
  return { push: c.open && now >= c.pushedAt + TICK_MS - SLACK_MS, sample: sampling && now >= c.sampledAt + SAMPLE_MS - SLACK_MS };
}

/** When the alarm should fire next, after one at `now` did its work; null stops the loop. Never
 *  sooner than MIN_GAP_MS, and never past the linger without a socket, so the loop always ends. */
export function nextAlarm(now: number, c: Clock): number | null {
  const floor = now + MIN_GAP_MS;
  if (c.open) return Math.max(Math.min(c.pushedAt + TICK_MS, c.sampledAt + SAMPLE_MS), floor);
  const sample = Math.max(c.sampledAt + SAMPLE_MS, floor);
  return c.lingerUntil !== null && sample <= c.lingerUntil ? sample : null;
}
