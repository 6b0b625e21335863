// A web callback in hand: whom to call, when they asked, and the outcome of the call (reached,
// no answer, busy, wrong number), with a new time for the ones that go back to wait.
import { useEffect, useState } from "preact/hooks";
import { errorText } from "../shared/api.ts";
import { time } from "../shared/format.ts";
import type { Interaction } from "../shared/types.ts";
import { ErrorLine } from "../shared/ui.tsx";
import type { DeskProps } from "./props.ts";

interface Callback {
  phone: string;
  name: string | null;
  topic: string | null;
  window: { start: string; end: string };
  attempts: number;
  outcome: string | null;
}

const OUTCOMES = [
  ["reached", "Reached: done"],
  ["no_answer", "No answer: try again"],
  ["busy", "Busy: try again"],
  ["wrong_number", "Wrong number"],
] as const;

export function CallbackWork(props: DeskProps & { interaction: Interaction; onClosed: () => void }) {
  const { auth, interaction } = props;
  const [cb, setCb] = useState<Callback | null>(null);
  const [outcome, setOutcome] = useState<string>("reached");
  const [note, setNote] = useState("");
  const [when, setWhen] = useState("");
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void auth.get<Callback>(`/api/v1/interactions/${interaction.id}/callback`).then(setCb, (e: unknown) => setError(errorText(e)));
  }, [interaction.id]);
  const retry = outcome === "no_answer" || outcome === "busy";
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await auth.post(`/api/v1/interactions/${interaction.id}/callback-outcome`, {
        outcome,
        ...(note.trim() ? { note: note.trim() } : {}),
        ...(retry && when ? { rescheduleAt: new Date(when).toISOString() } : {}),
      });
      props.toast(retry ? "Callback scheduled again" : "Outcome recorded");
      props.onClosed();
      props.refresh();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <form class="stack" onSubmit={submit} aria-label="Callback">
      {cb && (
        <dl class="grid2">
          <dt>Call</dt>
          <dd>
            <a href={`tel:${cb.phone}`} data-phone="">
              {cb.phone}
            </a>
            {cb.name ? ` (${cb.name})` : ""}
          </dd>
          <dt>Topic</dt>
          <dd>{cb.topic ?? "–"}</dd>
          <dt>Window</dt>
          <dd>
            {time(cb.window.start)} – {time(cb.window.end)}
          </dd>
          <dt>Attempts</dt>
          <dd>
            {cb.attempts}
            {cb.outcome ? ` (last: ${cb.outcome.replace("_", " ")})` : ""}
          </dd>
        </dl>
      )}
      <fieldset>
        <legend>Outcome</legend>
        {OUTCOMES.map(([v, label]) => (
          <label class="inline" key={v}>
            <input type="radio" name="outcome" value={v} checked={outcome === v} onChange={() => setOutcome(v)} />
            {label}
          </label>
        ))}
      </fieldset>
      {retry && (
        <label>
          Call again at (leave empty for the default retry time)
          <input type="datetime-local" value={when} onInput={(e) => setWhen(e.currentTarget.value)} />
        </label>
      )}
      <label>
        Note
        <textarea value={note} onInput={(e) => setNote(e.currentTarget.value)} maxLength={10_000} />
      </label>
      <ErrorLine text={error} onClose={() => setError(null)} />
      <div class="row end">
        <button type="submit" class="primary">
          Record outcome
        </button>
      </div>
    </form>
  );
}
