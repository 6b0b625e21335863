// Live chats: every chat waiting or in progress, and the one opened, where the supervisor can
// monitor, coach or barge in.
import { useState } from "preact/hooks";
import { duration } from "../shared/format.ts";
import { ErrorLine, useTick } from "../shared/ui.tsx";
import type { ConsoleProps } from "./props.ts";
import { useLiveChats, type LiveChat } from "./chats/useLiveChats.ts";
import { ChatView } from "./chats/ChatView.tsx";

export function Chats(props: ConsoleProps) {
  const { chats, error, refresh } = useLiveChats(props.auth);
  const [open, setOpen] = useState<LiveChat | null>(null);
  const now = useTick(1000);
  // The freshest row for the opened chat; once it leaves the lists (it ended) the last one seen.
  const shown = open ? (chats?.find((c) => c.id === open.id) ?? open) : null;
  return (
    <section class="stack" aria-labelledby="chats-title">
      <div class="row">
        <h2 id="chats-title">Live chats</h2>
        <span class="grow" />
        <button type="button" onClick={refresh}>Refresh</button>
      </div>
      <ErrorLine text={error} />
      <div class="split wide-detail">
        <div class="card">
          {chats === null ? (
            <p class="muted">Loading…</p>
          ) : chats.length === 0 ? (
            <p class="muted" data-empty="true">No chat is waiting or in progress.</p>
          ) : (
            <ul class="list">
              {chats.map((c) => (
                <li key={c.id} data-chat={c.id}>
                  <button type="button" aria-current={open?.id === c.id} onClick={() => setOpen(c)}>
                    <span class="title">{c.subject ?? "Chat"}</span>
                    <span class="small">
                      <span class={`badge chat-${c.state}`}>{c.state}</span> {c.agent ? `with ${c.agent}` : `in ${c.queue}`}
                      {c.since !== null && <span class="muted"> · {duration(now - c.since)}</span>}
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
        <div>{shown ? <ChatView key={shown.id} auth={props.auth} me={{ id: props.session.agent.id, name: props.session.agent.fullName }} chat={shown} toast={props.toast} /> : <p class="muted card">Choose a chat.</p>}</div>
      </div>
    </section>
  );
}
