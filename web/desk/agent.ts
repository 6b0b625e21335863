// The agent's live state: the desktop socket's hello (the whole state, on every (re)connection, so a
// sleep or a network loss leaves nothing stale), kept current by its pushes; GET /api/v1/me after
// the agent's own actions. The workbin list is the desktop's to read (main.tsx).
import { useEffect, useMemo, useState } from "preact/hooks";
import type { Auth } from "../shared/api.ts";
import { LiveSocket, type SocketState } from "../shared/socket.ts";
import type { AgentStatus, WorkView } from "../shared/types.ts";

/** What the desktop socket pushes (durable-objects/agent.ts; notify() adds the last four). */
export type DeskEvent =
  | { type: "hello" | "status"; status: AgentStatus }
  | { type: "state"; snapshot: AgentStatus["snapshot"]; presence: AgentStatus["presence"] }
  | { type: "offer"; offer: WorkView }
  | { type: "offer_revoked"; interactionId: string; reason: string }
  | { type: "work"; work: WorkView }
  | { type: "work_removed"; interactionId: string; why: string }
  | { type: "workbin"; interactionId: string }
  | { type: "chat_invite"; interactionId: string; mode: string; from: string }
  | { type: "chat_ended"; interactionId: string; reason: string }
  | { type: "draft_returned"; interactionId: string; comment: string; by: string }
  | { type: "message_added"; interactionId: string; emailId: string };

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
        switch (e.type) {
          case "hello":
          case "status":
            setStatus(e.status);
            break;
          case "state":
            setStatus((s) => (s ? { ...s, snapshot: e.snapshot, presence: e.presence } : s));
            break;
          case "offer":
            setStatus((s) => (s ? { ...s, offers: [...s.offers.filter((x) => x.interactionId !== e.offer.interactionId), e.offer] } : s));
            break;
          case "offer_revoked":
            setStatus((s) => (s ? { ...s, offers: s.offers.filter((x) => x.interactionId !== e.interactionId) } : s));
            break;
          case "work":
            setStatus((s) => (s ? { ...s, offers: s.offers.filter((x) => x.interactionId !== e.work.interactionId), work: [...s.work.filter((x) => x.interactionId !== e.work.interactionId), e.work] } : s));
            break;
          case "work_removed":
            setStatus((s) => (s ? { ...s, work: s.work.filter((x) => x.interactionId !== e.interactionId) } : s));
            break;
        }
        setLast(e);
        onEvent(e);
      },
    });
    return () => sock.close();
  }, [auth]);
  return { status, conn, refresh, last };
}
