// `npm run bench -- report`: the committed results (bench/results/*.json) as one HTML page with charts,
// readable without running anything: each figure against its target, D1 round trips per operation,
// and the scale curves. Each figure also shows the value of the results file's previous commit, so a
// contributor sees at a glance what a change did. Writes bench/results/report.html.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchResult } from "./lib/types.ts";

export const name = "report";
export const description = "the committed results as one HTML page with charts (bench/results/report.html)";

type J = Record<string, unknown>;
interface Row {
  group: string;
  label: string;
  value: number | null;
  previous: number | null;
  target: number | null;
  /** "min": at least the target is good; "max": at most. */
  kind: "min" | "max";
  unit?: string;
}

const dir = new URL("./results/", import.meta.url).pathname;
const get = (o: unknown, path: string): number | null => {
  let v: unknown = o;
  for (const k of path.split(".")) v = v && typeof v === "object" ? (v as J)[k] : undefined;
  return typeof v === "number" && Number.isFinite(v) ? v : null;
};

function load(file: string): { now: J | null; before: J | null; date: string } {
  const path = join(dir, file);
  if (!existsSync(path)) return { now: null, before: null, date: "" };
  const now = JSON.parse(readFileSync(path, "utf8")) as J;
  let before: J | null = null;
  try {
    const commits = execFileSync("git", ["log", "-n", "2", "--format=%H", "--", `bench/results/${file}`], { cwd: join(dir, "../.."), encoding: "utf8" }).trim().split("\n");
    if (commits[1]) before = JSON.parse(execFileSync("git", ["show", `${commits[1]}:bench/results/${file}`], { cwd: join(dir, "../.."), encoding: "utf8" })) as J;
  } catch {
    // not a git checkout, or no earlier version: no comparison
  }
  const date = String(now.date ?? (now.detail as J | undefined)?.date ?? now.at ?? "");
  return { now, before, date };
}

/** The figures the issues set targets for, read from each bench's JSON. */
const FIGURES: { file: string; group: string; label: string; value: (r: J) => number | null; target: number; kind: "min" | "max"; unit?: string }[] = [
  { file: "routing.json", group: "Routing", label: "routed/s ÷ the empty-RPC floor", value: (r) => get(r, "routed_over_baseline_rate"), target: 0.5, kind: "min" },
  { file: "routing.json", group: "Routing", label: "routed/s ÷ same shape (C = 20)", value: (r) => get(r, "ratio_same_shape.per_s"), target: 0.6, kind: "min" },
  { file: "routing.json", group: "Routing", label: "submit→offer p99 ÷ same shape", value: (r) => get(r, "ratio_same_shape.p99"), target: 2, kind: "max" },
  { file: "routing.json", group: "Routing", label: "paced submit→offer p99 ÷ the empty-RPC floor", value: (r) => get(r, "paced.offer_p99_over_baseline_p99"), target: 3, kind: "max" },
  { file: "routing.json", group: "Routing", label: "submit→offer p99 ÷ the empty-RPC floor (C = 20)", value: (r) => get(r, "offer_p99_over_baseline_p99"), target: 3, kind: "max" },
  { file: "email.json", group: "Email", label: "ingest/s ÷ postal-mime alone", value: (r) => get(r, "ingest_over_parse_only"), target: 0.5, kind: "min" },
  { file: "email.json", group: "Email", label: "ingest/s ÷ same shape", value: (r) => get(r, "ratio_same_shape.per_s"), target: 0.6, kind: "min" },
  { file: "sms.json", group: "SMS", label: "webhooks/s ÷ a bare TwiML route", value: (r) => { const a = get(r, "inbound_per_s"); const b = get(r, "baseline_per_s"); return a !== null && b ? a / b : null; }, target: 0.5, kind: "min" },
  { file: "sms.json", group: "SMS", label: "webhooks/s ÷ same shape", value: (r) => get(r, "ratio_same_shape.per_s"), target: 0.6, kind: "min" },
  { file: "social.json", group: "Social", label: "webhooks/s ÷ the hub alone", value: (r) => { const a = get(r, "inbound_per_s"); const b = get(r, "baseline_per_s"); return a !== null && b ? a / b : null; }, target: 0.5, kind: "min" },
  { file: "chat.json", group: "Chat", label: "message p99 ÷ a bare relay's", value: (r) => get(r, "detail.targets.latency_p99_within_1_5x_baseline_p99.ratio"), target: 1.5, kind: "max" },
  { file: "chat.json", group: "Chat", label: "messages/s ÷ a bare relay's", value: (r) => get(r, "detail.targets.msgs_per_s_at_least_half_baseline.ratio"), target: 0.5, kind: "min" },
  { file: "events.json", group: "Events", label: "routing with the log ÷ without", value: (r) => get(r, "routing_with_log_ratio"), target: 0.9, kind: "min" },
  { file: "events.json", group: "Events", label: "webhook deliveries/s", value: (r) => get(r, "deliveries_per_s"), target: 500, kind: "min", unit: "/s" },
  { file: "events.json", group: "Events", label: "transition → delivery p99", value: (r) => get(r, "lag_ms.p99"), target: 1000, kind: "max", unit: " ms" },
  { file: "classify.json", group: "Content Analyzer", label: "email ingest with the classify step ÷ without", value: (r) => get(r, "ingest_overhead"), target: 0.8, kind: "min" },
  { file: "crash.json", group: "Durability", label: "inputs lost across SIGKILLs", value: (r) => get(r, "lost"), target: 0, kind: "max" },
  { file: "crash.json", group: "Durability", label: "inputs doubled across SIGKILLs", value: (r) => get(r, "doubled"), target: 0, kind: "max" },
  { file: "hostile.json", group: "Hostile input", label: "worst request's CPU", value: (r) => get(r, "max_cpu_ms_per_request"), target: 1000, kind: "max", unit: " ms" },
];

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
const fmt = (n: number) => (Math.abs(n) >= 100 ? Math.round(n).toLocaleString("en") : String(Math.round(n * 1000) / 1000));
const met = (r: Row) => r.value !== null && r.target !== null && (r.kind === "min" ? r.value >= r.target : r.value <= r.target);

/** A row's bar: the value, a dark tick at the target, a dashed one at the previous commit's value. */
function bar(r: Row): string {
  const W = 300;
  const scale = Math.max(r.value ?? 0, r.target ?? 0, r.previous ?? 0, 1e-9) * 1.15;
  const x = (v: number) => ((v / scale) * W).toFixed(1);
  const color = r.value === null ? "#bbb" : r.target === null ? "#2b6cb0" : met(r) ? "#2f8f4e" : "#c0392b";
  const prev = r.previous === null ? "" : `<line x1="${x(r.previous)}" x2="${x(r.previous)}" y1="1" y2="19" stroke="#888" stroke-width="2" stroke-dasharray="3 2"><title>previous commit: ${fmt(r.previous)}</title></line>`;
  const tgt = r.target === null ? "" : `<line x1="${x(r.target)}" x2="${x(r.target)}" y1="0" y2="20" stroke="#222" stroke-width="2"><title>target: ${r.kind === "min" ? "≥" : "≤"} ${fmt(r.target)}</title></line>`;
  const v = r.value === null ? "" : `<rect x="0" y="4" width="${Math.max(1, Number(x(r.value)))}" height="12" fill="${color}"><title>${fmt(r.value)}${r.unit ?? ""}</title></rect>`;
  return `<svg width="${W + 4}" height="20" role="img" aria-label="${esc(r.label)}">${v}${tgt}${prev}</svg>`;
}

const status = (r: Row) => (r.value === null ? "not measured" : r.target === null ? "" : met(r) ? "met" : "missed");

function table(title: string, rows: Row[]): string {
  const lines = rows.map((r) => `<tr class="${status(r).replace(" ", "-") || "none"}"><td>${esc(r.group)}</td><td>${esc(r.label)}</td><td class="num">${r.value === null ? "—" : fmt(r.value) + (r.unit ?? "")}</td><td class="num">${r.target === null ? "" : `${r.kind === "min" ? "≥" : "≤"} ${fmt(r.target)}${r.unit ?? ""}`}</td><td class="num">${r.previous === null ? "" : fmt(r.previous)}</td><td>${status(r)}</td><td>${bar(r)}</td></tr>`);
  return `<section><h2>${esc(title)}</h2><table><thead><tr><th></th><th>figure</th><th>now</th><th>target</th><th>before</th><th></th><th></th></tr></thead><tbody>${lines.join("")}</tbody></table></section>`;
}

/** Line charts of the scale curves (bench/results/scale.json): cost per decision as the queue grows. */
function curves(scale: J | null): string {
  if (!scale) return `<section><h2>How routing cost grows</h2><p class="muted">Not measured yet: <code>npm run bench -- scale</code> writes bench/results/scale.json.</p></section>`;
  const chart = (title: string, pts: [number, number][]) => {
    const W = 420, H = 160, P = 34;
    if (!pts.length) return "";
    const xs = pts.map(([x]) => Math.log10(x));
    const maxY = Math.max(...pts.map(([, y]) => y)) * 1.15 || 1;
    const X = (v: number) => P + ((v - Math.min(...xs)) / (Math.max(...xs) - Math.min(...xs) || 1)) * (W - 2 * P);
    const Y = (v: number) => H - P + 10 - (v / maxY) * (H - P);
    const path = pts.map(([x, y], i) => `${i ? "L" : "M"}${X(Math.log10(x)).toFixed(1)},${Y(y).toFixed(1)}`).join(" ");
    const dots = pts.map(([x, y]) => `<circle cx="${X(Math.log10(x))}" cy="${Y(y)}" r="3" fill="#2b6cb0"><title>${fmt(x)}: ${fmt(y)} µs</title></circle><text x="${X(Math.log10(x))}" y="${H - 4}" font-size="10" text-anchor="middle">${fmt(x)}</text><text x="${X(Math.log10(x))}" y="${Y(y) - 6}" font-size="10" text-anchor="middle">${fmt(y)}</text>`).join("");
    return `<figure><figcaption>${esc(title)}</figcaption><svg width="${W}" height="${H}"><path d="${path}" fill="none" stroke="#2b6cb0" stroke-width="2"/>${dots}</svg></figure>`;
  };
  const series = (k: string) => Object.entries(((scale.decision_us as J | undefined)?.[k] ?? {}) as Record<string, number>).map(([x, y]) => [Number(x), y] as [number, number]).sort((a, b) => a[0] - b[0]);
  return `<section><h2>How routing cost grows</h2><div class="pair">${chart("µs per routing decision, by agents in the queue", series("agents"))}${chart("µs per routing decision, by interactions waiting", series("waiting"))}</div><p>One queue object sustains <strong>${fmt(get(scale, "queue_object_routed_per_s") ?? NaN)}</strong> routed/s (target ≥ 500).</p></section>`;
}

export async function run(): Promise<BenchResult> {
  const cache = new Map<string, ReturnType<typeof load>>();
  const file = (f: string) => cache.get(f) ?? (cache.set(f, load(f)), cache.get(f)!);
  const rows: Row[] = FIGURES.map((f) => {
    const { now, before } = file(f.file);
    return { group: f.group, label: f.label, value: now ? f.value(now) : null, previous: before ? f.value(before) : null, target: f.target, kind: f.kind, ...(f.unit ? { unit: f.unit } : {}) };
  });
  // D1 round trips per operation: bench trips measures them all; each door's target is its own.
  const trips = file("trips.json");
  const targets = ((trips.now?.detail as J | undefined)?.targets ?? {}) as Record<string, number>;
  const tripRows: Row[] = Object.entries((trips.now?.d1_round_trips ?? {}) as Record<string, number>).map(([op, n]) => ({
    group: "D1 round trips", label: op.replaceAll("_", " "), value: n, previous: get(trips.before, `d1_round_trips.${op}`), target: targets[op] ?? null, kind: "max" as const,
  }));
  const dates = readdirSync(dir).filter((f) => f.endsWith(".json") && !f.includes(".prefix.")).map((f) => `<li><code>${esc(f)}</code> ${esc(file(f).date.slice(0, 19))}</li>`).join("");
  const html = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Parley benches</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}h2{font-size:16px;margin-top:28px}table{border-collapse:collapse;margin-right:24px}td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;height:20px}.num{text-align:right;font-variant-numeric:tabular-nums}.met td:nth-child(6){color:#2f8f4e}.missed td:nth-child(6){color:#c0392b;font-weight:600}.not-measured{color:#999}.pair{display:flex;flex-wrap:wrap;align-items:flex-start;gap:8px}figure{margin:0 24px 0 0}figcaption{font-weight:600}.muted{color:#777}</style>
<h1>Parley benches</h1>
<p class="muted">From the committed results in bench/results (written by <code>npm run bench</code>). Bars: green met, red missed; a dark tick marks the target, a dashed one the value of the results file's previous commit.</p>
${table("Figures against their targets", rows)}
${table("D1 round trips per operation (bench trips)", tripRows)}
${curves(file("scale.json").now)}
<section><h2>When each was measured</h2><ul>${dates}</ul></section>
</html>
`;
  writeFileSync(join(dir, "report.html"), html);
  const missed = [...rows, ...tripRows].filter((r) => status(r) === "missed").length;
  return {
    result: { figures: rows.length + tripRows.length, missed, not_measured: rows.filter((r) => r.value === null).length },
    summary: [`bench/results/report.html: ${rows.length + tripRows.length} figures, ${missed} missing their target, ${rows.filter((r) => r.value === null).length} not measured yet`],
    file: "",
  };
}
