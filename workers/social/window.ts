// The customer-service window, per contact and channel, from the customer's last message: WhatsApp
// takes free text and media for 24 hours, then only approved templates; Messenger and Instagram take
// free text for 24 hours, then a human agent's reply tagged HUMAN_AGENT up to 7 days, then nothing;
// Telegram has no window. Pure.
import type { Channel } from "./types.ts";

export const WINDOW_MS = 24 * 3600_000;
export const HUMAN_AGENT_MS = 7 * 24 * 3600_000;

export type WindowMode = "free" | "human_agent" | "templates" | "closed";

export interface Window {
  mode: WindowMode;
  /** When the current mode ends (null: it does not). */
  closesAt: number | null;
}

export function windowOf(channel: Channel, lastInboundAt: number | null, now: number): Window {
  if (channel === "telegram") return { mode: "free", closesAt: null };
  const last = lastInboundAt ?? -Infinity;
  if (now < last + WINDOW_MS) return { mode: "free", closesAt: last + WINDOW_MS };
  if (channel === "whatsapp") return { mode: "templates", closesAt: null };
  if (now < last + HUMAN_AGENT_MS) return { mode: "human_agent", closesAt: last + HUMAN_AGENT_MS };
  return { mode: "closed", closesAt: null };
}

/** Why an agent's free text may not go now, or null when it may. */
export function freeTextRefusal(channel: Channel, w: Window): string | null {
  if (w.mode === "free" || w.mode === "human_agent") return null;
  if (w.mode === "templates") return "the customer's 24-hour window on WhatsApp has closed: send one of the approved templates";
  return `the customer last wrote more than 7 days ago: ${channel === "instagram" ? "Instagram" : "Messenger"} takes no message until they write again`;
}

export type AutomaticPlan = { send: "text" } | { send: "template"; template: string } | { skip: string };

/** An automatic message (an acknowledgement, a workflow's message): as text in the window, else its template fallback, else skipped with the reason. */
export function automaticPlan(channel: Channel, w: Window, fallbackTemplate: string | undefined): AutomaticPlan {
  // Automatic messages are not a human agent's: HUMAN_AGENT does not cover them.
  if (w.mode === "free") return { send: "text" };
  if (channel === "whatsapp" && fallbackTemplate) return { send: "template", template: fallbackTemplate };
  return { skip: `outside the customer's 24-hour window on ${channel}${channel === "whatsapp" ? " and no fallback template (social.fallbackTemplate)" : ""}` };
}
