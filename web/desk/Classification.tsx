// The Content Analyzer on the desktop: the suggested categories with their confidence (why, on
// hover), their standard responses first in the reply editor (one click to use), and the categories
// the agent confirms or corrects when marking the work done, which become training data.
import { useEffect, useState } from "preact/hooks";
import type { Auth } from "../shared/api.ts";
import { errorText } from "../shared/api.ts";
import type { ClassificationView } from "../shared/types.ts";
import { ErrorLine, Modal } from "../shared/ui.tsx";

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

/** Asked at "Done" when the tenant has a category tree: the agent's categories, prefilled with the classifier's. */
export function ConfirmCategories(props: { auth: Auth; c: ClassificationView; onDone: () => void; onClose: () => void }) {
  const { c } = props;
  const routed = c.thresholds ? c.categories.filter((x) => x.confidence >= c.thresholds!.route).map((x) => x.id) : [];
  const initial = c.confirmed ?? (c.current.length ? c.current.filter((id) => c.tree.some((t) => t.id === id)) : routed.length ? routed : c.categories.slice(0, 1).map((x) => x.id));
  const [picked, setPicked] = useState<string[]>(c.outOfScope && !c.confirmed ? [] : initial);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const confidence = new Map(c.categories.map((x) => [x.id, x.confidence]));
  const submit = async () => {
    setBusy(true);
    try {
      await props.auth.call("PUT", `/api/v1/interactions/${c.interactionId}/categories`, { categories: picked });
      props.onDone();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title="Categories of this work" onClose={props.onClose}>
      <form class="stack" aria-label="Confirm categories" onSubmit={(e) => { e.preventDefault(); void submit(); }}>
        <p class="small muted">Confirm or correct: your answer teaches the classifier.</p>
        <div class="stack">
          {c.tree.map((t) => (
            <label class="inline" key={t.id}>
              <input type="checkbox" name="category" value={t.id} checked={picked.includes(t.id)} onChange={(e) => setPicked((p) => (e.currentTarget.checked ? [...p, t.id] : p.filter((x) => x !== t.id)))} />
              {t.parent ? `${c.tree.find((p) => p.id === t.parent)?.name ?? t.parent} › ` : ""}
              {t.name}
              {confidence.has(t.id) && <span class="small muted"> ({pct(confidence.get(t.id)!)} suggested)</span>}
            </label>
          ))}
        </div>
        <ErrorLine text={error} />
        <div class="row end">
          <button type="button" onClick={props.onDone} disabled={busy}>
            Skip
          </button>
          <button type="submit" class="primary" disabled={busy}>
            Confirm and mark done
          </button>
        </div>
      </form>
    </Modal>
  );
}
