// The queue browser: one queue's contents in view order, filtered, refreshed every 5 s, with the
// supervisor's interventions (move, assign, pull, stop) and the interaction's details beside.
import { useEffect, useState } from "preact/hooks";
import { errorText } from "../shared/api.ts";
import { usePolling } from "../shared/poll.ts";
import { ErrorLine } from "../shared/ui.tsx";
import type { ConsoleProps } from "./props.ts";
import type { QueueEntry, QueueInfo } from "./api-types.ts";
import { FilterBar } from "./queues/FilterBar.tsx";
import { NO_FILTERS, applyFilters, isFiltered, type Filters } from "./queues/filters.ts";
import { EntryTable } from "./queues/EntryTable.tsx";
import { ActionDialog, type Action } from "./queues/ActionDialog.tsx";
import { InteractionDetail } from "./InteractionDetail.tsx";

const REFRESH_MS = 5_000;

export function Queues(props: ConsoleProps) {
  const { auth } = props;
  const [queues, setQueues] = useState<QueueInfo[]>([]);
  const [queue, setQueue] = useState<string>(() => sessionStorage.getItem("parley.console.queue") ?? "");
  const [items, setItems] = useState<QueueEntry[] | null>(null);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [action, setAction] = useState<{ action: Action; entry: QueueEntry } | null>(null);
  const [tick, setTick] = useState(0);
  const [loadedAt, setLoadedAt] = useState<number | null>(null);

  useEffect(() => {
    auth.get<{ queues: QueueInfo[] }>("/api/v1/queues").then(
      (r) => {
        setQueues(r.queues);
        setQueue((q) => (r.queues.some((x) => x.name === q) ? q : (r.queues[0]?.name ?? "")));
      },
      (e: unknown) => setError(errorText(e)),
    );
  }, [auth]);

  useEffect(() => {
    if (queue) sessionStorage.setItem("parley.console.queue", queue);
  }, [queue]);
  // Nothing to read until the queue list has named one.
  usePolling(() => (queue ? auth.get<{ items: QueueEntry[] }>(`/api/v1/queues/${encodeURIComponent(queue)}/interactions`) : Promise.resolve(null)), REFRESH_MS, [auth, queue, tick], {
    value: (r) => {
      if (!r) return;
      setItems(r.items);
      setLoadedAt(Date.now());
      setError(null);
    },
    error: (e) => setError(errorText(e)),
  });

  const pick = (q: string) => {
    if (q === queue) return;
    setItems(null);
    setSelected(null);
    setQueue(q);
  };
  const shown = items ? applyFilters(items, filters) : [];
  return (
    <section class="stack" aria-labelledby="queues-title">
      <div class="row">
        <h2 id="queues-title">Queues</h2>
        <label class="inline">
          Queue
          <select name="queue" value={queue} onChange={(e) => pick(e.currentTarget.value)}>
            {queues.map((q) => (
              <option key={q.name} value={q.name}>{q.name}</option>
            ))}
          </select>
        </label>
        <span class="muted small">{queues.find((q) => q.name === queue)?.description ?? ""}</span>
        <span class="grow" />
        {loadedAt && <span class="muted small">Updated {new Date(loadedAt).toLocaleTimeString()}</span>}
        <button type="button" onClick={() => setTick((t) => t + 1)}>Refresh</button>
      </div>
      <FilterBar value={filters} onChange={setFilters} />
      <ErrorLine text={error} />
      <div class={selected ? "split" : ""}>
        <div class="card">
          {items === null ? (
            <p class="muted">Loading…</p>
          ) : shown.length === 0 ? (
            <p class="muted" data-empty="true">{items.length === 0 ? `Nothing is waiting in ${queue}.` : `None of the ${items.length} interactions matches the filters.`}</p>
          ) : (
            <>
              <p class="muted small count">
                {isFiltered(filters) ? `${shown.length} of ${items.length}` : `${items.length}`} in view order
              </p>
              <EntryTable items={shown} selected={selected} onOpen={setSelected} onAction={(a, entry) => setAction({ action: a, entry })} />
            </>
          )}
        </div>
        {selected && <InteractionDetail auth={auth} id={selected} reload={tick} onClose={() => setSelected(null)} />}
      </div>
      {action && (
        <ActionDialog
          auth={auth}
          action={action.action}
          entry={action.entry}
          queue={queue}
          queues={queues}
          onClose={() => {
            // A refused action usually means the list is stale: read it again.
            setAction(null);
            setTick((t) => t + 1);
          }}
          onDone={(text) => {
            props.toast(text);
            setAction(null);
            setTick((t) => t + 1);
          }}
        />
      )}
    </section>
  );
}
