// Per-queue live statistics. Rows carry data-queue and the waiting cell data-field="waiting", so
// tests (and anyone scripting the page) can read them without depending on column order.
import { duration, pct } from "../../shared/format.ts";
import type { QueueStats } from "../../shared/types.ts";

export function QueueStatsTable(props: { queues: QueueStats[] }) {
  return (
    <table class="stats">
      <caption class="sr-only">Queues</caption>
      <thead>
        <tr>
          <th scope="col">Queue</th>
          <th scope="col" class="num">Waiting</th>
          <th scope="col" class="num">Oldest wait</th>
          <th scope="col" class="num">Offered</th>
          <th scope="col" class="num">Service level</th>
          <th scope="col" class="num">Avg handle</th>
          <th scope="col" class="num">Entered</th>
          <th scope="col" class="num">Distributed</th>
          <th scope="col" class="num">Abandoned</th>
        </tr>
      </thead>
      <tbody>
        {props.queues.map((q) => (
          <tr key={q.queue} data-queue={q.queue}>
            <th scope="row">{q.queue}</th>
            <td class={`num${q.waiting > 0 ? " strong" : ""}`} data-field="waiting">{q.waiting}</td>
            <td class="num" data-field="oldestWait">{q.waiting > 0 ? duration(q.oldestWaitMs) : "–"}</td>
            <td class="num" data-field="offered">{q.offered}</td>
            <td class={`num ${slClass(q.serviceLevelPct)}`} data-field="serviceLevel">
              {pct(q.serviceLevelPct)} <span class="muted small">in {q.serviceLevelSeconds} s</span>
            </td>
            <td class="num" data-field="avgHandle">{duration(q.avgHandleMs)}</td>
            <td class="num" data-field="entered">{q.entered}</td>
            <td class="num" data-field="distributed">{q.distributed}</td>
            <td class="num" data-field="abandoned">{q.abandoned}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Green at or above 80 %, amber above 50 %, red below: the usual 80/20 target. */
function slClass(v: number | null): string {
  if (v === null) return "";
  return v >= 80 ? "ok" : v >= 50 ? "warn" : "bad";
}
