// QA review: the inbox of replies held for review, mail that failed to send, and the local outbox.
import { useState } from "preact/hooks";
import type { ConsoleProps } from "./props.ts";
import { ReviewInbox } from "./reviews/ReviewInbox.tsx";
import { FailedSends } from "./reviews/FailedSends.tsx";
import { OutboxView } from "./reviews/OutboxView.tsx";

type View = "inbox" | "failed" | "outbox";

export function Reviews(props: ConsoleProps) {
  const [view, setView] = useState<View>("inbox");
  const [count, setCount] = useState<number | null>(null);
  const tab = (v: View, label: string) => (
    <button type="button" role="tab" id={`rv-${v}`} aria-selected={view === v} aria-controls="rv-panel" onClick={() => setView(v)}>
      {label}
    </button>
  );
  return (
    <section class="stack" aria-labelledby="reviews-title">
      <h2 id="reviews-title">QA review</h2>
      <div class="tabs" role="tablist">
        {tab("inbox", count === null ? "To review" : `To review (${count})`)}
        {tab("failed", "Failed sends")}
        {tab("outbox", "Outbox")}
      </div>
      <div id="rv-panel" role="tabpanel" aria-labelledby={`rv-${view}`}>
        {view === "inbox" && <ReviewInbox auth={props.auth} toast={props.toast} onCount={setCount} />}
        {view === "failed" && <FailedSends auth={props.auth} toast={props.toast} />}
        {view === "outbox" && <OutboxView auth={props.auth} toast={props.toast} />}
      </div>
    </section>
  );
}
