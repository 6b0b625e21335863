// The live dashboard: queue and agent statistics pushed over the supervisor socket (polled when the
// socket cannot open), and the last hour's service level and waiting as charts.
import { ConnectionBadge, ErrorLine } from "../shared/ui.tsx";
import type { ConsoleProps } from "./props.ts";
import { useDashboard } from "./dashboard/useDashboard.ts";
import { QueueStatsTable } from "./dashboard/QueueStatsTable.tsx";
import { AgentStatsTable } from "./dashboard/AgentStatsTable.tsx";
import { HistoryCharts } from "./dashboard/HistoryCharts.tsx";

export function Dashboard(props: ConsoleProps) {
  const d = useDashboard(props.auth);
  const queues = d.stats?.queues ?? [];
  return (
    <section class="stack" aria-labelledby="dash-title">
      <div class="row">
        <h2 id="dash-title">Dashboard</h2>
        <ConnectionBadge state={d.conn} />
        {d.source === "polling" && <span class="badge" data-source="polling">Polling every 3 s</span>}
        <span class="grow" />
        {d.stats && <span class="muted small">Updated {new Date(d.stats.at).toLocaleTimeString()}</span>}
        <button type="button" onClick={d.refresh}>Refresh</button>
      </div>
      <ErrorLine text={d.error} />
      {!d.stats ? (
        <p class="muted">Loading statistics…</p>
      ) : (
        <>
          <div class="card">
            <h3>Queues</h3>
            <QueueStatsTable queues={queues} />
          </div>
          <HistoryCharts history={d.history} queues={queues.map((q) => q.queue)} />
          <div class="card">
            <h3>Agents</h3>
            <AgentStatsTable agents={d.stats.agents} />
          </div>
        </>
      )}
    </section>
  );
}
