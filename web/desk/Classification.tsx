// The Content Analyzer on the desktop: the suggested categories with their confidence (why, on
// hover), their standard responses first in the reply editor (one click to use), and the categories
// the agent confirms or corrects, saved when the work is marked done, which become training data.
import { useEffect, useState } from "preact/hooks";
import type { Auth } from "../shared/api.ts";
import type { ClassificationView } from "../shared/types.ts";

export function useClassification(auth: Auth, interactionId: string): ClassificationView | null {
  const [c, setC] = useState<ClassificationView | null>(null);
  useEffect(() => {
    setC(null);
    void auth.get<ClassificationView>(`/api/v1/interactions/${interactionId}/classification`).then(setC, () => setC(null));
  }, [interactionId]);
  return c;
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
const why = (c: ClassificationView) => (c.explanation.length ? `Because of: ${c.explanation.map((e) => e.feature).join(", ")}` : "");

export function CategoryChips(props: { c: ClassificationView }) {
  const { c } = props;
  const name = (id: string) => c.tree.find((t) => t.id === id)?.name ?? id;
  if (c.model === null) return null;
  if (c.outOfScope || c.categories.length === 0) return <p class="small muted" aria-label="Suggested categories">The classifier found none of the categories fits.</p>;
  return (
    <p class="row small" aria-label="Suggested categories">
      <span class="muted">Suggested:</span>
      {c.categories.slice(0, 3).map((x, i) => (
        <span key={x.id} class="badge suggestion" data-category={x.id} title={i === 0 ? why(c) : `${name(x.id)}: ${pct(x.confidence)}`}>
          {name(x.id)} {pct(x.confidence)}
        </span>
      ))}
    </p>
  );
}

/** The suggested responses as one-click buttons above the reply text. */
export function SuggestedResponses(props: { c: ClassificationView | null; onUse: (responseId: string) => void }) {
  const list = props.c?.outOfScope ? [] : (props.c?.suggestions ?? []).slice(0, 3);
  if (!list.length) return null;
  return (
    <div class="row small" aria-label="Suggested responses">
      <span class="muted">Suggested responses:</span>
      {list.map((s) => (
        <button type="button" key={s.id} data-suggested={s.id} title={`For ${s.category} (${pct(s.confidence)})${props.c ? `. ${why(props.c)}` : ""}`} onClick={() => props.onUse(s.id)}>
          Use “{s.name}”
        </button>
      ))}
    </div>
  );
}

/** The categories the desktop proposes at Done: the agent's earlier answer, else the work's own, else the classifier's. */
export function initialCategories(c: ClassificationView): string[] {
  if (c.confirmed) return c.confirmed;
  const known = c.current.filter((id) => c.tree.some((t) => t.id === id));
  if (known.length) return known;
  if (c.outOfScope) return [];
  const routed = c.thresholds ? c.categories.filter((x) => x.confidence >= c.thresholds!.route).map((x) => x.id) : [];
  return routed.length ? routed : c.categories.slice(0, 1).map((x) => x.id);
}

/** The categories, confirmed or corrected by the agent; "Done" saves them, and they teach the classifier. */
export function CategoryPicker(props: { c: ClassificationView; picked: string[]; onChange: (picked: string[]) => void }) {
  const { c, picked } = props;
  const confidence = new Map(c.categories.map((x) => [x.id, x.confidence]));
  return (
    <fieldset class="row small categories" aria-label="Categories">
      <legend class="muted">Categories (saved at Done)</legend>
      {c.tree.map((t) => (
        <label class="inline" key={t.id}>
          <input type="checkbox" name="category" value={t.id} checked={picked.includes(t.id)} onChange={(e) => props.onChange(e.currentTarget.checked ? [...picked, t.id] : picked.filter((x) => x !== t.id))} />
          {t.name}
          {confidence.has(t.id) && <span class="muted"> {pct(confidence.get(t.id)!)}</span>}
        </label>
      ))}
    </fieldset>
  );
}
