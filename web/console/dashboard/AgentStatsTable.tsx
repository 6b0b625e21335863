// Per-agent live state: presence, what they are ready for, why not, and load against capacity.
import { mediaLabel } from "../../shared/format.ts";
import { MEDIA, type AgentStat, type Presence } from "../../shared/types.ts";

const STATE: Record<Presence, string> = { logged_out: "Logged out", after_work: "After work", busy: "Busy", ready: "Ready", not_ready: "Not ready" };

export function AgentStatsTable(props: { agents: AgentStat[] }) {
  return (
    <table class="stats">
      <caption class="sr-only">Agents</caption>
      <thead>
        <tr>
          <th scope="col">Agent</th>
          <th scope="col">State</th>
          <th scope="col">Ready for</th>
          <th scope="col">Not ready</th>
          <th scope="col">Load</th>
        </tr>
      </thead>
      <tbody>
        {props.agents.map((a) => (
          <tr key={a.id} data-agent={a.id}>
            <th scope="row">{a.fullName}</th>
            <td>
              <span class={`badge ${a.state}`} data-field="state">{STATE[a.state] ?? a.state}</span>
            </td>
            <td class="small">{MEDIA.filter((m) => a.ready[m]).map((m) => mediaLabel[m]).join(", ") || "–"}</td>
            <td class="small">{reasons(a) || "–"}</td>
            <td>
              <Load agent={a} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Not-ready reasons, one per reason, with the media each covers when not all. */
function reasons(a: AgentStat): string {
  if (a.state === "logged_out") return "";
  const by = new Map<string, string[]>();
  for (const m of MEDIA) {
    const r = a.reasons[m];
    if (r && !a.ready[m]) by.set(r, [...(by.get(r) ?? []), mediaLabel[m] ?? m]);
  }
  return [...by].map(([r, ms]) => `${r} (${ms.join(", ")})`).join("; ");
}

function Load(props: { agent: AgentStat }) {
  const a = props.agent;
  const cap = a.maxTotal ?? Object.values(a.capacity).reduce<number>((n, c) => n + (c ?? 0), 0);
  const per = MEDIA.filter((m) => (a.load[m] ?? 0) > 0).map((m) => `${mediaLabel[m]} ${a.load[m]}/${a.capacity[m] ?? 0}`);
  return (
    <span class="load" data-field="load">
      <meter min={0} max={Math.max(1, cap)} value={a.totalLoad} aria-label={`${a.totalLoad} of ${cap}`} />
      <span class="small">
        {a.totalLoad}/{cap}
        {per.length > 0 && <span class="muted"> · {per.join(", ")}</span>}
      </span>
    </span>
  );
}
