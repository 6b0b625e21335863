// What the API answers, as the browser apps read it. The shapes the server's own pure modules define are imported from them (types only: nothing of
// the server is bundled); the rest are the API's JSON answers as the apps read them.
import type { Media } from "../../workers/config/schema.ts";
import type { AgentSnapshot, PresenceState } from "../../workers/routing/agent-state.ts";
import type { HistoryEvent, InteractionRow } from "../../workers/ucs/interaction-types.ts";

export type { Media } from "../../workers/config/schema.ts";
export type { HistoryEvent } from "../../workers/ucs/interaction-types.ts";
export type { QueueItem, QueueStats, WorkbinEntry } from "../../durable-objects/types.ts";
export type { AgentStat, LiveStats, QueueSample, Sample } from "../../workers/stats/types.ts";
export type Presence = PresenceState;
export type Snapshot = AgentSnapshot;

/** The media in the order the desktop lists them. */
export const MEDIA = ["email", "webform", "chat", "sms", "callback", "generic"] as const satisfies readonly Media[];

export type { AgentStatus, WorkView } from "../../workers/protocol/desk.ts";

/** GET /api/v1/interactions/{id}: the row with its contact, parts, notes and history. */
export interface Interaction extends InteractionRow {
  contact: { id: string; firstName: string | null; lastName: string | null } | null;
  parts: { id: string; kind: string; content: string | null; content_type: string | null; name: string | null; size: number | null }[];
  notes: { id: string; author: string; text: string; createdAt: number }[];
  history: HistoryEvent[];
}

export interface Address {
  addr: string;
  name?: string;
}

export interface Attachment {
  id: string;
  name: string | null;
  contentType: string | null;
  size: number | null;
  contentId: string | null;
  url: string;
}

export interface EmailMessage {
  id: string;
  interactionId: string;
  direction: "inbound" | "outbound";
  from: Address | null;
  to: Address[];
  cc: Address[];
  bcc: Address[];
  subject: string | null;
  date: string | null;
  flags: string[];
  status: string;
  automatic: boolean;
  author: string | null;
  createdAt: number;
  text: string;
  html: string | null;
  attachments: Attachment[];
  delivery?: { attempts: number; lastError: string | null; transport: string | null };
}

export interface StandardResponse {
  id: string;
  name: string;
  category: string;
  subject?: string;
  text: string;
}

export interface Compose {
  to: Address[];
  cc: Address[];
  subject: string;
  quoted?: string;
}

export interface Contact {
  id: string;
  firstName: string | null;
  lastName: string | null;
  mergedInto: string | null;
  identifiers: { kind: string; value: string; display?: string }[];
  interactions: { id: string; media: Media; subject: string | null; state: string; createdAt: number; direction: string }[];
}

export interface SearchResult {
  kind: "contact" | "message";
  /** The contact's id, or the interaction's for a message. */
  ref: string;
  contactId: string | null;
  /** The match in context, with the hits between [ and ]. */
  snippet: string;
}



export type { ChatFrame, ChatMessage as ChatFrameMessage, Participant as ChatParticipant } from "../../workers/protocol/chat.ts";
export type { SupervisorMode } from "../../workers/chat/visibility.ts";

/** GET /api/v1/interactions/{id}/classification: the Content Analyzer's answer and the agent's. */
export interface ClassificationView {
  interactionId: string;
  model: number | null;
  categories: { id: string; confidence: number }[];
  outOfScope: boolean;
  explanation: { feature: string; weight: number }[];
  suggestions: { id: string; name: string; category: string; confidence: number }[];
  confirmed: string[] | null;
  current: string[];
  thresholds: { autoRespond: number | null; route: number; suggest: number; outOfScopeBelow: number } | null;
  tree: { id: string; name: string; parent: string | null }[];
}
