// One live chat for a supervisor: join it to monitor (silent), coach (heard by staff only) or barge
// in (heard by everyone), switch between them, leave, or end the chat.
import { useEffect, useState } from "preact/hooks";
import { errorText, type Auth } from "../../shared/api.ts";
import type { Contact } from "../../shared/types.ts";
import { ConnectionBadge, ErrorLine, Modal } from "../../shared/ui.tsx";
import type { ChatParticipant, SupervisorMode } from "../api-types.ts";
import { useChatSocket } from "../../shared/chat-socket.ts";
import { Transcript } from "./Transcript.tsx";
import { Composer } from "./Composer.tsx";
import type { LiveChat } from "./useLiveChats.ts";

interface ChatInfo {
  status: string;
  participants: ChatParticipant[];
  contact: Contact | null;
  interaction: { id: string; subject: string | null; queue: string | null; agentId: string | null };
}

const MODES: { mode: SupervisorMode; label: string; hint: string }[] = [
  { mode: "monitor", label: "Monitor", hint: "Read everything; nobody but staff knows you are here" },
  { mode: "coach", label: "Coach", hint: "Write to the agents only" },
  { mode: "barge", label: "Barge in", hint: "Join the conversation: the customer sees you and your messages" },
];

const contactName = (c: Contact | null) => (c ? [c.firstName, c.lastName].filter(Boolean).join(" ") || (c.identifiers[0]?.display ?? c.identifiers[0]?.value ?? c.id) : null);

export function ChatView(props: { auth: Auth; me: { id: string; name: string }; chat: LiveChat; toast: (t: string, kind?: "info" | "error") => void }) {
  const { auth, chat } = props;
  const base = `/api/v1/chats/${encodeURIComponent(chat.id)}`;
  const [info, setInfo] = useState<ChatInfo | null>(null);
  const [mode, setMode] = useState<SupervisorMode | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirmEnd, setConfirmEnd] = useState(false);

  const reload = () =>
    auth.get<ChatInfo>(base).then(
      (r) => {
        setInfo(r);
        // Already in it (a reload of the page, another tab): carry on in the same mode.
        const mine = r.participants.find((p) => p.id === `agent:${props.me.id}` && p.leftAt === null);
        setMode(mine && (mine.mode === "monitor" || mine.mode === "coach" || mine.mode === "barge") ? mine.mode : null);
      },
      (e: unknown) => setError(errorText(e)),
    );
  useEffect(() => {
    setInfo(null);
    setMode(null);
    setError(null);
    void reload();
  }, [chat.id]);

  const sock = useChatSocket(auth, chat.id, mode !== null && info?.status !== "ended", { ...props.me, role: "supervisor" });
  const status = sock.status ?? info?.status ?? "…";
  const ended = status === "ended";

  const act = async (what: string, fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(`${what}: ${errorText(e)}`);
    } finally {
      setBusy(false);
    }
  };
  const choose = (m: SupervisorMode) =>
    act(mode ? "Switch mode" : "Join", async () => {
      const p = await auth.post<ChatParticipant>(`${base}/${mode ? "mode" : "join"}`, { mode: m });
      setMode(p.mode as SupervisorMode);
      void reload();
    });
  const leave = () =>
    act("Leave", async () => {
      await auth.post(`${base}/leave`);
      setMode(null);
      void reload();
    });
  const end = () =>
    act("End", async () => {
      setConfirmEnd(false);
      await auth.post(`${base}/end`);
      props.toast("Chat ended");
      void reload();
    });

  const present = (info?.participants ?? []).filter((p) => p.leftAt === null);
  return (
    <div class="chat supervising" data-chat-view={chat.id} data-mode={mode ?? "none"}>
      <header>
        <div class="row">
          <strong class="grow">{info?.interaction.subject ?? chat.subject ?? "Chat"}</strong>
          <span class={`badge chat-${status}`} data-field="status">{status}</span>
          {mode && <ConnectionBadge state={sock.conn} />}
        </div>
        <div class="small muted">
          {contactName(info?.contact ?? null) ?? "Customer"} · {chat.queue}
          {present.length > 0 && ` · in the chat: ${present.map((p) => `${p.name} (${p.mode})`).join(", ")}`}
        </div>
        <div class="row modes" role="group" aria-label="Take part as">
          {MODES.map((m) => (
            <button type="button" key={m.mode} title={m.hint} aria-pressed={mode === m.mode} disabled={busy || ended} onClick={() => void choose(m.mode)}>
              {m.label}
            </button>
          ))}
          <span class="grow" />
          <button type="button" disabled={busy || !mode || ended} onClick={() => void leave()}>Leave</button>
          <button type="button" class="danger" disabled={busy || ended} onClick={() => setConfirmEnd(true)}>End chat</button>
        </div>
        <ErrorLine text={error ?? sock.error} />
      </header>
      {mode ? (
        <Transcript messages={sock.messages} pending={sock.pending} me={props.me.id} typing={sock.typing} />
      ) : (
        <p class="muted pad">{ended ? "This chat has ended." : "Join to see the conversation: monitor is silent."}</p>
      )}
      {(mode === "coach" || mode === "barge") && !ended && <Composer visibility={mode === "coach" ? "staff" : "all"} disabled={busy} onSend={(t) => sock.send(t, mode === "coach" ? "staff" : "all")} />}
      {confirmEnd && (
        <Modal title="End this chat?" onClose={() => setConfirmEnd(false)}>
          <p>The chat ends for everyone, the customer too, and its transcript goes to the contact history.</p>
          <div class="row end">
            <button type="button" onClick={() => setConfirmEnd(false)}>Cancel</button>
            <button type="button" class="danger" onClick={() => void end()}>End chat</button>
          </div>
        </Modal>
      )}
    </div>
  );
}
