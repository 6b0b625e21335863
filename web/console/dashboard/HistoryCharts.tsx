// The last hour from the 15-second samples: service level and waiting, one line per queue.
import { useTick } from "../../shared/ui.tsx";
import type { Sample } from "../api-types.ts";
import { HISTORY_MS } from "./useDashboard.ts";
import { LineChart, niceMax, type Series } from "./LineChart.tsx";

function seriesOf(history: Sample[], queues: string[], pick: (q: Sample["queues"][string]) => number | null): Series[] {
  return queues.map((name) => ({ name, points: history.map((s) => ({ at: s.at, v: s.queues[name] ? pick(s.queues[name]) : null })) }));
}

export function HistoryCharts(props: { history: Sample[]; queues: string[] }) {
  // The window slides with the clock even between samples.
  const now = useTick(15_000);
  const to = Math.max(now, props.history.at(-1)?.at ?? 0);
  const from = to - HISTORY_MS;
  const sl = seriesOf(props.history, props.queues, (q) => q.serviceLevelPct);
  const waiting = seriesOf(props.history, props.queues, (q) => q.waiting);
  const peak = Math.max(0, ...props.history.flatMap((s) => Object.values(s.queues).map((q) => q.waiting)));
  return (
    <div class="grid2">
      <LineChart title="Service level, last hour" series={sl} from={from} to={to} max={100} format={(v) => `${Math.round(v)}%`} emptyText={props.history.length ? "Nothing answered in the last hour" : "No samples yet"} />
      <LineChart title="Waiting, last hour" series={waiting} from={from} to={to} max={niceMax(peak, 4)} format={(v) => String(Math.round(v))} emptyText="No samples yet" />
    </div>
  );
}
