// One model version's test report: the headline figures, the curve, each category, and the pairs
// it confuses.
import type { Report, Thresholds } from "./types.ts";
import { pct } from "./types.ts";
import { Curve } from "./Curve.tsx";

export function ReportView(props: { version: number; report: Report; inForce: Thresholds | null }) {
  const r = props.report;
  const t = props.inForce ?? { autoRespond: r.thresholds.autoRespond, route: r.thresholds.route, suggest: 0, outOfScopeBelow: 0 };
  return (
    <section class="card stack" aria-label={`Test report of version ${props.version}`}>
      <h3>Version {props.version}: tested on {r.examples} held-out examples</h3>
      <dl class="figures">
        <div><dt>Accuracy</dt><dd data-figure="accuracy">{pct(r.accuracy)}</dd></div>
        <div><dt>Macro F1</dt><dd data-figure="macro-f1">{pct(r.macro.f1)}</dd></div>
        <div><dt>Top-3</dt><dd data-figure="top3">{pct(r.top3)}</dd></div>
        <div><dt>Out-of-scope recall</dt><dd data-figure="oos">{r.outOfScope.recall === null ? "no examples" : pct(r.outOfScope.recall)}</dd></div>
        <div><dt>Calibration error</dt><dd>{pct(r.calibrationError)}</dd></div>
        {r.modelBytes !== undefined && <div><dt>Size</dt><dd>{(r.modelBytes / 1024).toFixed(0)} KiB ({((r.bytesPerCategory ?? 0) / 1024).toFixed(0)} KiB per category)</dd></div>}
      </dl>
      <Curve curve={r.curve} marks={[{ at: t.autoRespond, label: "auto-reply" }, { at: t.route, label: "route" }]} />
      <p class="small muted">
        Automatic replies from {t.autoRespond === null ? "never (precision never reaches the target)" : pct(t.autoRespond)} confidence; routing by category from {pct(t.route)}.
      </p>
      <table aria-label="Per category">
        <thead>
          <tr><th>Category</th><th>Precision</th><th>Recall</th><th>F1</th><th>Examples</th></tr>
        </thead>
        <tbody>
          {r.categories.map((c) => (
            <tr key={c.id} data-category={c.id}>
              <td>{c.id}</td><td>{pct(c.precision)}</td><td>{pct(c.recall)}</td><td>{pct(c.f1)}</td><td>{c.support}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h4>Confused pairs</h4>
      {r.confusions.length === 0 ? (
        <p class="small muted">No category is taken for another more than 20% of the time.</p>
      ) : (
        <ul aria-label="Confused pairs">
          {r.confusions.map((c) => (
            <li key={`${c.actual}-${c.predicted}`}>
              {c.actual} taken for {c.predicted}: {pct(c.rate)} ({c.count})
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
