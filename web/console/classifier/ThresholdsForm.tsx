// Thresholds per action: the precision automatic replies need (read off the active model's curve)
// or a fixed confidence; routing by category; what counts as "none of these"; what is suggested.
import { useState } from "preact/hooks";
import { errorText, type Auth } from "../../shared/api.ts";
import { ErrorLine } from "../../shared/ui.tsx";
import { pct, type Overview, type Settings } from "./types.ts";

const num = (s: string) => (s.trim() === "" ? null : Number(s) / 100);
const show = (x: number | null) => (x === null ? "" : String(Math.round(x * 1000) / 10));

export function ThresholdsForm(props: { auth: Auth; overview: Overview; toast: (t: string, k?: "info" | "error") => void; onChange: () => void }) {
  const s = props.overview.settings;
  const [form, setForm] = useState({ autoPrecision: show(s.autoPrecision), outOfScopeBelow: show(s.outOfScopeBelow), autoRespondAt: show(s.autoRespondAt), routeAt: show(s.routeAt), suggestAt: show(s.suggestAt) });
  const [error, setError] = useState<string | null>(null);
  const t = props.overview.thresholds;
  const field = (k: keyof typeof form, label: string, hint: string) => (
    <label>
      {label}
      <input name={k} type="number" min="0" max="100" step="0.1" value={form[k]} placeholder={hint} onInput={(e) => setForm({ ...form, [k]: e.currentTarget.value })} />
    </label>
  );
  const save = async () => {
    setError(null);
    try {
      const body: Omit<Settings, "activeVersion"> = {
        autoPrecision: num(form.autoPrecision) ?? 0.85, outOfScopeBelow: num(form.outOfScopeBelow) ?? 0.1,
        autoRespondAt: num(form.autoRespondAt), routeAt: num(form.routeAt), suggestAt: num(form.suggestAt) ?? 0,
      };
      await props.auth.call("PUT", "/api/v1/admin/classifier/settings", body);
      props.toast("Thresholds saved");
      props.onChange();
    } catch (e) {
      setError(errorText(e));
    }
  };
  return (
    <form class="card stack" aria-label="Thresholds" onSubmit={(e) => { e.preventDefault(); void save(); }}>
      <p class="small muted">
        In force now: automatic replies from {t ? (t.autoRespond === null ? "never" : pct(t.autoRespond)) : "–"}, routing by category from {t ? pct(t.route) : "–"},
        "none of these" below {t ? pct(t.outOfScopeBelow) : "–"}. Leave a fixed threshold empty to read it off the active model's tested curve.
      </p>
      <div class="grid2">
        {field("autoPrecision", "Automatic replies need tested precision of (%)", "85")}
        {field("autoRespondAt", "…or a fixed confidence for automatic replies (%)", "from the curve")}
        {field("routeAt", "Route and require skills by category from confidence (%)", "where precision meets recall")}
        {field("outOfScopeBelow", "None of these below confidence (%)", "10")}
        {field("suggestAt", "Suggest categories to agents from confidence (%)", "0")}
      </div>
      <ErrorLine text={error} onClose={() => setError(null)} />
      <div class="row end">
        <button type="submit" class="primary">Save thresholds</button>
      </div>
    </form>
  );
}
