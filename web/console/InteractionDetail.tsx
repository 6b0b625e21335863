// One interaction as the contact history has it: subject, contact, state, its text, notes and the
// event history. Everything the customer wrote is rendered as text.
import { useEffect, useState } from "preact/hooks";
import { errorText, type Auth } from "../shared/api.ts";
import { mediaLabel, time } from "../shared/format.ts";
import type { Interaction } from "../shared/types.ts";
import { ErrorLine } from "../shared/ui.tsx";

const contactName = (c: Interaction["contact"]) => (c ? [c.firstName, c.lastName].filter(Boolean).join(" ") || c.id : "–");

/** A history event's reason: a string, or an object's fields as "key: value" (lists joined). */
function reasonText(r: unknown): string {
  if (r === null || r === undefined) return "";
  if (typeof r !== "object") return String(r);
  if (Array.isArray(r)) return r.map(String).join(", ");
  return Object.entries(r as Record<string, unknown>)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.map(String).join(", ") : v !== null && typeof v === "object" ? JSON.stringify(v) : String(v)}`)
    .join("; ");
}

export function InteractionDetail(props: { auth: Auth; id: string; onClose?: () => void; reload?: number }) {
  const [it, setIt] = useState<Interaction | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setError(null);
    props.auth.get<Interaction>(`/api/v1/interactions/${encodeURIComponent(props.id)}`).then(
      (r) => live && setIt(r),
      (e: unknown) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
    };
  }, [props.id, props.reload]);
  const shown = it?.id === props.id ? it : null;
  const text = shown?.parts.find((p) => p.kind === "text")?.content;
  return (
    <aside class="card detail" aria-label="Interaction" data-detail={props.id}>
      <div class="row">
        <h3 class="grow">{shown ? (shown.subject ?? "(no subject)") : "Interaction"}</h3>
        {props.onClose && (
          <button type="button" class="link" aria-label="Close" onClick={props.onClose}>×</button>
        )}
      </div>
      <ErrorLine text={error} />
      {!shown && !error && <p class="muted">Loading…</p>}
      {shown && (
        <>
          <dl class="facts">
            <dt>Id</dt>
            <dd>{shown.id}</dd>
            <dt>Media</dt>
            <dd>{mediaLabel[shown.media] ?? shown.media} · {shown.channel} · {shown.direction}</dd>
            <dt>Contact</dt>
            <dd data-field="contact">{contactName(shown.contact)}</dd>
            <dt>State</dt>
            <dd data-field="state">{shown.state}{shown.queue ? ` in ${shown.queue}` : ""}{shown.agentId ? ` with ${shown.agentId}` : ""}</dd>
            <dt>Priority</dt>
            <dd>{shown.priority}</dd>
            <dt>Created</dt>
            <dd>{time(shown.createdAt)}</dd>
            {shown.categories.length > 0 && (
              <>
                <dt>Categories</dt>
                <dd>{shown.categories.join(", ")}</dd>
              </>
            )}
          </dl>
          {text && <pre class="plain boxed">{text}</pre>}
          <h4>Notes</h4>
          {shown.notes.length === 0 ? (
            <p class="muted small">None.</p>
          ) : (
            <ul class="notes">
              {shown.notes.map((n) => (
                <li key={n.id}>
                  <span class="muted small">{time(n.createdAt)} · {n.author}</span>
                  <p class="plain">{n.text}</p>
                </li>
              ))}
            </ul>
          )}
          <h4>History</h4>
          <table class="history small">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What</th>
                <th scope="col">Who</th>
              </tr>
            </thead>
            <tbody>
              {shown.history.map((h) => (
                <tr key={h.seq} data-event={h.action}>
                  <td>{new Date(h.at).toLocaleTimeString()}</td>
                  <td>
                    {h.action}
                    {h.from || h.to ? <span class="muted"> {h.from ?? "–"} → {h.to ?? "–"}</span> : null}
                    {h.queue ? <span class="muted"> · {h.queue}</span> : null}
                    {h.agentId ? <span class="muted"> · {h.agentId}</span> : null}
                    {reasonText(h.reason) && <div class="muted">{reasonText(h.reason)}</div>}
                  </td>
                  <td>{h.actor}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </aside>
  );
}
