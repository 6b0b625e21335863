// The agent's live state: the desktop socket's hello (the whole state, on every (re)connection, so a
// sleep or a network loss leaves nothing stale), kept current by its pushes; GET /api/v1/me after
// the agent's own actions.
import { useEffect, useMemo, useState } from "preact/hooks";
import type { Auth } from "../shared/api.ts";
import { LiveSocket, type SocketState } from "../shared/socket.ts";
import type { AgentStatus, WorkView } from "../shared/types.ts";

export type DeskEvent =
  | { type: "offer"; offer: WorkView }
  | { type: "offer_revoked"; interactionId: string; reason: string }
  | { type: "work"; work: WorkView }
  | { type: "work_removed"; interactionId: string; why: string }
  | { type: "workbin"; interactionId: string }
  | { type: "chat_invite"; interactionId: string; mode: string; by?: string }
  | { type: "chat_ended"; interactionId: string; reason: string }
  | { type: "reply_returned"; [k: string]: unknown }
  | { type: string; [k: string]: unknown };

export interface AgentLive {
  status: AgentStatus | null;
  conn: SocketState;
  refresh: () => Promise<void>;
  /** The latest push, for components that react to one (invites, returned replies). */
  last: DeskEvent | null;
}

export function useAgent(auth: Auth, onEvent: (e: DeskEvent) => void): AgentLive {
  const [status, setStatus] = useState<AgentStatus | null>(null);
  const [conn, setConn] = useState<SocketState>("connecting");
  const [last, setLast] = useState<DeskEvent | null>(null);
  const refresh = useMemo(() => async () => setStatus(await auth.get<AgentStatus>("/api/v1/me")), [auth]);
  useEffect(() => {
    let checked = 0;
    const sock = new LiveSocket({
      url: () => auth.socketUrl("/api/v1/me/ws"),
      // Every (re)connection starts with a hello carrying the whole state: nothing to read apart.
      // A socket that cannot come back may be refused (a lapsed or revoked login): the API says so,
      // and a 401 there signs the desktop out.
      onState: (st) => {
        setConn(st);
        if (st === "down" && Date.now() - checked > 30_000) {
          checked = Date.now();
          void refresh().catch(() => {});
        }
      },
      onMessage: (m) => {
        const e = m as DeskEvent;
        if (e.type === "hello" || e.type === "status") setStatus((m as { status: AgentStatus }).status);
        else if (e.type === "state") setStatus((s) => (s ? { ...s, snapshot: (m as unknown as { snapshot: AgentStatus["snapshot"] }).snapshot, presence: (m as unknown as { presence: AgentStatus["presence"] }).presence } : s));
        else if (e.type === "offer") {
          const o = (e as { offer: WorkView }).offer;
          setStatus((s) => (s ? { ...s, offers: [...s.offers.filter((x) => x.interactionId !== o.interactionId), o] } : s));
        } else if (e.type === "offer_revoked") {
          const id = (e as { interactionId: string }).interactionId;
          setStatus((s) => (s ? { ...s, offers: s.offers.filter((x) => x.interactionId !== id) } : s));
        } else if (e.type === "work") {
          const w = (e as { work: WorkView }).work;
          setStatus((s) => (s ? { ...s, offers: s.offers.filter((x) => x.interactionId !== w.interactionId), work: [...s.work.filter((x) => x.interactionId !== w.interactionId), w] } : s));
        } else if (e.type === "work_removed") {
          const id = (e as { interactionId: string }).interactionId;
          setStatus((s) => (s ? { ...s, work: s.work.filter((x) => x.interactionId !== id) } : s));
          void refresh().catch(() => {});
        } else if (e.type === "workbin") void refresh().catch(() => {});
        setLast(e);
        onEvent(e);
      },
    });
    return () => sock.close();
  }, [auth]);
  return { status, conn, refresh, last };
}
