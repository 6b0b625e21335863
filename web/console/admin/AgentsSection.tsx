// Agents: a table of everyone in the tenant and, below it, a form for the one being edited.
import { issuesAt } from "./issues.ts";
import { ItemTable } from "./ItemTable.tsx";
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
      <ItemTable
        section="agents"
        noun="agent"
        items={agents}
        columns={[
          { head: "Login", cell: (a) => a.login },
          { head: "Full name", cell: (a) => a.fullName },
          { head: "Role", cell: (a) => a.role },
          { head: "Skills", cell: skillSummary, small: true },
        ]}
        issues={issues}
        selected={selected}
        select={select}
        remove={remove}
      />
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
