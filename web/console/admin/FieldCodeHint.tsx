// The field codes a standard response may use (the server's list), each insertable at the caret.
import { FIELD_CODES } from "../../../workers/workflow/field-codes.ts";

export function FieldCodeHint(props: { onInsert: (code: string) => void }) {
  return (
    <details class="hint-box">
      <summary>Field codes</summary>
      <p class="small">
        Write <code>{'<$ Contact.FirstName | "there" $>'}</code>: the code between <code>{"<$"}</code> and <code>{"$>"}</code>, and after
        <code>|</code> an optional quoted fallback for when the value is missing. Click a code to insert it into the text.
      </p>
      <div class="row codes">
        {FIELD_CODES.map((c) => (
          <button type="button" key={c} class="chip" onClick={() => props.onInsert(`<$ ${c} $>`)}>
            {c}
          </button>
        ))}
      </div>
    </details>
  );
}
