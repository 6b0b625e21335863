// One labelled control with the server's complaint next to it: aria-invalid on the control and the
// message tied to it by aria-describedby, so both eyes and screen readers find the bad field.
import type { ComponentChildren } from "preact";

export interface ControlAttrs {
  id: string;
  "aria-invalid": true | undefined;
  "aria-describedby": string | undefined;
}

export function Field(props: { id: string; label: string; error?: string | undefined; hint?: string | undefined; children: (a: ControlAttrs) => ComponentChildren }) {
  const errId = `${props.id}-err`;
  const hintId = `${props.id}-hint`;
  const described = [props.error ? errId : "", props.hint ? hintId : ""].filter(Boolean).join(" ");
  return (
    <div class={props.error ? "field invalid" : "field"}>
      <label for={props.id}>{props.label}</label>
      {props.children({ id: props.id, "aria-invalid": props.error ? true : undefined, "aria-describedby": described || undefined })}
      {props.hint && <span class="field-hint" id={hintId}>{props.hint}</span>}
      {props.error && <span class="field-error" id={errId}>{props.error}</span>}
    </div>
  );
}

/** The value of a number input: empty (or not a number) is "not set". */
export function numberOrUndefined(v: string): number | undefined {
  if (v.trim() === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** A record of numbers (skill levels, capacities) with one entry set from a number input, or dropped when empty. */
export function withNumber<R extends Partial<Record<string, number>>>(rec: R, key: keyof R & string, v: string): R {
  const next: Partial<Record<string, number>> = { ...rec };
  const n = numberOrUndefined(v);
  if (n === undefined) delete next[key];
  else next[key] = n;
  return next as R;
}
