// Brings a jump's target into view and focuses it: the field's own control if the page has one,
// else its item; inside a JSON box, the value the issue names is selected.
import { candidateIds, type Target } from "./issues.ts";
import { fieldRange } from "./jsonRange.ts";

export function focusTarget(t: Target): void {
  for (const id of candidateIds(t)) {
    const el = document.getElementById(id);
    if (!el) continue;
    el.scrollIntoView({ block: "center" });
    el.focus({ preventScroll: true });
    if (el instanceof HTMLTextAreaElement && t.field) selectField(el, t.field);
    return;
  }
}

function selectField(box: HTMLTextAreaElement, field: string): void {
  const r = fieldRange(box.value, field);
  if (!r) return;
  box.setSelectionRange(r.start, r.end);
  // Scroll the box itself so the selected line sits in its middle.
  const line = box.value.slice(0, r.start).split("\n").length - 1;
  const lineHeight = parseFloat(getComputedStyle(box).lineHeight) || 17;
  box.scrollTop = Math.max(0, line * lineHeight - box.clientHeight / 2);
}
