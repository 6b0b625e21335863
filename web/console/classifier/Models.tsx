// Model versions: train one, follow its progress, read its test report, activate it or roll back.
import { useEffect, useState } from "preact/hooks";
import { errorText, type Auth } from "../../shared/api.ts";
import { ErrorLine } from "../../shared/ui.tsx";
import { ReportView } from "./ReportView.tsx";
import { pct, type Overview, type Report, type Version } from "./types.ts";

export function Models(props: { auth: Auth; overview: Overview; toast: (t: string, k?: "info" | "error") => void; onChange: () => void }) {
  const { auth, overview } = props;
  const active = overview.settings.activeVersion;
  const [shown, setShown] = useState<number | null>(null);
  const [report, setReport] = useState<{ version: number; report: Report } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const latestReady = overview.versions.find((v) => v.state === "ready")?.version ?? null;
  const pick = shown ?? active ?? latestReady;
  useEffect(() => {
    if (pick === null) return setReport(null);
    void auth.get<{ report: Report | null }>(`/api/v1/admin/classifier/versions/${pick}`).then(
      (r) => setReport(r.report ? { version: pick, report: r.report } : null),
      (e: unknown) => setError(errorText(e)),
    );
  }, [pick, overview.versions.find((v) => v.version === pick)?.state]);

  const act = async (f: () => Promise<unknown>, done: string) => {
    setError(null);
    try {
      await f();
      props.toast(done);
      props.onChange();
    } catch (e) {
      setError(errorText(e));
    }
  };
  const training = overview.versions.some((v) => v.state === "training");
  const row = (v: Version) => (
    <tr key={v.version} data-version={v.version} data-state={v.state} aria-current={v.version === pick ? "true" : undefined}>
      <td>
        <button type="button" class="link" onClick={() => setShown(v.version)}>v{v.version}</button>
        {v.version === active && <span class="badge ready">active</span>}
      </td>
      <td>{v.state === "training" ? `training ${pct(v.progress)}` : v.state}{v.error && <span class="bad small"> {v.error}</span>}</td>
      <td>{v.examples} ({v.heldOut} held out)</td>
      <td>{v.trainMs === null ? "" : `${(v.trainMs / 1000).toFixed(1)} s`}</td>
      <td>{v.bytes === null ? "" : `${(v.bytes / 1024).toFixed(0)} KiB`}</td>
      <td>
        {v.state === "ready" && v.version !== active && (
          <button type="button" onClick={() => void act(() => auth.post("/api/v1/admin/classifier/activate", { version: v.version }), `Version ${v.version} is active`)}>
            Activate
          </button>
        )}
      </td>
    </tr>
  );
  return (
    <div class="stack">
      <div class="row">
        <button type="button" class="primary" disabled={training} onClick={() => void act(() => auth.post("/api/v1/admin/classifier/train", {}), "Training started")}>
          {training ? "Training…" : "Train a new version"}
        </button>
        <button type="button" disabled={active === null} onClick={() => void act(() => auth.post("/api/v1/admin/classifier/rollback", {}), "Rolled back")}>
          Roll back
        </button>
      </div>
      <ErrorLine text={error} onClose={() => setError(null)} />
      <table aria-label="Model versions">
        <thead>
          <tr><th>Version</th><th>State</th><th>Examples</th><th>Training</th><th>Size</th><th /></tr>
        </thead>
        <tbody>{overview.versions.map(row)}</tbody>
      </table>
      {report && <ReportView version={report.version} report={report.report} inForce={report.version === active ? overview.thresholds : null} />}
    </div>
  );
}
