// The audit view: the tenant's event log, newest first: who did what, when and from where, filtered by
// actor, type and subject. Read-only for everyone; the log has no way in from here.
import { useEffect, useState } from "preact/hooks";
import { errorText } from "../../shared/api.ts";
import { ErrorLine } from "../../shared/ui.tsx";
import type { ConsoleProps } from "../props.ts";

export interface AuditEvent {
  id: string;
  type: string;
  time: string;
  subject?: string;
  sequence: number;
  actor: string;
  origin?: string;
  data?: unknown;
  dataref?: string;
  erased?: true;
}

export function Audit(props: ConsoleProps) {
  const [filters, setFilters] = useState({ actor: "", type: "", subject: "" });
  const [applied, setApplied] = useState(filters);
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const query = (before?: number) => {
    const q = new URLSearchParams({ limit: "50" });
    for (const [k, v] of Object.entries(applied)) if (v.trim()) q.set(k, v.trim());
    if (before) q.set("before", String(before));
    return `/api/v1/audit?${q}`;
  };
  const load = async (more = false) => {
    try {
      const r = await props.auth.get<{ events: AuditEvent[]; next: number | null }>(query(more ? (next ?? undefined) : undefined));
      setEvents((l) => (more ? [...l, ...r.events] : r.events));
      setNext(r.events.length === 50 ? r.next : null);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  };
  useEffect(() => void load(), [applied]);
  const field = (k: keyof typeof filters, label: string, placeholder: string) => (
    <label>
      {label}
      <input value={filters[k]} placeholder={placeholder} onInput={(e) => setFilters({ ...filters, [k]: e.currentTarget.value })} />
    </label>
  );
  return (
    <section class="stack" aria-labelledby="audit-title">
      <h2 id="audit-title">Audit log</h2>
      <form class="row wrap" aria-label="Filter the audit log" onSubmit={(e) => (e.preventDefault(), setApplied(filters))}>
        {field("actor", "Who", "agent:ana")}
        {field("type", "What", "parley.config.*")}
        {field("subject", "About", "an interaction or contact id")}
        <button type="submit">Filter</button>
      </form>
      <ErrorLine text={error} />
      <table class="data" aria-label="Audit events">
        <thead>
          <tr><th>#</th><th>When</th><th>Who</th><th>What</th><th>About</th><th>From</th><th>Details</th></tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.id} data-sequence={e.sequence} data-type={e.type}>
              <td>{e.sequence}</td>
              <td class="nowrap">{new Date(e.time).toLocaleString()}</td>
              <td>{e.actor}</td>
              <td>{e.type.replace(/^parley\./, "")}</td>
              <td class="small">{e.subject ?? ""}</td>
              <td class="small">{e.origin ?? ""}</td>
              <td class="small mono">{e.erased ? "(erased)" : e.dataref ? <a href={e.dataref} target="_blank" rel="noopener noreferrer">data</a> : e.data === undefined ? "" : JSON.stringify(e.data).slice(0, 200)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {events.length === 0 && !error && <p class="muted">No events match.</p>}
      {next !== null && (
        <button type="button" onClick={() => void load(true)}>
          Older events
        </button>
      )}
    </section>
  );
}
