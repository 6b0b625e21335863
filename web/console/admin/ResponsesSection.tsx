// Standard responses: a table of the tenant's canned texts and a form for the one being edited.
import { fieldId, issuesAt } from "./issues.ts";
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
      <table class="admin-table">
        <thead>
          <tr>
            <th>Id</th>
            <th>Name</th>
            <th>Category</th>
            <th>Subject</th>
            <th class="num">Remove</th>
          </tr>
        </thead>
        <tbody>
          {list.map((r, i) => {
            const bad = issuesAt(issues, "standardResponses", i).length > 0;
            return (
              <tr key={i} id={fieldId("standardResponses", i, "")} tabIndex={-1} class={bad ? "invalid" : undefined} aria-current={selected === i || undefined} aria-invalid={bad || undefined}>
                <td>
                  <button type="button" class="link" onClick={() => select(i)} aria-label={`Edit response ${r.id}`}>
                    {r.id || "(no id)"}
                  </button>
                  {bad && <span class="badge bad-badge">needs a fix</span>}
                </td>
                <td>{r.name}</td>
                <td>{r.category ?? ""}</td>
                <td class="small">{r.subject ?? ""}</td>
                <td class="num">
                  <button type="button" class="danger" onClick={() => remove(i)} aria-label={`Remove response ${r.id}`}>
                    Remove
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
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
