// One standard response: text with field codes, checked as you type with the server's own template
// checker (a misspelt code is refused on save, never a blank in a customer's mail). The HTML
// version is edited as source only: config strings are never rendered as HTML here.
import { templateErrors } from "../../../workers/workflow/field-codes.ts";
import { Field } from "./Field.tsx";
import { FieldCodeHint } from "./FieldCodeHint.tsx";
import { fieldErrors, fieldId, type Located } from "./issues.ts";
import { EditorFrame } from "./IssueList.tsx";
import type { StandardResponse } from "./model.ts";

interface Props {
  index: number;
  response: StandardResponse;
  issues: Located[];
  onChange: (r: StandardResponse) => void;
  onClose: () => void;
}

type Optional = "category" | "subject" | "html";

export function ResponseEditor(props: Props) {
  const { response: r, index, issues } = props;
  const id = (field: string) => fieldId("standardResponses", index, field);
  /** The server's word first; else what the local check already sees. */
  const err = (field: keyof StandardResponse) => {
    const server = fieldErrors(issues, field);
    if (server) return server;
    if (field !== "subject" && field !== "text" && field !== "html") return undefined;
    const src = r[field];
    const local = typeof src === "string" ? templateErrors(src) : [];
    return local.length ? local.join("; ") : undefined;
  };
  const set = <K extends keyof StandardResponse>(k: K, v: StandardResponse[K]) => props.onChange({ ...r, [k]: v });
  const setOptional = (k: Optional, v: string) => set(k, v === "" ? undefined : v);

  const insert = (code: string) => {
    const box = document.getElementById(id("text"));
    const at = box instanceof HTMLTextAreaElement ? box.selectionStart : r.text.length;
    const end = box instanceof HTMLTextAreaElement ? box.selectionEnd : at;
    set("text", r.text.slice(0, at) + code + r.text.slice(end));
    requestAnimationFrame(() => {
      if (!(box instanceof HTMLTextAreaElement)) return;
      box.focus();
      box.setSelectionRange(at + code.length, at + code.length);
    });
  };

  return (
    <EditorFrame label="Standard response" id={r.id} issues={issues} onClose={props.onClose}>
      <div class="form-grid">
        <Field id={id("id")} label="Id" error={err("id")} hint="workflows and screening rules refer to it">
          {(a) => <input {...a} value={r.id} onInput={(e) => set("id", e.currentTarget.value)} autocomplete="off" />}
        </Field>
        <Field id={id("name")} label="Name" error={err("name")}>
          {(a) => <input {...a} value={r.name} onInput={(e) => set("name", e.currentTarget.value)} autocomplete="off" />}
        </Field>
        <Field id={id("category")} label="Category" error={err("category")}>
          {(a) => <input {...a} value={r.category ?? ""} onInput={(e) => setOptional("category", e.currentTarget.value)} autocomplete="off" />}
        </Field>
      </div>
      <Field id={id("subject")} label="Subject" error={err("subject")}>
        {(a) => <input {...a} value={r.subject ?? ""} onInput={(e) => setOptional("subject", e.currentTarget.value)} autocomplete="off" />}
      </Field>
      <Field id={id("text")} label="Text" error={err("text")}>
        {(a) => <textarea {...a} rows={10} value={r.text} onInput={(e) => set("text", e.currentTarget.value)} />}
      </Field>
      <FieldCodeHint onInsert={insert} />
      <Field id={id("html")} label="HTML version (source, optional)" error={err("html")}>
        {(a) => <textarea {...a} class="code short" rows={6} spellcheck={false} value={r.html ?? ""} onInput={(e) => setOptional("html", e.currentTarget.value)} />}
      </Field>
    </EditorFrame>
  );
}
