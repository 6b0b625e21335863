// Standard responses: a table of the tenant's canned texts and a form for the one being edited.
import { issuesAt } from "./issues.ts";
import { ItemTable } from "./ItemTable.tsx";
import { ResponseEditor } from "./ResponseEditor.tsx";
import { afterRemove, type SectionProps, type Selection } from "./section.ts";
import { freeName } from "./templates.ts";

export function ResponsesSection(props: SectionProps & Selection) {
  const { draft, update, issues, selected, select } = props;
  const list = draft.standardResponses;
  const add = () => {
    const id = freeName("new-response", list.map((r) => r.id));
    update((d) => ({ ...d, standardResponses: [...d.standardResponses, { id, name: "New response", category: "general", text: 'Hello <$ Contact.FirstName | "there" $>,\n\n\n<$ Agent.FullName $>' }] }));
    select(list.length);
  };
  const remove = (i: number) => {
    update((d) => ({ ...d, standardResponses: d.standardResponses.filter((_, j) => j !== i) }));
    select(afterRemove(selected, i));
  };
  const current = selected === null ? undefined : list[selected];
  return (
    <div class="stack">
      <ItemTable
        section="standardResponses"
        noun="response"
        items={list}
        columns={[
          { head: "Name", cell: (r) => r.name },
          { head: "Category", cell: (r) => r.category ?? "" },
          { head: "Subject", cell: (r) => r.subject ?? "", small: true },
        ]}
        issues={issues}
        selected={selected}
        select={select}
        remove={remove}
      />
      <div class="row">
        <button type="button" onClick={add}>
          Add standard response
        </button>
      </div>
      {current && selected !== null && (
        <ResponseEditor
          key={selected}
          index={selected}
          response={current}
          issues={issuesAt(issues, "standardResponses", selected)}
          onChange={(r) => update((d) => ({ ...d, standardResponses: d.standardResponses.map((x, j) => (j === selected ? r : x)) }))}
          onClose={() => select(null)}
        />
      )}
    </div>
  );
}
