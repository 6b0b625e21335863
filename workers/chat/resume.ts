// Whether a start request that repeats a known clientId may have the chat (and a fresh token) again.
// The clientId is the widget's idempotency key, not a credential: once it leaks (a log, a shared
// link, a guessable id) it must not open someone's chat. So a repeat is answered only while the chat
// is live, and only by the holder of the chat's token, or within a short window after the start
// (a retry after a lost answer, or a reload that lost the token before it was stored). Pure.
import type { ChatStatus } from "../../durable-objects/chat-store.ts";

/** How long after a chat starts a repeat of its clientId gets it back without its token. */
export const RESUME_WINDOW_MS = 2 * 60_000;

export type ResumeDecision = { ok: true } | { ok: false; reason: "ended" | "window_passed" };

export function mayResume(c: { status: ChatStatus; startedAt: number; now: number; heldToken: boolean }): ResumeDecision {
  if (c.status === "ended") return { ok: false, reason: "ended" };
  if (c.heldToken) return { ok: true };
  return c.now - c.startedAt <= RESUME_WINDOW_MS ? { ok: true } : { ok: false, reason: "window_passed" };
}
