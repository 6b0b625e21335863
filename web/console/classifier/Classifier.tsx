// The Content Analyzer's console (admins): training objects, model versions with their test
// reports, and the thresholds per action. Polls while a version trains.
import { useState } from "preact/hooks";
import { errorText } from "../../shared/api.ts";
import { usePolling } from "../../shared/poll.ts";
import { ErrorLine } from "../../shared/ui.tsx";
import type { ConsoleProps } from "../props.ts";
import { Models } from "./Models.tsx";
import { ThresholdsForm } from "./ThresholdsForm.tsx";
import { TrainingObjects } from "./TrainingObjects.tsx";
import type { Overview } from "./types.ts";

type View = "objects" | "models" | "thresholds";

export function Classifier(props: ConsoleProps) {
  const [view, setView] = useState<View>("objects");
  const [overview, setOverview] = useState<Overview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const training = overview?.versions.some((v) => v.state === "training") ?? false;
  usePolling(() => props.auth.get<Overview>("/api/v1/admin/classifier"), training ? 1000 : 10_000, [tick, training], { value: setOverview, error: (e) => setError(errorText(e)) });
  const changed = () => setTick((n) => n + 1);
  const tab = (v: View, label: string) => (
    <button type="button" role="tab" id={`cl-${v}`} aria-selected={view === v} aria-controls="cl-panel" onClick={() => setView(v)}>
      {label}
    </button>
  );
  const shared = { auth: props.auth, toast: props.toast, onChange: changed };
  return (
    <section class="stack" aria-labelledby="classifier-title">
      <h2 id="classifier-title">Classifier</h2>
      <div class="tabs" role="tablist">
        {tab("objects", "Training objects")}
        {tab("models", "Models")}
        {tab("thresholds", "Thresholds")}
      </div>
      <ErrorLine text={error} onClose={() => setError(null)} />
      {overview && (
        <div id="cl-panel" role="tabpanel" aria-labelledby={`cl-${view}`}>
          {view === "objects" && <TrainingObjects {...shared} categories={overview.categories} />}
          {view === "models" && <Models {...shared} overview={overview} />}
          {view === "thresholds" && <ThresholdsForm key={overview.settings.autoPrecision} {...shared} overview={overview} />}
        </div>
      )}
    </section>
  );
}
