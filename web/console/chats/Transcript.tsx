// The chat as the supervisor sees it: every message as text, staff-only ones (coaching,
// consultation, staff notices) marked so nobody mistakes them for what the customer read.
import { useEffect, useRef } from "preact/hooks";
import { bytes } from "../../shared/format.ts";
import type { ChatFrameMessage } from "../../shared/types.ts";
import type { Pending } from "../../shared/chat-socket.ts";

export function Transcript(props: { messages: ChatFrameMessage[]; pending: Pending[]; me: string; typing: string[] }) {
  const end = useRef<HTMLDivElement>(null);
  useEffect(() => end.current?.scrollIntoView({ block: "end" }), [props.messages.length, props.pending.length]);
  return (
    <>
      <div class="log" role="log" aria-live="polite" aria-label="Transcript">
        {props.messages.length === 0 && props.pending.length === 0 && <p class="muted small">No messages yet.</p>}
        {props.messages.map((m) => {
          const staff = m.visibility === "staff";
          const cls = ["msg", m.kind === "notice" ? "notice" : "", staff ? "staff" : "", m.from === `agent:${props.me}` ? "mine" : "", m.role === "customer" ? "customer" : ""].filter(Boolean).join(" ");
          return (
            <div key={m.seq} class={cls} data-seq={m.seq} data-visibility={m.visibility ?? "all"} data-role={m.role ?? ""}>
              {m.kind !== "notice" && (
                <div class="who small">
                  {m.name ?? m.from}
                  {staff && <span class="staff-tag">Staff only</span>}
                </div>
              )}
              {m.kind === "file" && m.file ? (
                <span>File: {m.file.name} ({bytes(m.file.size)})</span>
              ) : (
                <span class="text">{m.text}</span>
              )}
              {m.kind === "notice" && staff && <span class="staff-tag">Staff only</span>}
            </div>
          );
        })}
        {props.pending.map((p) => (
          <div key={p.clientId} class={`msg mine pending${p.visibility === "staff" ? " staff" : ""}`} data-pending="true">
            <div class="who small">
              Sending…{p.visibility === "staff" && <span class="staff-tag">Staff only</span>}
            </div>
            <span class="text">{p.text}</span>
          </div>
        ))}
        <div ref={end} />
      </div>
      <div class="typing">{props.typing.length > 0 ? `${props.typing.join(", ")} ${props.typing.length > 1 ? "are" : "is"} typing…` : ""}</div>
    </>
  );
}
