// Every chat in hand side by side, plus chats a colleague invited this agent to. Each pane: the
// transcript (staff-only words marked), typing notices, files, a composer (with the SMS segment
// counter when the chat is carried by SMS), and consult, conference, transfer and end.
import { useEffect, useRef, useState } from "preact/hooks";
import { segmentInfo } from "../../workers/sms/segments.ts";
import { errorText } from "../shared/api.ts";
import { bytes, stamp } from "../shared/format.ts";
import type { WorkView } from "../shared/types.ts";
import { ConnectionBadge, ErrorLine, Modal, useTick } from "../shared/ui.tsx";
import { ChannelIcon, DeliveryState, inOrder, MessageBody, SOCIAL_CHANNELS } from "../shared/social.tsx";
import { windowOf, type Window } from "../../workers/social/window.ts";
import type { Channel } from "../../workers/social/types.ts";
import { TemplatePicker, WindowBadge } from "./SocialCompose.tsx";
import type { DeskFrame } from "./agent.ts";
import { useChatSocket } from "../shared/chat-socket.ts";
import type { DeskProps } from "./props.ts";
import { colleagues, TransferDialog } from "./TransferTarget.tsx";

interface Guest {
  interactionId: string;
  mode: string;
  from: string;
}

export function ChatBoard(props: DeskProps & { chats: WorkView[]; selected: string | null; events: DeskFrame | null; onClosed: (id: string) => void }) {
  const [invites, setInvites] = useState<Guest[]>([]);
  const [guests, setGuests] = useState<Guest[]>([]);
  useEffect(() => {
    const e = props.events;
    if (e?.type === "chat_invite") setInvites((l) => [...l.filter((x) => x.interactionId !== e.interactionId), { interactionId: e.interactionId, mode: e.mode, from: e.from }]);
    if (e?.type === "chat_ended") setInvites((l) => l.filter((x) => x.interactionId !== e.interactionId));
  }, [props.events]);
  const join = async (g: Guest) => {
    try {
      await props.auth.post(`/api/v1/chats/${g.interactionId}/join`, { mode: g.mode });
      setGuests((l) => [...l.filter((x) => x.interactionId !== g.interactionId), g]);
    } catch (e) {
      props.toast(errorText(e), "error");
    }
    setInvites((l) => l.filter((x) => x.interactionId !== g.interactionId));
  };
  if (props.chats.length === 0 && guests.length === 0 && invites.length === 0) return null;
  return (
    <section aria-label="Chats" class="stack">
      {invites.map((g) => (
        <div class="card row" key={g.interactionId} role="alert">
          <span class="grow">
            {g.from} invites you to a chat ({g.mode === "consult" ? "consultation: the customer does not see you" : "conference: the customer sees you"})
          </span>
          <button type="button" onClick={() => setInvites((l) => l.filter((x) => x !== g))}>
            Decline
          </button>
          <button type="button" class="primary" onClick={() => void join(g)}>
            Join
          </button>
        </div>
      ))}
      <div class="chats">
        {props.chats.map((w) => (
          <ChatPane key={w.interactionId} {...props} interactionId={w.interactionId} subject={w.item.subject} role="primary" highlighted={w.interactionId === props.selected} />
        ))}
        {guests.map((g) => (
          <ChatPane key={g.interactionId} {...props} interactionId={g.interactionId} subject={null} role={g.mode} highlighted={false} onLeft={() => setGuests((l) => l.filter((x) => x !== g))} />
        ))}
      </div>
    </section>
  );
}

interface ChatInfo {
  status: string;
  interaction: { channel: string; subject: string | null };
  contact: { firstName: string | null; lastName: string | null } | null;
  participants: { id: string; name: string; mode: string }[];
}

function ChatPane(props: DeskProps & { interactionId: string; subject: string | null; role: string; highlighted: boolean; onLeft?: () => void; onClosed: (id: string) => void }) {
  const { auth, interactionId } = props;
  const me = `agent:${props.session.agent.id}`;
  const chat = useChatSocket(auth, interactionId, true, { id: props.session.agent.id, name: props.session.agent.fullName, role: "agent" });
  const status = chat.status ?? "connecting";
  const [info, setInfo] = useState<ChatInfo | null>(null);
  const [text, setText] = useState("");
  const [staffOnly, setStaffOnly] = useState(props.role === "consult");
  const [dialog, setDialog] = useState<null | "invite" | "transfer">(null);
  const [target, setTarget] = useState("");
  const [mode, setMode] = useState<"consult" | "conference">("consult");
  const log = useRef<HTMLDivElement>(null);
  useEffect(() => {
    void auth.get<ChatInfo>(`/api/v1/chats/${interactionId}`).then(setInfo, () => {});
  }, [interactionId, status]);
  useEffect(() => {
    log.current?.scrollTo(0, log.current.scrollHeight);
  }, [chat.messages.length, chat.pending.length]);
  const sms = info?.interaction.channel === "sms";
  const channel = info?.interaction.channel ?? null;
  const social = channel !== null && SOCIAL_CHANNELS.has(channel);
  const now = useTick(social ? 1000 : 60_000);
  // The window runs from the customer's newest message (by the provider's time): worked out here
  // from the transcript, so it closes on screen when it closes at the provider.
  const lastInbound = chat.messages.reduce<number | null>((max, m) => (m.role === "customer" && m.kind !== "notice" && (max === null || m.at > max) ? m.at : max), null);
  const win: Window | null = social ? windowOf(channel as Channel, lastInbound, now) : null;
  const seg = sms && text ? segmentInfo(text) : null;
  /** Runs an action; true when it went through (only then does the pane close or leave). */
  const [busy, setBusy] = useState(false);
  const act = async (path: string, body: unknown, ok: string): Promise<boolean> => {
    if (busy) return false;
    setBusy(true);
    try {
      await auth.post(path, body);
      props.toast(ok);
      setDialog(null);
      props.refresh();
      return true;
    } catch (e) {
      props.toast(errorText(e), "error");
      return false;
    } finally {
      setBusy(false);
    }
  };
  const submit = (e: Event) => {
    e.preventDefault();
    const t = text.trim();
    if (!t) return;
    chat.send(t, props.role === "consult" ? "staff" : staffOnly ? "staff" : "all");
    setText("");
  };
  const upload = async (files: FileList | null) => {
    for (const f of Array.from(files ?? [])) {
      try {
        await auth.call("POST", `/api/v1/chat/sessions/${interactionId}/attachments?name=${encodeURIComponent(f.name)}&clientId=desk-${crypto.randomUUID()}`, undefined, { raw: f, type: f.type || "application/octet-stream" });
      } catch (err) {
        props.toast(errorText(err), "error");
      }
    }
  };
  const customer = (info?.contact && [info.contact.firstName, info.contact.lastName].filter(Boolean).join(" ")) || null;
  const title = customer ?? props.subject ?? info?.interaction.subject ?? "Chat";
  const ended = status === "ended";
  return (
    <article class={`chat ${props.highlighted ? "highlighted" : ""}`} aria-label={`Chat: ${title}`} data-chat={interactionId}>
      <header>
        <div class="row">
          <strong class="grow">{title}</strong>
          {sms && <span class="badge">SMS</span>}
          <ChannelIcon channel={social ? channel : null} />
          {props.role !== "primary" && <span class="badge">{props.role}</span>}
          <ConnectionBadge state={chat.conn} />
        </div>
        {win && <WindowBadge window={win} channel={channel!} now={now} />}
        <div class="row small">
          <span class="muted grow" data-chat-status={status}>
            {ended ? "Ended" : status}
            {info && info.participants.length > 0 && ` · ${info.participants.map((p) => p.name).join(", ")}`}
          </span>
          {props.role === "primary" ? (
            <>
              <button type="button" class="link" onClick={() => setDialog("invite")} disabled={ended}>
                Consult / conference
              </button>
              <button type="button" class="link" onClick={() => setDialog("transfer")} disabled={ended}>
                Transfer
              </button>
              <button type="button" class="link" onClick={() => void act(`/api/v1/chats/${interactionId}/end`, {}, "Chat ended")} disabled={ended}>
                End chat
              </button>
            </>
          ) : (
            <button type="button" class="link" onClick={() => void act(`/api/v1/chats/${interactionId}/leave`, {}, "You left the chat").then((done) => done && props.onLeft?.())}>
              Leave
            </button>
          )}
        </div>
      </header>
      <div class="log" ref={log} role="log" aria-live="polite">
        {inOrder(chat.messages, social).map((m) => (
          <div key={m.seq} class={`msg ${m.kind === "notice" ? "notice" : ""} ${m.from === me ? "mine" : ""} ${m.visibility === "staff" ? "staff" : ""} ${m.extra?.flagged ? "flagged" : ""}`} data-seq={m.seq} data-late={m.extra?.late ? "true" : undefined}>
            {m.kind !== "notice" && (
              <span class="small muted">
                {social && m.role === "customer" && <ChannelIcon channel={channel} />} {m.from === me ? "You" : (m.name ?? m.from)}
                {m.visibility === "staff" ? " (staff only)" : ""} · {m.at ? stamp(m.at, now) : ""}
                {m.extra?.late && <span class="late-mark" title="The provider delivered it after messages written later: it is shown where it was written">late</span>}
                {m.extra?.template && <span class="badge">template</span>}
                <br />
              </span>
            )}
            {social ? (
              <MessageBody m={m} />
            ) : m.kind === "file" && m.file ? (
              <a href={m.file.url} target="_blank" rel="noopener noreferrer">
                {m.file.name} ({bytes(m.file.size)})
              </a>
            ) : (
              m.text
            )}
            <DeliveryState m={m} social={social} />
          </div>
        ))}
        {chat.pending.map((p) => (
          <div key={p.clientId} class={`msg mine pending ${p.visibility === "staff" ? "staff" : ""}`}>
            {p.text} <span class="small muted">(sending…)</span>
          </div>
        ))}
      </div>
      <div class="typing" aria-live="polite">
        {chat.typing.length > 0 && `${chat.typing.join(", ")} ${chat.typing.length > 1 ? "are" : "is"} typing…`}
      </div>
      <ErrorLine text={chat.error} />
      {!ended && win && win.mode === "templates" && props.role === "primary" && (
        <TemplatePicker {...props} interactionId={interactionId} onSent={() => props.toast("Template sent")} />
      )}
      {!ended && win && win.mode === "closed" && <p class="pad small muted">The customer last wrote more than 7 days ago: nothing can be sent until they write again.</p>}
      {!ended && (!win || win.mode === "free" || win.mode === "human_agent" || props.role !== "primary") && (
        <form onSubmit={submit}>
          <textarea
            aria-label="Message"
            value={text}
            onInput={(e) => {
              setText(e.currentTarget.value);
              chat.typingOn();
            }}
            onKeyDown={(e) => {
              // Not while an input method is composing: its Enter picks a candidate.
              if (e.key === "Enter" && !e.shiftKey && !e.isComposing) submit(e);
            }}
          />
          <div class="stack">
            <button type="submit" class="primary">
              Send
            </button>
            {props.role === "primary" && (
              <label class="inline small" title="Only staff see it">
                <input type="checkbox" checked={staffOnly} onChange={(e) => setStaffOnly(e.currentTarget.checked)} />
                staff
              </label>
            )}
            {!sms && (
              <label class="inline small filepick">
                File
                <input type="file" aria-label="Send a file" class="visually-hidden" onChange={(e) => void upload(e.currentTarget.files)} />
              </label>
            )}
          </div>
        </form>
      )}
      {seg && (
        <div class="segments" aria-live="polite" data-segments={seg.segments}>
          {seg.encoding} · {seg.units} {seg.encoding === "GSM-7" ? "characters" : "units"} · {seg.segments} SMS
        </div>
      )}
      {ended && props.role === "primary" && (
        <div class="row end">
          <button type="button" class="primary" onClick={() => void act(`/api/v1/interactions/${interactionId}/done`, {}, "Done").then((done) => done && props.onClosed(interactionId))}>
            Mark done
          </button>
        </div>
      )}
      {dialog === "invite" && (
        <Modal title="Invite a colleague" onClose={() => setDialog(null)}>
          <form onSubmit={(e) => { e.preventDefault(); void act(`/api/v1/chats/${interactionId}/invite`, { agent: target, mode }, "Invitation sent"); }}>
            <label>
              Colleague
              <select value={target} onChange={(e) => setTarget(e.currentTarget.value)} required>
                <option value="">Choose</option>
                {colleagues(props).map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.fullName}
                  </option>
                ))}
              </select>
            </label>
            <label class="inline">
              <input type="radio" name="mode" checked={mode === "consult"} onChange={() => setMode("consult")} />
              Consult (staff only)
            </label>
            <label class="inline">
              <input type="radio" name="mode" checked={mode === "conference"} onChange={() => setMode("conference")} />
              Conference (the customer too)
            </label>
            <div class="row end">
              <button type="submit" class="primary" disabled={!target}>Invite</button>
            </div>
          </form>
        </Modal>
      )}
      {dialog === "transfer" && (
        <TransferDialog
          {...props}
          title="Transfer the chat"
          media="chat"
          onClose={() => setDialog(null)}
          onTransfer={(to) => void act(`/api/v1/interactions/${interactionId}/transfer`, to, "Chat transferred").then((done) => done && props.onClosed(interactionId))}
        />
      )}
    </article>
  );
}
