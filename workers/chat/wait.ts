// The estimated wait told to a customer in the queue. Pure. Work ahead of them is shared by the agents
// who can take it; each piece takes about the queue's average handling time today (3 minutes before
// anything was handled). With no agent at all there is no honest estimate.
export const DEFAULT_HANDLE_MS = 180_000;

export function estimateWaitSeconds(a: { position: number; agents: number; avgHandleMs: number | null }): number | null {
  if (a.agents <= 0) return null;
  const handle = a.avgHandleMs ?? DEFAULT_HANDLE_MS;
  // Position 1 waits for the first agent to free up: about half a handling time when all are busy.
  const rounds = Math.max(0, a.position - 1) / a.agents + 0.5;
  return Math.max(15, Math.round((rounds * handle) / 1000 / 15) * 15);
}
