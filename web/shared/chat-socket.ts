// A chat's WebSocket for staff who have joined it (the agent's chat panes, the supervisor's live
// chats): the transcript (resumed after the highest seq seen, so a reconnect neither loses nor
// doubles), typing both ways, status, and sending with a clientId that is resent until
// acknowledged (the server stores each clientId once).
import { useEffect, useRef, useState } from "preact/hooks";
import type { Auth } from "./api.ts";
import { LiveSocket, type SocketState } from "./socket.ts";
import type { ChatFrame, ChatFrameMessage } from "./types.ts";

export interface Pending {
  clientId: string;
  text: string;
  visibility: "all" | "staff";
}

export interface ChatSocket {
  messages: ChatFrameMessage[];
  pending: Pending[];
  status: string | null;
  typing: string[];
  conn: SocketState;
  error: string | null;
  send: (text: string, visibility: "all" | "staff") => void;
  /** Call on every keystroke: a typing notice at most every 3 s, and "stopped" 3 s after the last. */
  typingOn: () => void;
}

export interface Me {
  id: string;
  name: string;
  role: "agent" | "supervisor";
}

export function useChatSocket(auth: Auth, interactionId: string, enabled: boolean, me: Me): ChatSocket {
  const [messages, setMessages] = useState<ChatFrameMessage[]>([]);
  const [pending, setPending] = useState<Pending[]>([]);
  const [status, setStatus] = useState<string | null>(null);
  const [typing, setTyping] = useState<Record<string, string>>({});
  const [conn, setConn] = useState<SocketState>("connecting");
  const [error, setError] = useState<string | null>(null);
  const sockRef = useRef<LiveSocket | null>(null);
  const pendingRef = useRef<Pending[]>([]);
  const lastSeq = useRef(0);
  const seen = useRef(new Set<number>());

  /** Each seq once, in seq order, whichever way it came (live, replayed, acked). */
  const add = (m: ChatFrameMessage) => {
    if (seen.current.has(m.seq)) return;
    seen.current.add(m.seq);
    lastSeq.current = Math.max(lastSeq.current, m.seq);
    setMessages((list) => (list.length && list[list.length - 1]!.seq > m.seq ? [...list, m].sort((a, b) => a.seq - b.seq) : [...list, m]));
  };

  /** A message that changed (its media stored, its delivery state): replaced where it is. */
  const replace = (m: ChatFrameMessage) => {
    if (!seen.current.has(m.seq)) return add(m);
    setMessages((list) => list.map((x) => (x.seq === m.seq ? m : x)));
  };

  const setPend = (p: Pending[]) => {
    pendingRef.current = p;
    setPending(p);
  };

  useEffect(() => {
    setMessages([]);
    setStatus(null);
    setTyping({});
    setError(null);
    setPend([]);
    lastSeq.current = 0;
    seen.current = new Set();
  }, [interactionId]);

  useEffect(() => {
    if (!enabled) return;
    // An ended chat still replays its transcript after the hello: close once that has come, so
    // the socket does not reconnect to a chat that has nothing more to say.
    let closing: ReturnType<typeof setTimeout> | null = null;
    const closeSoon = () => {
      closing ??= setTimeout(() => sock.close(), 1500);
    };
    const sock = new LiveSocket({
      url: () => auth.socketUrl(`/api/v1/chat/sessions/${encodeURIComponent(interactionId)}/ws?after=${lastSeq.current}`),
      onState: setConn,
      onOpen: () => {
        for (const p of pendingRef.current) sock.send({ type: "msg", clientId: p.clientId, text: p.text, visibility: p.visibility });
      },
      onMessage: (raw) => {
        const f = raw as unknown as ChatFrame;
        if (f.type === "hello") {
          setStatus(f.status);
          setTyping({}); // a notice from before a drop may never be followed by its "stopped"
          if (f.status === "ended") closeSoon();
        } else if (f.type === "msg") {
          const m = f.message;
          add(m);
          if (m.clientId) setPend(pendingRef.current.filter((p) => p.clientId !== m.clientId));
          if (m.from) setTyping(({ [m.from]: _gone, ...rest }) => rest);
        } else if (f.type === "update") {
          replace(f.message);
        } else if (f.type === "ack") {
          // The sender's socket gets an ack, not an echo: the pending message becomes the stored one.
          const p = pendingRef.current.find((x) => x.clientId === f.clientId);
          setPend(pendingRef.current.filter((x) => x.clientId !== f.clientId));
          if (p) add({ seq: f.seq, from: `agent:${me.id}`, name: me.name, role: me.role, kind: "text", text: p.text, clientId: p.clientId, visibility: p.visibility, at: Date.now() });
        } else if (f.type === "typing") {
          if (f.from === `agent:${me.id}`) return;
          setTyping(({ [f.from]: _old, ...rest }) => (f.on ? { ...rest, [f.from]: f.name ?? f.from } : rest));
        } else if (f.type === "status") {
          setStatus(f.status);
          if (f.status === "ended") {
            setTyping({});
            closeSoon();
          }
        } else if (f.type === "error") {
          setError(f.error.message);
          if (f.clientId) setPend(pendingRef.current.filter((p) => p.clientId !== f.clientId));
        }
      },
    });
    sockRef.current = sock;
    return () => {
      if (closing) clearTimeout(closing);
      sock.close();
      sockRef.current = null;
    };
  }, [auth, interactionId, enabled]);

  const typingSent = useRef(0);
  const typingOff = useRef<ReturnType<typeof setTimeout> | null>(null);
  const typingOn = () => {
    const now = Date.now();
    if (now - typingSent.current > 3000) {
      typingSent.current = now;
      sockRef.current?.send({ type: "typing", on: true });
    }
    if (typingOff.current) clearTimeout(typingOff.current);
    typingOff.current = setTimeout(() => {
      typingSent.current = 0;
      sockRef.current?.send({ type: "typing", on: false });
    }, 3000);
  };

  const send = (text: string, visibility: "all" | "staff") => {
    const p: Pending = { clientId: `${me.role === "agent" ? "desk" : "sup"}-${crypto.randomUUID()}`, text, visibility };
    if (typingOff.current) clearTimeout(typingOff.current);
    typingSent.current = 0;
    setError(null);
    setPend([...pendingRef.current, p]);
    // Not open: it goes out on the next open (onOpen resends what is pending).
    sockRef.current?.send({ type: "msg", clientId: p.clientId, text, visibility });
  };

  return { messages, pending, status, typing: Object.values(typing), conn, error, send, typingOn };
}
