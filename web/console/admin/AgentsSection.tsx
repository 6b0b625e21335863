// Agents: a table of everyone in the tenant and, below it, a form for the one being edited.
import { fieldId, issuesAt } from "./issues.ts";
import { freeName } from "./templates.ts";
import type { AgentConfig } from "./model.ts";
import { AgentEditor } from "./AgentEditor.tsx";
import { afterRemove, type SectionProps, type Selection } from "./section.ts";

const skillSummary = (a: AgentConfig): string =>
  Object.entries(a.skills)
    .map(([s, l]) => `${s} ${l}`)
    .join(", ") || "–";

export function AgentsSection(props: SectionProps & Selection) {
  const { draft, update, issues, selected, select } = props;
  const agents = draft.agents;
  const add = () => {
    const id = freeName("new-agent", agents.map((a) => a.id));
    update((d) => ({ ...d, agents: [...d.agents, { id, login: id, fullName: "New agent", role: "agent", skills: {}, capacity: { email: 3, chat: 2 } }] }));
    select(agents.length);
  };
  const remove = (i: number) => {
    update((d) => ({ ...d, agents: d.agents.filter((_, j) => j !== i) }));
    select(afterRemove(selected, i));
  };
  const current = selected === null ? undefined : agents[selected];
  return (
    <div class="stack">
      <table class="admin-table">
        <thead>
          <tr>
            <th>Id</th>
            <th>Login</th>
            <th>Full name</th>
            <th>Role</th>
            <th>Skills</th>
            <th class="num">Remove</th>
          </tr>
        </thead>
        <tbody>
          {agents.map((a, i) => {
            const bad = issuesAt(issues, "agents", i).length > 0;
            return (
              <tr key={i} id={fieldId("agents", i, "")} tabIndex={-1} class={bad ? "invalid" : undefined} aria-current={selected === i || undefined} aria-invalid={bad || undefined}>
                <td>
                  <button type="button" class="link" onClick={() => select(i)} aria-label={`Edit agent ${a.id}`}>
                    {a.id || "(no id)"}
                  </button>
                  {bad && <span class="badge bad-badge">needs a fix</span>}
                </td>
                <td>{a.login}</td>
                <td>{a.fullName}</td>
                <td>{a.role}</td>
                <td class="small">{skillSummary(a)}</td>
                <td class="num">
                  <button type="button" class="danger" onClick={() => remove(i)} aria-label={`Remove agent ${a.id}`}>
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
          Add agent
        </button>
        <span class="muted small">{agents.length} agents</span>
      </div>
      {current && selected !== null && (
        <AgentEditor
          key={selected}
          index={selected}
          agent={current}
          skills={draft.skills}
          issues={issuesAt(issues, "agents", selected)}
          onChange={(a) => update((d) => ({ ...d, agents: d.agents.map((x, j) => (j === selected ? a : x)) }))}
          onClose={() => select(null)}
        />
      )}
    </div>
  );
}
