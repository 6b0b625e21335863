// An interaction as the history keeps it and the API answers it. Types only, with no bindings, so
// the browser apps read the same shapes.
import type { Attributes, Media } from "../config/schema.ts";

/** `draft`: a reply its author is writing; `scheduled`: a callback before its time; `sending`: a reply
 *  on its way out (done once delivered); `failed`: delivery gave up (dead-letter queue). */
export type InteractionState = "new" | "queued" | "offered" | "handling" | "workbin" | "done" | "stopped" | "draft" | "scheduled" | "sending" | "failed";

export interface InteractionRow {
  id: string;
  externalId: string | null;
  media: Media;
  channel: string;
  direction: string;
  subject: string | null;
  threadId: string;
  parentId: string | null;
  contactId: string | null;
  state: InteractionState;
  queue: string | null;
  agentId: string | null;
  workbin: string | null;
  priority: number;
  categories: string[];
  attributes: Attributes;
  createdAt: number;
  updatedAt: number;
  doneAt: number | null;
  workflow: string | null;
}

export interface HistoryEvent {
  seq: number; at: number; actor: string; action: string; from: string | null; to: string | null; queue: string | null; agentId: string | null; reason: unknown;
}
