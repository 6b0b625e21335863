// The real-time Stat Server's one gathering step: every queue's stats() and every agent's snapshot(),
// asked in parallel. GET /api/v1/stats answers it; the Dashboard object pushes it to supervisors.
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import { agentStub, queueStub } from "../../durable-objects/names.ts";
import { getConfig } from "../config/store.ts";
import { presenceOf, totalLoad } from "../routing/agent-state.ts";
import type { AgentStat, LiveStats, QueueStats } from "./types.ts";

export type { AgentStat, LiveStats, QueueStats } from "./types.ts";

export interface LiveOptions {
  /** Called when a queue's stats() fails; its answer stands in for that queue (null leaves it out).
   *  Without it the failure is thrown, as the HTTP route wants. */
  queueFailed?: (queue: string, err: unknown) => QueueStats | null;
}

export async function liveStats(env: TenantEnv, tenant: string, opts: LiveOptions = {}): Promise<LiveStats> {
  const cfg = await getConfig(env.DB, tenant);
  const { queueFailed } = opts;
  const [queues, agents] = await Promise.all([
    Promise.all(
      [...cfg.queues.keys()].map((q) => {
        const s = queueStub(env, tenant, q).stats();
        return queueFailed ? s.catch((err: unknown) => queueFailed(q, err)) : s;
      }),
    ),
    Promise.all(
      [...cfg.agents.values()].map(async (a): Promise<AgentStat> => {
        // An agent removed from the config a moment ago (its object already refuses): shown as logged out.
        const s = await agentStub(env, tenant, a.id).snapshot().catch(() => null);
        if (!s) return { id: a.id, fullName: a.fullName, state: "logged_out", ready: {}, reasons: {}, afterWork: false, load: {}, totalLoad: 0, capacity: a.capacity, maxTotal: a.maxTotal ?? null, idleSince: null };
        return { id: a.id, fullName: a.fullName, state: presenceOf(s), ready: s.ready, reasons: s.reasons, afterWork: s.afterWork, load: s.load, totalLoad: totalLoad(s), capacity: s.capacity, maxTotal: s.maxTotal ?? null, idleSince: s.idleSince };
      }),
    ),
  ]);
  return { at: Date.now(), queues: queues.filter((q): q is QueueStats => q !== null), agents };
}
