// An agent's presence and how each desktop action changes it. Pure: the Agent object stores the
// result and tells the desktop; the rules (who is idle since when, what ready means) live here.
import type { Media } from "../config/schema.ts";
import { MEDIA } from "../config/schema.ts";
import { badRequest, conflict } from "../kernel/errors.ts";

export interface Presence {
  loggedIn: boolean;
  afterWork: boolean;
  afterWorkUntil: number | null;
  ready: Partial<Record<Media, boolean>>;
  reasons: Partial<Record<Media, string>>;
  /** When the agent last became free of all work (or ready): what "longest idle" compares. */
  idleSince: number;
  /** Increases with every change, so a queue can ignore an older report that arrives late. */
  version: number;
  loggedInAt: number | null;
}

type Capacity = Partial<Record<Media, number>>;
/** Changes a presence in place (the object hands a copy and stores it after). */
export type PresenceStep = (p: Presence) => void;

export const newPresence = (now: number): Presence => ({
  loggedIn: false, afterWork: false, afterWorkUntil: null, ready: {}, reasons: {}, idleSince: now, version: 0, loggedInAt: null,
});

const hasMedia = (cap: Capacity) => MEDIA.filter((m) => (cap[m] ?? 0) > 0);

/** Logging in keeps an agent already logged in as it was, apart from `ready` when given. */
export const logIn = (cap: Capacity, ready: boolean | undefined, now: number): PresenceStep => (p) => {
  if (!p.loggedIn) {
    p.loggedIn = true;
    p.loggedInAt = now;
    p.idleSince = now;
  }
  for (const m of hasMedia(cap)) p.ready[m] = ready ?? p.ready[m] ?? false;
  p.reasons = {};
};

export const logOut: PresenceStep = (p) => {
  p.loggedIn = false;
  p.loggedInAt = null;
  p.ready = {};
  p.reasons = {};
  p.afterWork = false;
  p.afterWorkUntil = null;
};

/** Ready or not on `media` (all the agent has capacity for when omitted), with a not-ready reason
 *  from the tenant's list. Throws the 409/400 the desktop shows. */
export function setReady(p: Readonly<Presence>, cap: Capacity, reasons: readonly string[], ready: boolean, opts: { media?: Media[]; reason?: string }, idle: boolean, now: number): PresenceStep {
  if (!p.loggedIn) throw conflict("logged_out", "log in first");
  if (!ready && opts.reason !== undefined && !reasons.includes(opts.reason)) throw badRequest("unknown_reason", `reason: '${opts.reason}' is not one of ${reasons.join(", ")}`);
  const media = opts.media ?? hasMedia(cap);
  for (const m of media) if ((cap[m] ?? 0) === 0) throw badRequest("no_capacity", `media: this agent has no capacity for ${m}`);
  return (x) => {
    const wasReady = MEDIA.some((m) => x.ready[m]);
    for (const m of media) {
      x.ready[m] = ready;
      if (ready) delete x.reasons[m];
      else if (opts.reason) x.reasons[m] = opts.reason;
    }
    if (ready && !wasReady && idle) x.idleSince = now;
  };
}

export function setAfterWork(p: Readonly<Presence>, on: boolean, idle: boolean, now: number): PresenceStep {
  if (!p.loggedIn) throw conflict("logged_out", "log in first");
  return (x) => {
    x.afterWork = on;
    x.afterWorkUntil = null;
    if (!on && idle) x.idleSince = now;
  };
}

/** Done with an interaction: after-call work for the tenant's afterWorkSeconds, if any. */
export const finished = (afterWorkSeconds: number, idle: boolean, now: number): PresenceStep => (p) => {
  if (afterWorkSeconds > 0 && p.loggedIn) {
    p.afterWork = true;
    p.afterWorkUntil = now + afterWorkSeconds * 1000;
  }
  if (idle) p.idleSince = now;
};

/** After-call work whose time is up, or null if there is none to end. */
export const afterWorkLapsed = (p: Readonly<Presence>, now: number): PresenceStep | null =>
  p.afterWork && p.afterWorkUntil !== null && p.afterWorkUntil <= now
    ? (x) => {
        x.afterWork = false;
        x.afterWorkUntil = null;
      }
    : null;

export const idleFrom = (now: number): PresenceStep => (p) => {
  p.idleSince = now;
};
