// The bar above every section: the stored version, whether the working copy differs from it, save
// and discard; below it, why the last save was refused, each issue a link to its field.
import type { Located, Target } from "./issues.ts";
import type { ParseError } from "./model.ts";

interface Props {
  version: number | null;
  dirty: boolean;
  saving: boolean;
  parseErrors: ParseError[];
  failure: { message: string; issues: Located[] } | null;
  describe: (t: Target) => string;
  onSave: () => void;
  onDiscard: () => void;
  onJump: (t: Target) => void;
}

export function SaveBar(props: Props) {
  const blocked = props.parseErrors.length > 0;
  // A fragment: the bar sticks to the top of the whole section as it scrolls, not of a wrapper.
  return (
    <>
      <div class="card row admin-bar" role="region" aria-label="Config changes">
        <strong>Configuration</strong>
        <span class="muted" data-version={props.version ?? ""}>
          version {props.version ?? "–"}
        </span>
        <span role="status">{props.dirty ? <span class="badge dirty-badge">Unsaved changes</span> : <span class="muted small">No unsaved changes</span>}</span>
        <span class="grow" />
        <button type="button" onClick={props.onDiscard} disabled={!props.dirty || props.saving}>
          Discard changes
        </button>
        <button type="button" class="primary" onClick={props.onSave} disabled={!props.dirty || props.saving || blocked} title={blocked ? "fix the JSON first" : undefined}>
          {props.saving ? "Saving…" : "Save"}
        </button>
      </div>
      {blocked && (
        <div class="error" role="alert">
          <p>Fix the JSON before saving:</p>
          <ul class="issues">
            {props.parseErrors.map((p, i) => (
              <li key={i}>
                <button type="button" class="link" onClick={() => props.onJump({ section: p.section, index: p.index, field: "" })}>
                  {props.describe({ section: p.section, index: p.index, field: "" })}
                </button>
                : {p.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      {props.failure && (
        <div class="error save-failure" role="alert">
          <p>
            <strong>Not saved.</strong> {props.failure.message}
          </p>
          {props.failure.issues.length > 0 && (
            <ul class="issues">
              {props.failure.issues.map((l, i) => {
                const section = l.section;
                return (
                  <li key={i}>
                    {section ? (
                      <button type="button" class="link" onClick={() => props.onJump({ section, index: l.index, field: l.field })}>
                        {props.describe({ section, index: l.index, field: l.field })}
                      </button>
                    ) : (
                      <code>{l.path}</code>
                    )}
                    : {l.message}
                  </li>
                );
              })}
            </ul>
          )}
        </div>
      )}
    </>
  );
}
