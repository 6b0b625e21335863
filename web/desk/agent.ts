// The agent's live state: the desktop socket's hello (the whole state, on every (re)connection, so a
// sleep or a network loss leaves nothing stale), kept current by its pushes; after the agent's own
// actions, the whole state again over the socket (GET /api/v1/me only while it is down), merged by
// live-state.ts so that no older answer hides a newer push. The workbin list is main.tsx's to read.
import { useEffect, useMemo, useState } from "preact/hooks";
import type { Auth } from "../shared/api.ts";
import { LiveSocket, type SocketState } from "../shared/socket.ts";
import type { AgentStatus } from "../shared/types.ts";
import type { DeskFrame } from "../../workers/protocol/desk.ts";
import { LiveState } from "./live-state.ts";

export type { DeskFrame };

export interface AgentLive {
  status: AgentStatus | null;
  conn: SocketState;
  refresh: () => Promise<void>;
  /** The latest push, for components that react to one (invites, returned replies). */
  last: DeskFrame | null;
}

export function useAgent(auth: Auth, onEvent: (e: DeskFrame) => void): AgentLive {
  const [status, setStatus] = useState<AgentStatus | null>(null);
  const [conn, setConn] = useState<SocketState>("connecting");
  const [last, setLast] = useState<DeskFrame | null>(null);
  const [live] = useState(() => new LiveState());
  const [sock, setSock] = useState<LiveSocket | null>(null);
  const refresh = useMemo(
    () => async () => {
      // Over the socket when it is open: the answer comes in order with the pushes, so it is never
      // older than one already shown. Else from the API, whose answer yields to any push meanwhile.
      if (sock?.send({ type: "status" })) return;
      const apply = live.read();
      setStatus(apply(await auth.get<AgentStatus>("/api/v1/me")));
    },
    [auth, sock],
  );
  useEffect(() => {
    let checked = 0;
    const s = new LiveSocket({
      url: () => auth.socketUrl("/api/v1/me/ws"),
      // Every (re)connection starts with a hello carrying the whole state: nothing to read apart.
      // A socket that cannot come back may be refused (a lapsed or revoked login): the API says so,
      // and a 401 there signs the desktop out.
      onState: (st) => {
        setConn(st);
        if (st === "down" && Date.now() - checked > 30_000) {
          checked = Date.now();
          const apply = live.read();
          void auth.get<AgentStatus>("/api/v1/me").then((a) => setStatus(apply(a)), () => {});
        }
      },
      onMessage: (m) => {
        const e = m as DeskFrame;
        setStatus(live.push(e));
        setLast(e);
        onEvent(e);
      },
    });
    setSock(s);
    return () => s.close();
  }, [auth]);
  return { status, conn, refresh, last };
}
