// Replies waiting for QA review across the review queues, oldest first as the queue orders them,
// with the selected one open beside the list.
import { useState } from "preact/hooks";
import { errorText, type Auth } from "../../shared/api.ts";
import { duration } from "../../shared/format.ts";
import { usePolling } from "../../shared/poll.ts";
import { ErrorLine } from "../../shared/ui.tsx";
import type { ReviewItem } from "../api-types.ts";
import { ReviewPane } from "./ReviewPane.tsx";

const REFRESH_MS = 10_000;

export function ReviewInbox(props: { auth: Auth; toast: (t: string) => void; onCount: (n: number) => void }) {
  const [items, setItems] = useState<ReviewItem[] | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);

  usePolling(() => props.auth.get<{ items: ReviewItem[] }>("/api/v1/reviews"), REFRESH_MS, [tick], {
    value: (r) => {
      setItems(r.items);
      props.onCount(r.items.length);
      setError(null);
    },
    error: (e) => setError(errorText(e)),
  });

  return (
    <div class="split wide-detail">
      <div class="card">
        <div class="row">
          <h3 class="grow">Waiting for review</h3>
          <button type="button" onClick={() => setTick((t) => t + 1)}>Refresh</button>
        </div>
        <ErrorLine text={error} />
        {items === null ? (
          <p class="muted">Loading…</p>
        ) : items.length === 0 ? (
          <p class="muted" data-empty="true">No replies are waiting for review.</p>
        ) : (
          <ul class="list">
            {items.map((it) => (
              <li key={it.id} data-review-item={it.id}>
                <button type="button" aria-current={open === it.id} onClick={() => setOpen(it.id)}>
                  <span class="title">{it.item.subject ?? "(no subject)"}</span>
                  <span class="muted small">
                    {it.queue} · waiting {duration(it.waitingMs)}
                    {typeof it.item.attributes.author === "string" ? ` · by ${it.item.attributes.author}` : ""}
                    {typeof it.item.attributes.review === "string" ? ` · ${it.item.attributes.review}` : ""}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
      <div class="card">
        {open ? (
          <ReviewPane
            auth={props.auth}
            id={open}
            onDone={(text) => {
              props.toast(text);
              setOpen(null);
              setTick((t) => t + 1);
            }}
          />
        ) : (
          <p class="muted">Choose a reply to review.</p>
        )}
      </div>
    </div>
  );
}
