// The agent desktop's socket (GET /api/v1/me/ws): every frame the Agent object sends and every frame
// the desktop may send, one discriminated union each. The server checks its sends against it and
// the desk app reads with it, so the two cannot drift. Pure types and one parser.
import type { Media } from "../config/schema.ts";
import type { ErrorFrame } from "../kernel/socket-error.ts";
import type { AgentSnapshot, PresenceState } from "../routing/agent-state.ts";
import type { QueueItem, ReturnWhy } from "../../durable-objects/types.ts";

export type WorkState = "reserving" | "offered" | "handling" | "moving";

/** One interaction on offer or in hand, as the desktop shows it. */
export interface WorkView {
  interactionId: string;
  media: Media;
  queue: string;
  state: WorkState;
  offeredAt: number;
  expiresAt: number | null;
  acceptedAt: number | null;
  item: QueueItem;
  reason: unknown;
}

/** The agent's whole state: GET /api/v1/me, and the socket's hello and status frames. */
export interface AgentStatus {
  agentId: string;
  presence: PresenceState;
  snapshot: AgentSnapshot;
  afterWorkUntil: number | null;
  offers: WorkView[];
  work: WorkView[];
  workbin: number;
  sockets: number;
}

/** Why work left the agent's hands. */
export type RemovedWhy = "done" | "stopped" | "parked" | "transferred" | "returned" | "rescheduled";

/** Pushed by other parts of Parley through `Agent.notify` (a chat, the mail workflow). */
export type DeskNotice =
  | { type: "chat_invite"; interactionId: string; from: string; mode: string }
  | { type: "chat_ended"; interactionId: string; reason: string }
  | { type: "draft_returned"; interactionId: string; comment?: string; by: string }
  | { type: "message_added"; interactionId: string; emailId: string };

/** Server → desktop. */
export type DeskFrame =
  | { type: "hello" | "status"; status: AgentStatus }
  | { type: "state"; snapshot: AgentSnapshot; presence: PresenceState }
  | { type: "offer"; offer: WorkView }
  | { type: "offer_revoked"; interactionId: string; reason: ReturnWhy | "withdrawn" | "abandoned" }
  | { type: "work"; work: WorkView }
  | { type: "work_removed"; interactionId: string; why: RemovedWhy }
  | { type: "workbin"; interactionId: string }
  | { type: "pong"; at: number }
  | DeskNotice
  | ErrorFrame;

/** Desktop → server: the socket only answers; actions go through the REST API. */
export type DeskClientFrame = { type: "ping" } | { type: "status" };

/** A desktop frame, or the error frame's code and message for anything else. */
export function parseDeskFrame(raw: string | ArrayBuffer): DeskClientFrame | { error: { code: string; message: string } } {
  let msg: unknown;
  try {
    msg = JSON.parse(typeof raw === "string" ? raw : new TextDecoder().decode(raw));
  } catch {
    return { error: { code: "invalid_json", message: "messages are JSON" } };
  }
  const type = typeof msg === "object" && msg !== null ? (msg as { type?: unknown }).type : undefined;
  if (type === "ping" || type === "status") return { type };
  return { error: { code: "unknown_type", message: "send ping or status; act through the REST API" } };
}
