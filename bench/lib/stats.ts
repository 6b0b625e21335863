// Latency and rate figures. Pure.

export interface Latency {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Milliseconds, rounded to 0.01 ms. */
export function latency(values: readonly number[]): Latency {
  const s = [...values].sort((a, b) => a - b);
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN;
  return { n: s.length, p50: round(percentile(s, 50)), p90: round(percentile(s, 90)), p99: round(percentile(s, 99)), max: round(s.at(-1) ?? NaN), mean: round(mean) };
}

/** Events per second over a span in milliseconds. */
export const perSecond = (count: number, spanMs: number): number => (spanMs > 0 ? round((count * 1000) / spanMs, 1) : NaN);

export const ratio = (a: number, b: number): number => (b > 0 ? round(a / b, 3) : NaN);

export { round };
