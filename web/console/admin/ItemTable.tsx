// The table of a form-edited list (agents, standard responses): one row per item, the id opens its
// form below, a row with a refused field is marked, and each can be removed.
import type { ComponentChildren } from "preact";
import { fieldId, issuesAt, type Located } from "./issues.ts";
import type { SectionId } from "./model.ts";

export interface Column<T> {
  head: string;
  cell: (item: T) => ComponentChildren;
  small?: boolean;
}

interface Props<T> {
  section: SectionId;
  /** How an item is named in button labels: "agent", "response". */
  noun: string;
  items: T[];
  columns: Column<T>[];
  issues: readonly Located[];
  selected: number | null;
  select: (i: number) => void;
  remove: (i: number) => void;
}

export function ItemTable<T extends { id: string }>(props: Props<T>) {
  return (
    <table class="admin-table">
      <thead>
        <tr>
          <th>Id</th>
          {props.columns.map((c) => (
            <th key={c.head}>{c.head}</th>
          ))}
          <th class="num">Remove</th>
        </tr>
      </thead>
      <tbody>
        {props.items.map((item, i) => {
          const bad = issuesAt(props.issues, props.section, i).length > 0;
          return (
            <tr key={i} id={fieldId(props.section, i, "")} tabIndex={-1} class={bad ? "invalid" : undefined} aria-current={props.selected === i || undefined} aria-invalid={bad || undefined}>
              <td>
                <button type="button" class="link" onClick={() => props.select(i)} aria-label={`Edit ${props.noun} ${item.id}`}>
                  {item.id || "(no id)"}
                </button>
                {bad && <span class="badge bad-badge">needs a fix</span>}
              </td>
              {props.columns.map((c) => (
                <td key={c.head} class={c.small ? "small" : undefined}>
                  {c.cell(item)}
                </td>
              ))}
              <td class="num">
                <button type="button" class="danger" onClick={() => props.remove(i)} aria-label={`Remove ${props.noun} ${item.id}`}>
                  Remove
                </button>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
