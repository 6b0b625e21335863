// The precision/recall curve of a model's test report, as a small SVG: precision and recall (and
// the share answered) against the confidence threshold, with the thresholds in force marked.
import type { CurvePoint } from "./types.ts";

const W = 360;
const H = 180;
const PAD = 28;

export function Curve(props: { curve: CurvePoint[]; marks: { at: number | null; label: string }[] }) {
  const x = (t: number) => PAD + t * (W - PAD * 2);
  const y = (v: number) => H - PAD - v * (H - PAD * 2);
  const line = (f: (p: CurvePoint) => number) => props.curve.map((p, i) => `${i ? "L" : "M"}${x(p.threshold).toFixed(1)},${y(f(p)).toFixed(1)}`).join(" ");
  return (
    <svg class="curve" viewBox={`0 0 ${W} ${H}`} role="img" aria-label="Precision and recall by confidence threshold">
      <rect x={PAD} y={PAD} width={W - PAD * 2} height={H - PAD * 2} fill="none" stroke="#d1d5db" />
      {[0, 0.5, 1].map((v) => (
        <g key={v}>
          <text x={PAD - 4} y={y(v) + 4} text-anchor="end" font-size="9">{v * 100}%</text>
          <text x={x(v)} y={H - PAD + 12} text-anchor="middle" font-size="9">{v}</text>
        </g>
      ))}
      <path d={line((p) => p.precision)} fill="none" stroke="#2563eb" stroke-width="2" data-series="precision" />
      <path d={line((p) => p.recall)} fill="none" stroke="#16a34a" stroke-width="2" data-series="recall" />
      <path d={line((p) => p.coverage)} fill="none" stroke="#9ca3af" stroke-dasharray="3 3" data-series="coverage" />
      {props.marks.filter((m) => m.at !== null).map((m) => (
        <g key={m.label}>
          <line x1={x(m.at!)} x2={x(m.at!)} y1={PAD} y2={H - PAD} stroke="#f59e0b" />
          <text x={x(m.at!) + 2} y={PAD + 10} font-size="9">{m.label}</text>
        </g>
      ))}
      <text x={W - PAD} y={PAD - 8} text-anchor="end" font-size="10">
        <tspan fill="#2563eb">precision</tspan> · <tspan fill="#16a34a">recall</tspan> · <tspan fill="#6b7280">answered</tspan>
      </text>
      <text x={W / 2} y={H - 4} text-anchor="middle" font-size="9">confidence threshold</text>
    </svg>
  );
}
