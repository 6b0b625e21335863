// A form built from configured fields (the pre-chat form, the offline message form).
import { ApiError } from "./api.ts";
import { h } from "./dom.ts";
import type { Strings } from "./strings.ts";
import type { Field } from "./types.ts";

let seq = 0;

export function fieldForm(
  s: Strings,
  intro: string,
  fields: Field[],
  submitLabel: string,
  onSubmit: (values: Record<string, string>) => Promise<void>,
): HTMLFormElement {
  const id = `f${++seq}`;
  const err = h("div", { class: "er", role: "alert" });
  const button = h("button", { type: "submit", class: "bt", text: submitLabel });
  const inputs: (HTMLInputElement | HTMLTextAreaElement)[] = [];
  const form = h("form", { class: "fm" }, h("p", { text: intro }));
  for (const f of fields) {
    if (f.type === "file") continue; // the widget posts JSON
    const attrs = {
      id: `${id}-${f.name}`,
      name: f.name,
      required: !!f.required,
      maxlength: f.maxLength,
      autocomplete: f.type === "email" ? "email" : f.type === "phone" ? "tel" : f.name === "name" ? "name" : undefined,
    };
    const input =
      f.type === "textarea"
        ? h("textarea", { ...attrs, rows: 4 })
        : h("input", { ...attrs, type: f.type === "phone" ? "tel" : f.type === "email" ? "email" : "text" });
    inputs.push(input);
    form.append(h("label", { for: attrs.id }, h("span", null, f.label, f.required ? null : h("span", { class: "rq", text: ` ${s.optional}` })), input));
  }
  form.append(err, button);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (button.disabled) return;
    const values: Record<string, string> = {};
    for (const i of inputs) if (i.value.trim()) values[i.name] = i.value.trim();
    button.disabled = true;
    form.setAttribute("aria-busy", "true");
    err.textContent = "";
    onSubmit(values)
      .catch((x: unknown) => {
        err.textContent = (x instanceof ApiError && x.status >= 400 && x.status < 500 && x.message) || s.error;
      })
      .finally(() => {
        button.disabled = false;
        form.removeAttribute("aria-busy");
      });
  });
  return form;
}
