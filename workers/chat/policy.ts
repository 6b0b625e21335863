// A chat's timing policy, pure: the customer's idle countdown (alert, then close), the queue-position
// updates and their text, the retries of the transcript's write and mail, how long a chat may grow,
// and when the ChatSession must wake next. The object stores its meta record; these decide.
import type { ChatRole } from "./visibility.ts";
import { MAX_ALL_MESSAGES, MAX_MESSAGES } from "./limits.ts";

/** Retries of a failed transcript write or mail: 5 s, 15 s, 1 min, then every 5 min. */
export const RETRY_MS = [5_000, 15_000, 60_000, 300_000] as const;
/** A chatty customer's activity restarts the idle clock at most this often (one write per message saved). */
export const IDLE_WRITE_MS = 5_000;

/** The timing fields of a chat's meta record (ChatMeta extends it): what these rules read. */
export interface ChatClock {
  status: "waiting" | "active" | "ended";
  lastCustomerAt: number;
  idleStage: 0 | 1;
  /** When the next queue-position update, idle step or transcript retry is due. */
  positionAt: number | null;
  idleAt: number | null;
  retryAt: number | null;
  retries: number;
  sms?: { idleSeconds: number; closed?: boolean };
  /** A social channel's conversation: timed like an SMS session. */
  social?: { idleSeconds: number; closed?: boolean };
  /** Ended while waiting: still to be taken out of its queue as abandoned. */
  abandonPending?: boolean;
  transcriptTo: string | null;
  transcriptWritten: boolean;
  transcriptMailed: boolean;
}

export interface IdleSettings {
  alertSeconds: number;
  closeSeconds: number;
  alertText: string;
}

/** Does the customer's activity now need the idle clock written again? */
export const idleRestartDue = (m: Pick<ChatClock, "status" | "idleStage" | "lastCustomerAt">, now: number): boolean =>
  m.status === "active" && !(m.idleStage === 0 && now - m.lastCustomerAt < IDLE_WRITE_MS);

/** When the idle alert is due, once the countdown is (re)started: from the customer's last word, after
 *  the number's idle seconds for an SMS session or the tenant's alert seconds for a web chat. */
export function idleAlertAt(m: Pick<ChatClock, "status" | "idleAt" | "lastCustomerAt" | "sms" | "social">, idle: IdleSettings | undefined): number | null {
  const carried = m.sms ?? m.social;
  const alertSeconds = carried ? carried.idleSeconds : idle?.alertSeconds;
  if (alertSeconds === undefined || m.status !== "active" || m.idleAt !== null) return null;
  return m.lastCustomerAt + alertSeconds * 1000;
}

export type IdleStep = { kind: "wait" } | { kind: "end" } | { kind: "off" } | { kind: "alert"; closeAt: number; text: string };

/** What the idle countdown does when its time comes: an SMS session or a chat already alerted ends;
 *  a web chat is alerted first; a tenant that switched chat off stops the countdown. */
export function idleStep(m: Pick<ChatClock, "status" | "idleAt" | "idleStage" | "sms" | "social">, idle: IdleSettings | undefined, now: number): IdleStep {
  if (m.status !== "active" || m.idleAt === null || m.idleAt > now) return { kind: "wait" };
  if (m.sms || m.social) return { kind: "end" };
  if (!idle) return { kind: "off" };
  if (m.idleStage === 0) return { kind: "alert", closeAt: now + idle.closeSeconds * 1000, text: idle.alertText };
  return { kind: "end" };
}

/** When the next queue-position update is due (none when the tenant switched them off). */
export const nextPositionAt = (everySeconds: number, now: number): number | null => (everySeconds > 0 ? now + everySeconds * 1000 : null);

/** What the customer reads about their place in the queue. */
export function positionText(position: number, ewtSeconds: number | null): string {
  const place = position === 1 ? "You are next in line." : `You are number ${position} in the queue.`;
  if (ewtSeconds === null) return place;
  const mins = Math.max(1, Math.round(ewtSeconds / 60));
  return `${place} Estimated wait: about ${mins} minute${mins === 1 ? "" : "s"}.`;
}

/** Is anything of the chat's ending still to do: leaving its queue, closing the SMS session, the
 *  transcript's write, its mail? */
export const finishPending = (m: Pick<ChatClock, "abandonPending" | "sms" | "social" | "transcriptWritten" | "transcriptTo" | "transcriptMailed">): boolean =>
  m.abandonPending === true || (m.sms !== undefined && !m.sms.closed) || (m.social !== undefined && !m.social.closed) || !m.transcriptWritten || (m.transcriptTo !== null && !m.transcriptMailed);

/** After a finishing round: a failure backs off along RETRY_MS; what is left without failure goes on in a second. */
export function finishRetry(retries: number, failed: boolean, pending: boolean, now: number): { retries: number; retryAt: number | null } {
  const n = failed ? retries + 1 : 0;
  return { retries: n, retryAt: !pending ? null : failed ? now + RETRY_MS[Math.min(n - 1, RETRY_MS.length - 1)]! : now + 1000 };
}

/** The most messages a chat holds before this sender may add one: the customer stops at MAX_MESSAGES,
 *  staff go on to MAX_ALL_MESSAGES, so a customer who filled the chat cannot silence the agent. */
export const messageCap = (role: ChatRole): number => (role === "customer" ? MAX_MESSAGES : MAX_ALL_MESSAGES);

/** Who ended the chat, by the role of the participant that asked. */
export const endReasonOf = (role: ChatRole | undefined): "customer" | "supervisor" | "agent" => (role === "customer" ? "customer" : role === "supervisor" ? "supervisor" : "agent");

/** The next time the ChatSession must wake: its status's timer, and each open staff socket at its
 *  token's expiry or the revocation interval (hibernating sockets send no frame to check on). */
export function nextChatAlarm(m: Pick<ChatClock, "status" | "positionAt" | "idleAt" | "retryAt">, staffExpiries: number[], revocationCheckMs: number, now: number): number | null {
  const t = m.status === "waiting" ? m.positionAt : m.status === "active" ? m.idleAt : m.retryAt;
  const times = [...(t !== null ? [t] : []), ...staffExpiries.map((e) => Math.min(e, now + revocationCheckMs))];
  return times.length ? Math.min(...times) : null;
}
