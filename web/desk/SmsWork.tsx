// An SMS in paging mode: the messages in and out, and a reply with a live segment counter
// (GSM-7 or UCS-2, as the pure core counts it on the server).
import { useEffect, useRef, useState } from "preact/hooks";
import { segmentInfo } from "../../workers/sms/segments.ts";
import { errorText } from "../shared/api.ts";
import { time } from "../shared/format.ts";
import type { Interaction } from "../shared/types.ts";
import { ErrorLine } from "../shared/ui.tsx";
import type { DeskProps } from "./props.ts";

const newClientId = () => `desk-${crypto.randomUUID().replaceAll("-", "")}`;

interface Sms {
  id: string;
  direction: "inbound" | "outbound";
  customer: string;
  text: string;
  segments: number | null;
  status: string;
  error: string | null;
  createdAt: number;
}

export function SmsWork(props: DeskProps & { interaction: Interaction }) {
  const { auth, interaction } = props;
  const [messages, setMessages] = useState<Sms[]>([]);
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const load = () => auth.get<{ messages: Sms[] }>(`/api/v1/interactions/${interaction.id}/sms`).then((r) => setMessages(r.messages), (e: unknown) => setError(errorText(e)));
  useEffect(() => {
    void load();
    const t = setInterval(() => void load(), 10_000);
    return () => clearInterval(t);
  }, [interaction.id]);
  const seg = segmentInfo(text);
  const media = interaction.parts.filter((p) => p.kind === "attachment");
  // One id per message composed: a double click or a retry of the same text is sent once.
  const clientId = useRef(newClientId());
  const [busy, setBusy] = useState(false);
  const send = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    try {
      await auth.post(`/api/v1/interactions/${interaction.id}/sms`, { text, clientId: clientId.current });
      clientId.current = newClientId();
      setText("");
      props.toast("SMS queued");
      void load();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="stack">
      <p class="small muted">From {String(interaction.attributes.customer ?? "")} to {String(interaction.attributes.center ?? "")}</p>
      <div class="chat sms">
        <div class="log" role="log">
          {messages.map((m) => (
            <div key={m.id} class={`msg ${m.direction === "outbound" ? "mine" : ""}`}>
              <span class="small muted">
                {time(m.createdAt)}
                {m.direction === "outbound" && ` · ${m.status}${m.segments ? ` · ${m.segments} SMS` : ""}`}
                {m.error && <span class="bad"> {m.error}</span>}
                <br />
              </span>
              {m.text}
            </div>
          ))}
        </div>
      </div>
      {media.length > 0 && (
        <div class="attachments" aria-label="MMS media">
          {media.map((p) => (
            <button type="button" key={p.id} onClick={() => void auth.download(`/api/v1/interactions/${interaction.id}/parts/${p.id}/content`, p.name ?? "media")}>
              {p.name ?? p.content_type}
            </button>
          ))}
        </div>
      )}
      <form class="stack" onSubmit={send} aria-label="SMS reply">
        <label>
          Reply by SMS
          <textarea name="sms" value={text} onInput={(e) => setText(e.currentTarget.value)} maxLength={1600} required />
        </label>
        <div class="row">
          <span class="segments grow" aria-live="polite" data-segments={seg.segments}>
            {seg.encoding} · {seg.units} {seg.encoding === "GSM-7" ? "characters" : "units"} · {seg.segments} SMS
          </span>
          <button type="submit" class="primary" disabled={!text.trim() || busy}>
            Send SMS
          </button>
        </div>
        <ErrorLine text={error} onClose={() => setError(null)} />
      </form>
    </div>
  );
}
