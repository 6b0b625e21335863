// What the real-time Stat Server answers: per queue, per agent, and the dashboard's history samples.
// Types only, with no bindings, so the browser apps read the same shapes.
import type { QueueStats } from "../../durable-objects/types.ts";
import type { Media } from "../config/schema.ts";
import type { PresenceState } from "../routing/agent-state.ts";

export type { QueueStats } from "../../durable-objects/types.ts";

export interface AgentStat {
  id: string;
  fullName: string;
  state: PresenceState;
  ready: Partial<Record<Media, boolean>>;
  reasons: Partial<Record<Media, string>>;
  afterWork: boolean;
  load: Partial<Record<Media, number>>;
  totalLoad: number;
  capacity: Partial<Record<Media, number>>;
  maxTotal: number | null;
  idleSince: number | null;
}

export interface LiveStats {
  at: number;
  queues: QueueStats[];
  agents: AgentStat[];
}

export interface QueueSample {
  waiting: number;
  oldestWaitMs: number;
  serviceLevelPct: number | null;
  avgHandleMs: number | null;
}
export interface Sample {
  at: number;
  queues: Record<string, QueueSample>;
}
