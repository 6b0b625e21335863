// The supervisor dashboard's socket (GET /api/v1/supervisor/ws): every frame the Dashboard object
// sends and every frame the console may send. The object checks its sends against it; the
// console reads with it. Pure.
import type { ErrorFrame } from "../kernel/socket-error.ts";
import type { AgentStat, LiveStats, QueueSample, QueueStats, Sample } from "../stats/types.ts";

/** Server → console: the first frame is always a snapshot with the last hour's samples. */
export type DashboardFrame =
  | { type: "snapshot"; at: number; queues: QueueStats[]; agents: AgentStat[]; history: Sample[] }
  | { type: "stats"; at: number; queues: QueueStats[]; agents: AgentStat[] }
  | { type: "sample"; sample: Sample }
  | { type: "pong"; at: number }
  | ErrorFrame;

/** Console → server: the socket only answers; actions go through the REST API. */
export type DashboardClientFrame = { type: "ping" } | { type: "refresh" };

/** A history sample of live stats: the server's every 15 s, and the console's own while it polls. */
export function toSample(s: LiveStats): Sample {
  const queues: Record<string, QueueSample> = {};
  for (const q of s.queues) queues[q.queue] = { waiting: q.waiting, oldestWaitMs: q.oldestWaitMs, serviceLevelPct: q.serviceLevelPct, avgHandleMs: q.avgHandleMs };
  return { at: s.at, queues };
}
