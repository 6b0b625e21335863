// One agent's form: identity, role, a level 0–10 per declared skill, capacity per medium and an
// optional new password (the server keeps the old one when none is given).
import { Field, numberOrUndefined, withNumber } from "./Field.tsx";
import { fieldErrors, fieldId, type Located } from "./issues.ts";
import { MEDIA, ROLES, type AgentConfig } from "./model.ts";
import { EditorFrame } from "./IssueList.tsx";

interface Props {
  index: number;
  agent: AgentConfig;
  /** The tenant's declared skills. */
  skills: string[];
  issues: Located[];
  onChange: (a: AgentConfig) => void;
  onClose: () => void;
}

export function AgentEditor(props: Props) {
  const { agent: a, index, issues } = props;
  const id = (field: string) => fieldId("agents", index, field);
  const err = (field: string) => fieldErrors(issues, field);
  const set = <K extends keyof AgentConfig>(k: K, v: AgentConfig[K]) => props.onChange({ ...a, [k]: v });
  const setLevel = (skill: string, v: string) => set("skills", withNumber(a.skills, skill, v));
  const undeclared = Object.keys(a.skills).filter((s) => !props.skills.includes(s));
  const skillInput = (s: string) => (
    <Field key={s} id={id(`skills.${s}`)} label={s} error={err(`skills.${s}`)}>
      {(attrs) => <input {...attrs} type="number" min={0} max={10} step={1} inputMode="numeric" placeholder="–" value={a.skills[s] ?? ""} onInput={(e) => setLevel(s, e.currentTarget.value)} />}
    </Field>
  );
  return (
    <EditorFrame label="Agent" id={a.id} issues={issues} onClose={props.onClose}>
      <div class="form-grid">
        <Field id={id("id")} label="Id" error={err("id")} hint="lowercase letters, digits, - or _">
          {(attrs) => <input {...attrs} value={a.id} onInput={(e) => set("id", e.currentTarget.value)} autocomplete="off" />}
        </Field>
        <Field id={id("login")} label="Login" error={err("login")}>
          {(attrs) => <input {...attrs} value={a.login} onInput={(e) => set("login", e.currentTarget.value)} autocomplete="off" />}
        </Field>
        <Field id={id("fullName")} label="Full name" error={err("fullName")}>
          {(attrs) => <input {...attrs} value={a.fullName} onInput={(e) => set("fullName", e.currentTarget.value)} autocomplete="off" />}
        </Field>
        <Field id={id("role")} label="Role" error={err("role")}>
          {(attrs) => (
            <select {...attrs} value={a.role} onChange={(e) => set("role", e.currentTarget.value as AgentConfig["role"])}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field id={id("maxTotal")} label="Max total (all media)" error={err("maxTotal")} hint="empty: no overall cap">
          {(attrs) => <input {...attrs} type="number" min={1} max={500} value={a.maxTotal ?? ""} onInput={(e) => set("maxTotal", numberOrUndefined(e.currentTarget.value))} />}
        </Field>
        <Field id={id("password")} label="New password" error={err("password")} hint="empty: unchanged (a new login needs one); 8+ characters">
          {(attrs) => <input {...attrs} type="password" autocomplete="new-password" value={a.password ?? ""} onInput={(e) => set("password", e.currentTarget.value || undefined)} />}
        </Field>
      </div>
      <fieldset class="subgroup">
        <legend>Skills (level 0–10, empty: none)</legend>
        <div class="skill-grid">{props.skills.map(skillInput)}</div>
        {undeclared.length > 0 && (
          <div class="warn-box" role="status">
            <p>Not declared in Skills (the server refuses these): </p>
            <div class="skill-grid">
              {undeclared.map((s) => (
                <div key={s} class="stack-tight">
                  {skillInput(s)}
                  <button type="button" class="link" onClick={() => setLevel(s, "")} aria-label={`Drop skill ${s} from ${a.id}`}>
                    drop
                  </button>
                </div>
              ))}
            </div>
          </div>
        )}
      </fieldset>
      <fieldset class="subgroup">
        <legend>Capacity per medium (empty: none)</legend>
        <div class="skill-grid">
          {MEDIA.map((m) => (
            <Field key={m} id={id(`capacity.${m}`)} label={m} error={err(`capacity.${m}`)}>
              {(attrs) => (
                <input
                  {...attrs}
                  type="number"
                  min={0}
                  max={100}
                  placeholder="–"
                  value={a.capacity[m] ?? ""}
                  onInput={(e) => set("capacity", withNumber(a.capacity, m, e.currentTarget.value))}
                />
              )}
            </Field>
          ))}
        </div>
      </fieldset>
    </EditorFrame>
  );
}
