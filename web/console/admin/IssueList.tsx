// The server's issues for one item, each with the field it names (as the server spells it).
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
