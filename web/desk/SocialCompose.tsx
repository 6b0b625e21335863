// A social conversation's composer extras: the time left in the customer-service window, and the
// approved-template picker that replaces free text once the WhatsApp window has closed.
import { useEffect, useState } from "preact/hooks";
import { errorText } from "../shared/api.ts";
import type { Window } from "../../workers/social/window.ts";
import type { DeskProps } from "./props.ts";

interface Template {
  name: string;
  language: string;
  text: string;
  params: string[];
}

const left = (ms: number) => {
  const m = Math.max(0, Math.floor(ms / 60_000));
  return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : m >= 1 ? `${m} min` : `${Math.max(0, Math.ceil(ms / 1000))} s`;
};

export function WindowBadge(props: { window: Window; channel: string; now: number }) {
  const w = props.window;
  if (props.channel === "telegram") return null;
  const text =
    w.mode === "free"
      ? `Window: ${left((w.closesAt ?? 0) - props.now)} left`
      : w.mode === "human_agent"
        ? `24-hour window closed: replies go tagged HUMAN_AGENT for ${left((w.closesAt ?? 0) - props.now)}`
        : w.mode === "templates"
          ? "24-hour window closed: approved templates only"
          : "Window closed: the customer must write first";
  const cls = w.mode === "free" && (w.closesAt ?? 0) - props.now < 3600_000 ? "closing" : w.mode === "free" ? "" : "closed";
  return (
    <div class={`window small ${cls}`} data-window={w.mode} role="status">
      {text}
    </div>
  );
}

/** Placeholders shown with the field code that fills each, so the agent sees what the customer will read. */
const preview = (t: Template) => t.text.replace(/\{\{(\d+)\}\}/g, (_, n: string) => `[${(t.params[Number(n) - 1] ?? "").replace(/<\$\s*|\s*\$>/g, "").split("|")[0]!.trim()}]`);

export function TemplatePicker(props: DeskProps & { interactionId: string; onSent: () => void }) {
  const [templates, setTemplates] = useState<Template[] | null>(null);
  const [pick, setPick] = useState(0);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    void props.auth.get<{ templates: Template[] }>("/api/v1/social/templates").then((r) => setTemplates(r.templates), (e: unknown) => props.toast(errorText(e), "error"));
  }, []);
  const t = templates?.[pick];
  const send = async (e: Event) => {
    e.preventDefault();
    if (!t || busy) return;
    setBusy(true);
    try {
      await props.auth.post(`/api/v1/chats/${props.interactionId}/template`, { name: t.name, language: t.language, clientId: `tpl-${crypto.randomUUID()}` });
      props.onSent();
    } catch (err) {
      props.toast(errorText(err), "error");
    } finally {
      setBusy(false);
    }
  };
  if (templates && templates.length === 0) return <p class="pad small muted">The window has closed and this tenant has no approved templates (Admin → Channels).</p>;
  return (
    <form class="templates" aria-label="Templates" onSubmit={send}>
      <label class="small">
        Approved template
        <select value={String(pick)} onChange={(e) => setPick(Number(e.currentTarget.value))}>
          {(templates ?? []).map((x, i) => (
            <option key={`${x.name}/${x.language}`} value={String(i)}>
              {x.name} ({x.language})
            </option>
          ))}
        </select>
      </label>
      {t && <div class="preview">{preview(t)}</div>}
      <div class="row end">
        <button type="submit" class="primary" disabled={!t || busy}>
          Send template
        </button>
      </div>
    </form>
  );
}
