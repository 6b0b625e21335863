// The server's issues for one item, each with the field it names (as the server spells it), and the
// frame of an item's form that shows them above its fields.
import type { ComponentChildren } from "preact";
import type { Located } from "./issues.ts";

export function IssueList(props: { issues: Located[]; id?: string }) {
  if (!props.issues.length) return null;
  return (
    <ul class="issues" id={props.id}>
      {props.issues.map((l, i) => (
        <li key={i}>
          {l.field ? <code>{l.field}</code> : null}
          {l.field ? ": " : ""}
          {l.message}
        </li>
      ))}
    </ul>
  );
}

export function EditorFrame(props: { label: string; id: string; issues: Located[]; onClose: () => void; children: ComponentChildren }) {
  return (
    <fieldset class="card editor" aria-label={`${props.label} ${props.id}`}>
      <div class="row">
        <h3 class="grow">
          {props.label} {props.id || "(no id)"}
        </h3>
        <button type="button" class="link" onClick={props.onClose}>
          Close
        </button>
      </div>
      <IssueList issues={props.issues} />
      {props.children}
    </fieldset>
  );
}
