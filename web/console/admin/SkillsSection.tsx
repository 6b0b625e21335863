// Skills: the tenant's declared list, how much each is used, and a warning for any agent level or
// queue expression that names a skill no longer declared (the server would refuse the save).
import { useMemo, useState } from "preact/hooks";
import { Field } from "./Field.tsx";
import { fieldErrors, fieldId, issuesAt } from "./issues.ts";
import type { SectionProps } from "./section.ts";
import { skillRefs } from "./skillRefs.ts";

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export function SkillsSection(props: SectionProps) {
  const { draft, update, issues, jump, toast } = props;
  const [name, setName] = useState("");
  const [error, setError] = useState<string | undefined>();
  const refs = useMemo(() => skillRefs(draft), [draft]);
  const declared = new Set(draft.skills);
  const orphans = refs.filter((r) => !declared.has(r.skill));
  const uses = (skill: string) => {
    const mine = refs.filter((r) => r.skill === skill);
    return { agents: mine.filter((r) => r.section === "agents").length, targets: mine.filter((r) => r.section === "queues").length };
  };

  const add = (e: Event) => {
    e.preventDefault();
    const s = name.trim();
    if (!NAME.test(s)) return setError("use 1-64 lowercase letters, digits, '-' or '_'");
    if (declared.has(s)) return setError(`'${s}' is already a skill`);
    update((d) => ({ ...d, skills: [...d.skills, s] }));
    setName("");
    setError(undefined);
  };
  const remove = (i: number, skill: string) => {
    update((d) => ({ ...d, skills: d.skills.filter((_, j) => j !== i) }));
    const u = uses(skill);
    if (u.agents || u.targets) toast(`'${skill}' is still used by ${u.agents} agent(s) and ${u.targets} queue target(s): the save will be refused until they change`, "error");
  };

  return (
    <div class="stack">
      {orphans.length > 0 && (
        <div class="warn-box" role="alert">
          <p>These use a skill that is not declared; the server will refuse the config until each is changed or the skill is added back:</p>
          <ul>
            {orphans.map((r, i) => (
              <li key={i}>
                <button type="button" class="link" onClick={() => jump(r)}>
                  {r.where}
                </button>{" "}
                uses <code>{r.skill}</code>
              </li>
            ))}
          </ul>
        </div>
      )}
      <table class="admin-table narrow">
        <thead>
          <tr>
            <th>Skill</th>
            <th class="num">Agents</th>
            <th class="num">Queue targets</th>
            <th class="num">Remove</th>
          </tr>
        </thead>
        <tbody>
          {draft.skills.map((s, i) => {
            const u = uses(s);
            const bad = fieldErrors(issuesAt(issues, "skills", i), "");
            return (
              <tr key={s} id={fieldId("skills", i, "")} tabIndex={-1} class={bad ? "invalid" : undefined} aria-invalid={bad ? true : undefined}>
                <td>
                  <code>{s}</code>
                  {bad && <span class="field-error">{bad}</span>}
                </td>
                <td class="num">{u.agents}</td>
                <td class="num">{u.targets}</td>
                <td class="num">
                  <button type="button" class="danger" onClick={() => remove(i, s)} aria-label={`Remove skill ${s}`}>
                    Remove
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <form class="row add-row" onSubmit={add}>
        <Field id="adm-new-skill" label="New skill" error={error ?? fieldErrors(issuesAt(issues, "skills", null), "")}>
          {(attrs) => <input {...attrs} value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="e.g. german" autocomplete="off" />}
        </Field>
        <button type="submit">Add skill</button>
      </form>
    </div>
  );
}
