// Chats in progress across the tenant: waiting or offered in any queue that takes chat, and in
// agents' hands (GET /api/v1/agents). Read again every 5 s.
import { useState } from "preact/hooks";
import { errorText, type Auth } from "../../shared/api.ts";
import { usePolling } from "../../shared/poll.ts";
import type { AgentRow, QueueEntry, QueueInfo } from "../api-types.ts";

export interface LiveChat {
  id: string;
  subject: string | null;
  queue: string;
  /** waiting, offered, or active (with an agent) */
  state: string;
  agent: string | null;
  /** Since when it has been in this state (entered the queue, or accepted). */
  since: number | null;
}

const REFRESH_MS = 5_000;

async function loadChats(auth: Auth): Promise<LiveChat[]> {
  const [{ queues }, { agents }] = await Promise.all([auth.get<{ queues: QueueInfo[] }>("/api/v1/queues"), auth.get<{ agents: AgentRow[] }>("/api/v1/agents")]);
  const now = Date.now();
  const byId = new Map<string, LiveChat>();
  const lists = await Promise.all(
    queues.filter((q) => q.media.includes("chat")).map(async (q) => ({ q: q.name, items: (await auth.get<{ items: QueueEntry[] }>(`/api/v1/queues/${encodeURIComponent(q.name)}/interactions`)).items })),
  );
  for (const { q, items } of lists)
    for (const it of items.filter((x) => x.media === "chat"))
      byId.set(it.id, { id: it.id, subject: it.item.subject, queue: q, state: it.state, agent: it.agentId, since: now - it.waitingMs });
  // What an agent holds wins over a queue's row that is a moment behind.
  for (const a of agents)
    for (const w of a.work.filter((x) => x.media === "chat"))
      byId.set(w.interactionId, { id: w.interactionId, subject: w.item.subject, queue: w.queue, state: "active", agent: a.fullName, since: w.acceptedAt ?? w.offeredAt });
  return [...byId.values()].sort((x, y) => (x.since ?? 0) - (y.since ?? 0));
}

export function useLiveChats(auth: Auth): { chats: LiveChat[] | null; error: string | null; refresh: () => void } {
  const [chats, setChats] = useState<LiveChat[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  usePolling(() => loadChats(auth), REFRESH_MS, [auth, tick], {
    value: (c) => {
      setChats(c);
      setError(null);
    },
    error: (e) => setError(errorText(e)),
  });
  return { chats, error, refresh: () => setTick((t) => t + 1) };
}
