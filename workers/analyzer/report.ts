// A model's test report on held-out examples, and the confidence thresholds read off it. Pure.
import { OUT_OF_SCOPE, predict, type Model } from "./model.ts";
import type { Example } from "./train.ts";

export interface CategoryScore {
  id: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface CurvePoint {
  threshold: number;
  /** Of the answers given at this confidence or above, the share that is right. */
  precision: number;
  /** Of the in-scope examples, the share answered right at this confidence or above. */
  recall: number;
  /** Share of all examples answered (not "none of these") at this confidence or above. */
  coverage: number;
}

export interface Report {
  examples: number;
  accuracy: number;
  top3: number;
  macro: { precision: number; recall: number; f1: number };
  categories: CategoryScore[];
  curve: CurvePoint[];
  /** Pairs where more than 20% of a category's examples were taken for another. */
  confusions: { actual: string; predicted: string; count: number; rate: number }[];
  outOfScope: { examples: number; recall: number | null };
  /** Expected calibration error: mean |confidence − accuracy| over ten confidence bins, weighted. */
  calibrationError: number;
  thresholds: Thresholds;
}

export interface Thresholds {
  /** Lowest confidence where tested precision reaches the target, or null where it never does. */
  autoRespond: number | null;
  /** Where precision and recall meet. */
  route: number;
}

export const CONFUSION_RATE = 0.2;
const round = (x: number) => Math.round(x * 10_000) / 10_000;

export function decide(ranked: { label: string; confidence: number }[], outOfScopeBelow: number): string {
  const top = ranked[0]!;
  return top.label === OUT_OF_SCOPE || top.confidence < outOfScopeBelow ? OUT_OF_SCOPE : top.label;
}

export function evaluate(model: Model, test: readonly Example[], opts: { outOfScopeBelow: number; autoRespondPrecision: number }): Report {
  const rows = test.map((e) => {
    const ranked = predict(model, e.text, 0).ranked;
    const inScope = ranked.filter((r) => r.label !== OUT_OF_SCOPE);
    return { actual: e.label, predicted: decide(ranked, opts.outOfScopeBelow), top3: inScope.slice(0, 3).map((r) => r.label), ranked };
  });
  const inScope = rows.filter((r) => r.actual !== OUT_OF_SCOPE);
  const oos = rows.filter((r) => r.actual === OUT_OF_SCOPE);
  const labels = model.labels.filter((l) => l !== OUT_OF_SCOPE);

  const categories = labels.map((id): CategoryScore => {
    const tp = rows.filter((r) => r.actual === id && r.predicted === id).length;
    const predicted = rows.filter((r) => r.predicted === id).length;
    const support = rows.filter((r) => r.actual === id).length;
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { id, precision: round(precision), recall: round(recall), f1: round(f1), support };
  });
  const scored = categories.filter((c) => c.support > 0);
  const mean = (f: (c: CategoryScore) => number) => round(scored.reduce((s, c) => s + f(c), 0) / (scored.length || 1));

  const curve: CurvePoint[] = [];
  for (let i = 0; i <= 20; i++) {
    const t = i / 20;
    let answered = 0;
    let right = 0;
    for (const r of rows) {
      if (r.ranked[0]!.label === OUT_OF_SCOPE || r.ranked[0]!.confidence < t) continue;
      answered++;
      if (r.ranked[0]!.label === r.actual) right++;
    }
    curve.push({ threshold: t, precision: round(answered ? right / answered : 1), recall: round(inScope.length ? right / inScope.length : 0), coverage: round(rows.length ? answered / rows.length : 0) });
  }

  const confusions: Report["confusions"] = [];
  for (const a of labels) {
    const mine = rows.filter((r) => r.actual === a);
    const counts = new Map<string, number>();
    for (const r of mine) if (r.predicted !== a) counts.set(r.predicted, (counts.get(r.predicted) ?? 0) + 1);
    for (const [p, n] of counts) if (n / mine.length > CONFUSION_RATE) confusions.push({ actual: a, predicted: p, count: n, rate: round(n / mine.length) });
  }
  confusions.sort((x, y) => y.rate - x.rate);

  // Calibration: the top label's confidence against whether it was right, in ten bins.
  const bins = Array.from({ length: 10 }, () => ({ n: 0, conf: 0, right: 0 }));
  for (const r of rows) {
    const b = bins[Math.min(9, Math.floor(r.ranked[0]!.confidence * 10))]!;
    b.n++;
    b.conf += r.ranked[0]!.confidence;
    if (r.ranked[0]!.label === r.actual) b.right++;
  }
  const ece = bins.reduce((s, b) => s + (b.n ? Math.abs(b.conf - b.right) : 0), 0) / (rows.length || 1);

  return {
    examples: rows.length,
    accuracy: round(inScope.filter((r) => r.predicted === r.actual).length / (inScope.length || 1)),
    top3: round(inScope.filter((r) => r.top3.includes(r.actual)).length / (inScope.length || 1)),
    macro: { precision: mean((c) => c.precision), recall: mean((c) => c.recall), f1: mean((c) => c.f1) },
    categories,
    curve,
    confusions,
    outOfScope: { examples: oos.length, recall: oos.length ? round(oos.filter((r) => r.predicted === OUT_OF_SCOPE).length / oos.length) : null },
    calibrationError: round(ece),
    thresholds: thresholdsFrom(curve, opts.autoRespondPrecision),
  };
}

/** Genesys' guidance, read off the curve: automatic replies where precision reaches the target; routing where precision meets recall. */
export function thresholdsFrom(curve: readonly CurvePoint[], autoRespondPrecision: number): Thresholds {
  const auto = curve.find((p, i) => p.precision >= autoRespondPrecision && curve.slice(i).every((q) => q.precision >= autoRespondPrecision || q.coverage === 0));
  let route = curve[0]!;
  for (const p of curve) if (Math.abs(p.precision - p.recall) < Math.abs(route.precision - route.recall)) route = p;
  return { autoRespond: auto ? auto.threshold : null, route: route.threshold };
}
