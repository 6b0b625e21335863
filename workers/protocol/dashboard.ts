// The supervisor dashboard's socket (GET /api/v1/supervisor/ws): every frame the Dashboard object
// sends and every frame the console may send. The object checks its sends against it; the
// console reads with it. Pure types.
import type { ErrorFrame } from "../kernel/socket-error.ts";
import type { AgentStat, QueueStats, Sample } from "../stats/types.ts";

/** Server → console: the first frame is always a snapshot with the last hour's samples. */
export type DashboardFrame =
  | { type: "snapshot"; at: number; queues: QueueStats[]; agents: AgentStat[]; history: Sample[] }
  | { type: "stats"; at: number; queues: QueueStats[]; agents: AgentStat[] }
  | { type: "sample"; sample: Sample }
  | { type: "pong"; at: number }
  | ErrorFrame;

/** Console → server: the socket only answers; actions go through the REST API. */
export type DashboardClientFrame = { type: "ping" } | { type: "refresh" };
