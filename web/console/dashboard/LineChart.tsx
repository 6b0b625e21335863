// A small hand-written SVG line chart: one polyline per series over a time window, a gap where a
// value is missing (no service level before anything was answered), axis labels in SVG text.
import { clock } from "../../shared/format.ts";

export interface Series {
  name: string;
  points: { at: number; v: number | null }[];
}

const W = 600;
const H = 170;
const LEFT = 44;
const RIGHT = 8;
const TOP = 8;
const BOTTOM = 24;

/** Splits a series at missing values, so a gap is drawn as a gap. */
function segments(points: Series["points"]): { at: number; v: number }[][] {
  const out: { at: number; v: number }[][] = [];
  let cur: { at: number; v: number }[] = [];
  for (const p of points) {
    if (p.v === null || !Number.isFinite(p.v)) {
      if (cur.length) out.push(cur);
      cur = [];
    } else cur.push({ at: p.at, v: p.v });
  }
  if (cur.length) out.push(cur);
  return out;
}

/** A round upper bound for the y axis (at least `min`), even so its midpoint is whole too. */
export function niceMax(v: number, min: number): number {
  const m = Math.max(v, min, 2);
  const step = 10 ** Math.floor(Math.log10(m));
  for (const k of [1, 2, 4, 10]) if (k * step >= m) return k * step;
  return 10 * step;
}

export function LineChart(props: { title: string; series: Series[]; from: number; to: number; max: number; format: (v: number) => string; emptyText: string }) {
  const x = (at: number) => LEFT + ((at - props.from) / Math.max(1, props.to - props.from)) * (W - LEFT - RIGHT);
  const y = (v: number) => TOP + (1 - v / props.max) * (H - TOP - BOTTOM);
  const ticks = [0, props.max / 2, props.max];
  const mid = (props.from + props.to) / 2;
  const empty = props.series.every((s) => s.points.every((p) => p.v === null));
  return (
    <figure class="chart-box">
      <figcaption>{props.title}</figcaption>
      <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.title}>
        <title>{props.title}</title>
        {ticks.map((t) => (
          <g key={t}>
            <line class="grid" x1={LEFT} x2={W - RIGHT} y1={y(t)} y2={y(t)} />
            <text x={LEFT - 4} y={y(t) + 3} text-anchor="end">{props.format(t)}</text>
          </g>
        ))}
        <line class="axis" x1={LEFT} x2={LEFT} y1={TOP} y2={H - BOTTOM} />
        <line class="axis" x1={LEFT} x2={W - RIGHT} y1={H - BOTTOM} y2={H - BOTTOM} />
        <text x={LEFT} y={H - 8} text-anchor="start">{clock(props.from)}</text>
        <text x={x(mid)} y={H - 8} text-anchor="middle">{clock(mid)}</text>
        <text x={W - RIGHT} y={H - 8} text-anchor="end">{clock(props.to)}</text>
        {empty && <text class="empty" x={(LEFT + W) / 2} y={H / 2} text-anchor="middle">{props.emptyText}</text>}
        {props.series.map((s, i) =>
          segments(s.points).map((seg, j) =>
            seg.length === 1 ? (
              <circle key={`${s.name}-${j}`} class={`s${i % 8}`} cx={x(seg[0]!.at)} cy={y(seg[0]!.v)} r={2.5} data-series={s.name} />
            ) : (
              <polyline key={`${s.name}-${j}`} class={`s${i % 8}`} points={seg.map((p) => `${x(p.at).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ")} data-series={s.name} />
            ),
          ),
        )}
      </svg>
      <ul class="legend">
        {props.series.map((s, i) => (
          <li key={s.name}>
            <span class={`swatch s${i % 8}`} aria-hidden="true" />
            {s.name}
          </li>
        ))}
      </ul>
    </figure>
  );
}
