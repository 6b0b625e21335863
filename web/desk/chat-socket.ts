// One chat as the agent sees it: the transcript by server sequence, a socket that resumes after
// the last sequence seen, and an outbox of messages resent with the same clientId until acked
// (the server stores each clientId once, so a drop loses and doubles nothing).
import { useEffect, useRef, useState } from "preact/hooks";
import type { Auth } from "../shared/api.ts";
import { LiveSocket, type SocketState } from "../shared/socket.ts";
import type { ChatFrameMessage } from "../shared/types.ts";

export interface Pending {
  clientId: string;
  text: string;
  visibility: "all" | "staff";
}

export interface ChatLive {
  messages: ChatFrameMessage[];
  pending: Pending[];
  typing: string | null;
  status: string;
  conn: SocketState;
  error: string | null;
  send: (text: string, visibility: "all" | "staff") => void;
  typingOn: () => void;
}

export function useChat(auth: Auth, interactionId: string, me: string): ChatLive {
  const [messages, setMessages] = useState<ChatFrameMessage[]>([]);
  const [pending, setPending] = useState<Pending[]>([]);
  const [typing, setTyping] = useState<string | null>(null);
  const [status, setStatus] = useState("connecting");
  const [conn, setConn] = useState<SocketState>("connecting");
  const [error, setError] = useState<string | null>(null);
  const last = useRef(0);
  const outbox = useRef<Pending[]>([]);
  const sock = useRef<LiveSocket | null>(null);
  const typingSent = useRef(0);
  const typingOff = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    let typingClear: ReturnType<typeof setTimeout> | null = null;
    const s = new LiveSocket({
      url: () => `${auth.socketUrl(`/api/v1/chat/sessions/${interactionId}/ws`)}&after=${last.current}`,
      onState: setConn,
      onOpen: () => {
        for (const p of outbox.current) s.send({ type: "msg", clientId: p.clientId, text: p.text, visibility: p.visibility });
      },
      onMessage: (f) => {
        if (f.type === "hello") setStatus(String(f.status));
        else if (f.type === "msg") {
          const m = f.message as ChatFrameMessage;
          if (m.seq > last.current) last.current = m.seq;
          setMessages((l) => (l.some((x) => x.seq === m.seq) ? l : [...l, m].sort((a, b) => a.seq - b.seq)));
          if (m.clientId) {
            outbox.current = outbox.current.filter((p) => p.clientId !== m.clientId);
            setPending(outbox.current);
          }
        } else if (f.type === "ack") {
          // The sending socket gets an ack, not an echo: the message joins the log from here.
          const p = outbox.current.find((x) => x.clientId === f.clientId);
          outbox.current = outbox.current.filter((x) => x.clientId !== f.clientId);
          setPending(outbox.current);
          const seq = Number(f.seq);
          if (p) setMessages((l) => (l.some((x) => x.seq === seq) ? l : [...l, { seq, from: me, clientId: p.clientId, text: p.text, visibility: p.visibility, kind: "text", at: Date.now() }].sort((a, b) => a.seq - b.seq)));
        } else if (f.type === "typing") {
          if (f.from === me) return;
          setTyping(f.on ? `${String(f.name ?? "Customer")} is typing…` : null);
          if (typingClear) clearTimeout(typingClear);
          typingClear = setTimeout(() => setTyping(null), 6000);
        } else if (f.type === "status") setStatus(String(f.status));
        else if (f.type === "error") {
          setError(String(f.message ?? f.code));
          if (f.clientId) {
            outbox.current = outbox.current.filter((p) => p.clientId !== f.clientId);
            setPending(outbox.current);
          }
        }
      },
    });
    sock.current = s;
    return () => s.close();
  }, [interactionId]);
  const send = (text: string, visibility: "all" | "staff") => {
    const p: Pending = { clientId: `desk-${crypto.randomUUID()}`, text, visibility };
    outbox.current = [...outbox.current, p];
    setPending(outbox.current);
    setError(null);
    sock.current?.send({ type: "msg", ...p });
    if (typingOff.current) clearTimeout(typingOff.current);
    typingSent.current = 0;
  };
  const typingOn = () => {
    const now = Date.now();
    if (now - typingSent.current > 3000) {
      typingSent.current = now;
      sock.current?.send({ type: "typing", on: true });
    }
    if (typingOff.current) clearTimeout(typingOff.current);
    typingOff.current = setTimeout(() => {
      typingSent.current = 0;
      sock.current?.send({ type: "typing", on: false });
    }, 3000);
  };
  return { messages, pending, typing, status, conn, error, send, typingOn };
}
