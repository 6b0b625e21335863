// The dashboard's live data: the supervisor socket (a snapshot, stats every 2 s, a sample every
// 15 s). While the socket is not open (the route missing, a proxy blocking WebSockets, a drop) it
// polls GET /api/v1/stats every 3 s and takes its own samples, so the page never goes stale.
import { useEffect, useRef, useState } from "preact/hooks";
import type { Auth } from "../../shared/api.ts";
import { errorText } from "../../shared/api.ts";
import { LiveSocket, type SocketState } from "../../shared/socket.ts";
import { toSample, type DashboardFrame } from "../../../workers/protocol/dashboard.ts";
import type { LiveStats, Sample } from "../api-types.ts";

export const POLL_MS = 3_000;
const SAMPLE_MS = 15_000;
export const HISTORY_MS = 3_600_000;

export interface DashboardData {
  stats: LiveStats | null;
  history: Sample[];
  conn: SocketState;
  /** "socket" while the socket is open, else "polling". */
  source: "socket" | "polling";
  error: string | null;
  refresh: () => void;
}

const recent = (list: Sample[], now: number) => list.filter((s) => s.at >= now - HISTORY_MS);

export function useDashboard(auth: Auth): DashboardData {
  const [stats, setStats] = useState<LiveStats | null>(null);
  const [history, setHistory] = useState<Sample[]>([]);
  const [conn, setConn] = useState<SocketState>("connecting");
  const [error, setError] = useState<string | null>(null);
  const refreshRef = useRef<() => void>(() => {});

  useEffect(() => {
    let poller: ReturnType<typeof setInterval> | null = null;
    let lastLocalSample = 0;
    let alive = true;
    let open = false;

    const poll = async () => {
      try {
        const s = await auth.get<LiveStats>("/api/v1/stats");
        if (!alive || open) return;
        setStats(s);
        setError(null);
        if (s.at - lastLocalSample >= SAMPLE_MS - 500) {
          lastLocalSample = s.at;
          setHistory((h) => recent([...h, toSample(s)], s.at));
        }
      } catch (e) {
        if (alive) setError(errorText(e));
      }
    };
    const startPolling = () => {
      if (poller) return;
      void poll();
      poller = setInterval(() => void poll(), POLL_MS);
    };
    const stopPolling = () => {
      if (poller) clearInterval(poller);
      poller = null;
    };

    const sock = new LiveSocket({
      url: () => auth.socketUrl("/api/v1/supervisor/ws"),
      onState: (s) => {
        if (!alive) return;
        open = s === "open";
        setConn(s);
        if (s === "open") stopPolling();
        else startPolling();
      },
      onMessage: (raw) => {
        const m = raw as unknown as DashboardFrame;
        if (m.type === "snapshot") {
          const f = m;
          setStats({ at: f.at, queues: f.queues, agents: f.agents });
          // The server's history is the record; local samples were only a stand-in.
          setHistory(recent(f.history, f.at));
          setError(null);
        } else if (m.type === "stats") {
          setStats({ at: m.at, queues: m.queues, agents: m.agents });
        } else if (m.type === "sample") {
          const sample = m.sample;
          setHistory((h) => recent([...h.filter((x) => x.at !== sample.at), sample], sample.at));
        } else if (m.type === "error") {
          setError(m.error.message);
        }
      },
    });
    startPolling();
    refreshRef.current = () => {
      if (!sock.send({ type: "refresh" })) void poll();
    };
    return () => {
      alive = false;
      stopPolling();
      sock.close();
    };
  }, [auth]);

  return { stats, history, conn, source: conn === "open" ? "socket" : "polling", error, refresh: () => refreshRef.current() };
}
