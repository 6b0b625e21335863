// What crosses between the queue and agent objects and the Worker.
import type { Attributes, Media } from "../workers/config/schema.ts";

/** An interaction's operational data while it is routed (the seed's Interaction Server cache). */
export interface QueueItem {
  id: string;
  media: Media;
  priority: number;
  subject: string | null;
  contactId: string | null;
  categories: string[];
  attributes: Attributes;
  /** Offer only to this agent (a transfer to an agent, a supervisor's assign). */
  pinnedAgent?: string | null;
  /** Until when only the pinned agent may take it; after that, the queue's ordinary routing (a reply
   *  offered first to the agent who handled the thread). Without it, the pin holds until a supervisor acts. */
  pinUntil?: number | null;
  /** Not routed before this time: a callback waits, scheduled, until its window opens. */
  dueAt?: number | null;
  /** Entering without running the queue's workflow steps (a transfer or a return). */
  skipSteps?: boolean;
  /** Forward hops so far, to stop a misconfigured loop. */
  hops?: number;
}

export interface Offer {
  interactionId: string;
  queue: string;
  media: Media;
  item: QueueItem;
  enteredAt: number;
  offeredAt: number;
  /** When the agent's offer lapses and the interaction goes back to its queue. */
  expiresAt: number;
  reason: unknown;
}

/** A queue's best item for an agent that pulls (peek), compared across its queues. */
export interface Candidate {
  queue: string;
  itemId: string;
  media: Media;
  boost: number;
  pinned: boolean;
  priority: number;
  enteredAt: number;
}

export interface SubmitOptions {
  actor: string;
  /** The history action: queued, forwarded, transferred, returned, moved, resubmitted. */
  action?: string;
  reason?: unknown;
}

export type SubmitResult = { status: "queued" | "duplicate" | "stopped" | "forwarded"; queue: string };

export type ReturnWhy = "rejected" | "timeout" | "disconnect" | "logout" | "stale";

export interface WorkbinEntry {
  interactionId: string;
  media: Media;
  item: QueueItem;
  queue: string;
  parkedAt: number;
  parkedBy: string;
}

/** A queue's live statistics (the real-time Stat Server's figures for one queue). */
export interface QueueStats {
  queue: string;
  waiting: number;
  offered: number;
  parked: number;
  scheduled: number;
  oldestWaitMs: number;
  entered: number;
  distributed: number;
  abandoned: number;
  stopped: number;
  avgWaitMs: number | null;
  avgHandleMs: number | null;
  serviceLevelPct: number | null;
  serviceLevelSeconds: number;
  day: string;
}
