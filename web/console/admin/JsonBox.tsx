// One item edited as JSON: a parse error shows at once under the box; the server's issues for the
// item (with the field each names) show there too after a refused save.
import { useMemo } from "preact/hooks";
import { IssueList } from "./IssueList.tsx";
import type { Located } from "./issues.ts";
import { parseJson } from "./model.ts";

interface Props {
  id: string;
  /** The accessible name of the box, e.g. "Queue support (JSON)". */
  label: string;
  title: string;
  text: string;
  issues: Located[];
  /** Things the editor already sees will be refused (a queue naming an undeclared skill). */
  warnings?: string[];
  onChange: (text: string) => void;
  onRemove?: () => void;
  removeLabel?: string;
}

export function JsonBox(props: Props) {
  const parsed = useMemo(() => parseJson(props.text), [props.text]);
  const parseError = parsed.ok ? null : parsed.message;
  const invalid = !!parseError || props.issues.length > 0;
  const errId = `${props.id}-err`;
  const rows = Math.min(24, Math.max(4, props.text.split("\n").length + 1));
  return (
    <fieldset class={invalid ? "json-item invalid" : "json-item"}>
      <legend>{props.title}</legend>
      <textarea
        id={props.id}
        class="code"
        rows={rows}
        spellcheck={false}
        autocapitalize="off"
        aria-label={props.label}
        aria-invalid={invalid || undefined}
        aria-describedby={invalid ? errId : undefined}
        value={props.text}
        onInput={(e) => props.onChange(e.currentTarget.value)}
      />
      {invalid && (
        <div id={errId}>
          {parseError && <p class="field-error">Not valid JSON: {parseError}</p>}
          <IssueList issues={props.issues} />
        </div>
      )}
      {props.warnings?.map((w, i) => (
        <p key={i} class="warn small">
          {w}
        </p>
      ))}
      {props.onRemove && (
        <div class="row end">
          <button type="button" class="danger" onClick={props.onRemove}>
            {props.removeLabel ?? "Remove"}
          </button>
        </div>
      )}
    </fieldset>
  );
}
