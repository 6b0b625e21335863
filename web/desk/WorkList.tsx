// The left column: work in hand (in progress) and the agent's personal workbin.
import { errorText, type Auth } from "../shared/api.ts";
import { duration, mediaLabel } from "../shared/format.ts";
import type { WorkbinEntry, WorkView } from "../shared/types.ts";
import { useTick } from "../shared/ui.tsx";
import { ChannelIcon } from "../shared/social.tsx";

export function WorkList(props: {
  auth: Auth;
  work: WorkView[];
  workbin: WorkbinEntry[];
  selected: string | null;
  onSelect: (id: string) => void;
  onChange: () => void;
  toast: (t: string, k?: "info" | "error") => void;
}) {
  const now = useTick(5000);
  const unpark = async (id: string) => {
    try {
      await props.auth.post(`/api/v1/interactions/${id}/unpark`, { workbin: "personal" });
      props.onChange();
      props.onSelect(id);
    } catch (e) {
      props.toast(errorText(e), "error");
    }
  };
  return (
    <nav class="card stack" aria-label="My work">
      <section>
        <h2>In progress ({props.work.length})</h2>
        {props.work.length === 0 && <p class="muted small">Nothing in hand. Accepted offers appear here.</p>}
        <ul class="list" data-list="work">
          {props.work.map((w, i) => (
            <li key={w.interactionId}>
              <button type="button" aria-current={props.selected === w.interactionId ? "true" : undefined} onClick={() => props.onSelect(w.interactionId)} data-work={w.interactionId}>
                <span class="row">
                  <ChannelIcon channel={String(w.item.attributes?.channel ?? "")} />
                  <span class="badge">{mediaLabel[w.media] ?? w.media}</span>
                  <span class="small muted grow">{w.queue}</span>
                  {i < 9 && <span class="kbd" title={`Alt+${i + 1}`}>{i + 1}</span>}
                </span>
                <span class="title">{w.item.subject ?? "(no subject)"}</span>
                <span class="small muted">{w.acceptedAt ? `for ${duration(now - w.acceptedAt)}` : w.state}</span>
              </button>
            </li>
          ))}
        </ul>
      </section>
      <section>
        <h2>My workbin ({props.workbin.length})</h2>
        {props.workbin.length === 0 && <p class="muted small">Parked work waits here.</p>}
        <ul class="list" data-list="workbin">
          {props.workbin.map((w) => (
            <li key={w.interactionId}>
              <div class="row">
                <span class="grow">
                  <span class="badge">{mediaLabel[w.media] ?? w.media}</span> <span class="title">{w.item.subject ?? "(no subject)"}</span>
                  <br />
                  <span class="small muted">parked {duration(now - w.parkedAt)} ago</span>
                </span>
                <button type="button" onClick={() => unpark(w.interactionId)}>
                  Take
                </button>
              </div>
            </li>
          ))}
        </ul>
      </section>
    </nav>
  );
}
