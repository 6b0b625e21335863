// A queue's contents in view order, each row with the supervisor's interventions. Clicking a row
// opens the interaction; the action buttons do not.
import { duration, mediaLabel } from "../../shared/format.ts";
import type { QueueEntry } from "../api-types.ts";
import type { Action } from "./ActionDialog.tsx";

export function EntryTable(props: { items: QueueEntry[]; selected: string | null; onOpen: (id: string) => void; onAction: (a: Action, e: QueueEntry) => void }) {
  const act = (a: Action, e: QueueEntry) => (ev: Event) => {
    ev.stopPropagation();
    props.onAction(a, e);
  };
  return (
    <table class="entries">
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Subject</th>
          <th scope="col">Media</th>
          <th scope="col">State</th>
          <th scope="col" class="num">Priority</th>
          <th scope="col" class="num">Waiting</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        {props.items.map((e, i) => (
          <tr
            key={e.id}
            data-interaction={e.id}
            class={`clickable${props.selected === e.id ? " selected" : ""}`}
            aria-selected={props.selected === e.id}
            tabIndex={0}
            onClick={() => props.onOpen(e.id)}
            onKeyDown={(ev) => {
              if (ev.key === "Enter" && ev.target === ev.currentTarget) props.onOpen(e.id);
            }}
          >
            <td class="muted">{i + 1}</td>
            <td>
              <span class="title">{e.item.subject ?? "(no subject)"}</span>
              {e.pinnedAgent && <span class="badge">for {e.pinnedAgent}</span>}
              {e.item.categories.length > 0 && <span class="muted small"> {e.item.categories.join(", ")}</span>}
            </td>
            <td>{mediaLabel[e.media] ?? e.media}</td>
            <td>
              <span class={`badge q-${e.state}`} data-field="state">{e.state}</span>
              {e.agentId && <span class="muted small"> to {e.agentId}</span>}
            </td>
            <td class="num">
              {e.effectivePriority}
              {e.effectivePriority !== e.priority && <span class="muted small" title="base priority before aging"> ({e.priority})</span>}
            </td>
            <td class="num">{duration(e.waitingMs)}</td>
            <td class="actions">
              <button type="button" onClick={act("move", e)}>Move</button>
              <button type="button" onClick={act("assign", e)}>Assign</button>
              <button type="button" onClick={act("pull", e)}>Pull</button>
              <button type="button" class="danger" onClick={act("stop", e)}>Stop</button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
