// Shapes of the supervisor API answers the console reads (what web/shared/types.ts does not cover).
import type { Address, AgentStatus, Media, QueueItem } from "../shared/types.ts";

/** GET /api/v1/queues */
export interface QueueInfo {
  name: string;
  description?: string | null;
  media: Media[];
  routes: boolean;
}

/** One row of GET /api/v1/queues/:queue/interactions, in view order. */
export interface QueueEntry {
  id: string;
  media: Media;
  state: "waiting" | "offered" | "moving" | "scheduled";
  priority: number;
  effectivePriority: number;
  waitingMs: number;
  agentId: string | null;
  pinnedAgent: string | null;
  targetIndex: number;
  item: QueueItem;
}

/** GET /api/v1/reviews: a reply waiting in a review queue. */
export interface ReviewItem extends QueueEntry {
  queue: string;
}

/** GET /api/v1/agents */
export interface AgentRow extends AgentStatus {
  id: string;
  fullName: string;
  role: "agent" | "supervisor" | "admin";
}

export type { LiveStats, QueueSample, Sample } from "../shared/types.ts";

/** GET /api/v1/replies?state=failed (D1 column names, as the API sends them). */
export interface ReplyRow {
  id: string;
  parent_id: string | null;
  thread_id: string;
  subject: string | null;
  state: string;
  updated_at: number;
  email_id: string;
  to_addrs: Address[];
  status: string;
  author: string | null;
  attempts: number;
  last_error: string | null;
  last_note: string | null;
}

/** GET /api/v1/outbox: what the local transport kept instead of sending. */
export interface OutboxMessage {
  id: string;
  email_id: string;
  interaction_id: string;
  mail_from: string;
  rcpt_to: string[];
  subject: string | null;
  size: number;
  auto: boolean;
  created_at: number;
  delivered: boolean;
  raw: string;
}
export interface Outbox {
  delivered: boolean;
  note: string;
  messages: OutboxMessage[];
}

export type { ChatFrame, ChatParticipant, SupervisorMode } from "../shared/types.ts";
