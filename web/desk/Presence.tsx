// Login to routing, ready or not ready per media with a reason code, after-call work.
import { useState } from "preact/hooks";
import { errorText, type Auth } from "../shared/api.ts";
import { mediaLabel } from "../shared/format.ts";
import { MEDIA, type AgentStatus, type Media } from "../shared/types.ts";

export function Presence(props: { auth: Auth; status: AgentStatus; reasons: string[]; reason: string; onReason: (r: string) => void; onChange: () => void; toast: (t: string, k?: "info" | "error") => void }) {
  const { auth, status } = props;
  const s = status.snapshot;
  const [open, setOpen] = useState(false);
  const { reason, onReason: setReason } = props;
  const media = MEDIA.filter((m) => (s.capacity[m] ?? 0) > 0);
  const act = async (path: string, body: unknown) => {
    try {
      await auth.post(path, body);
      props.onChange();
    } catch (e) {
      props.toast(errorText(e), "error");
    }
  };
  if (!s.loggedIn)
    return (
      <button type="button" class="primary" onClick={() => act("/api/v1/me/login", { ready: true })}>
        Log in to routing
      </button>
    );
  const allReady = media.length > 0 && media.every((m) => s.ready[m]);
  const noneReady = media.every((m) => !s.ready[m]);
  return (
    <div class="row presence">
      <span class={`badge ${status.presence}`} data-presence={status.presence}>
        {status.presence.replace("_", " ")}
      </span>
      <button type="button" class={allReady ? "" : "primary"} disabled={allReady} onClick={() => act("/api/v1/me/ready", { ready: true })} title="Ready on every media (Alt+Y)">
        Ready
      </button>
      <button type="button" disabled={noneReady} onClick={() => act("/api/v1/me/ready", { ready: false, reason })} title="Not ready on every media, with the reason (Alt+N)">
        Not ready
      </button>
      <select aria-label="Not-ready reason" value={reason} onChange={(e) => setReason(e.currentTarget.value)}>
        {props.reasons.map((r) => (
          <option key={r} value={r}>
            {r}
          </option>
        ))}
      </select>
      <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
        Per media
      </button>
      <label class="inline">
        <input type="checkbox" checked={s.afterWork} onChange={(e) => act("/api/v1/me/after-work", { on: e.currentTarget.checked })} />
        After-call work
      </label>
      <button type="button" onClick={() => act("/api/v1/me/logout", {})}>
        Log out of routing
      </button>
      {open && (
        <div class="card permedia" role="group" aria-label="Ready per media">
          {media.map((m: Media) => (
            <label class="inline" key={m}>
              <input
                type="checkbox"
                checked={!!s.ready[m]}
                onChange={(e) => act("/api/v1/me/ready", e.currentTarget.checked ? { ready: true, media: [m] } : { ready: false, media: [m], reason })}
              />
              {mediaLabel[m]} {s.ready[m] ? "" : s.reasons[m] ? `(${s.reasons[m]})` : ""}
              <span class="muted small">
                {s.load[m] ?? 0}/{s.capacity[m]}
              </span>
            </label>
          ))}
        </div>
      )}
    </div>
  );
}
