// A supervisor's intervention on one waiting interaction: move it to another queue, offer it to an
// agent, pull it into a workbin, or stop it. Each is a dialog, so nothing happens on a stray click;
// a refusal (409 not_waiting when an agent took it meanwhile) is shown in the server's words.
import { useEffect, useState } from "preact/hooks";
import { ApiError, errorText, type Auth } from "../../shared/api.ts";
import { ErrorLine, Modal } from "../../shared/ui.tsx";
import type { AgentRow, QueueEntry, QueueInfo } from "../api-types.ts";

export type Action = "move" | "assign" | "pull" | "stop";

const TITLE: Record<Action, string> = { move: "Move to another queue", assign: "Assign to an agent", pull: "Pull into a workbin", stop: "Stop processing" };
const PRESENCE: Record<string, string> = { ready: "ready", not_ready: "not ready", busy: "busy", after_work: "after work", logged_out: "logged out" };

export function ActionDialog(props: {
  auth: Auth;
  action: Action;
  entry: QueueEntry;
  queue: string;
  queues: QueueInfo[];
  onDone: (text: string) => void;
  onClose: () => void;
}) {
  const { action, entry } = props;
  const targets = props.queues.filter((q) => q.name !== props.queue && q.media.includes(entry.media));
  const [agents, setAgents] = useState<AgentRow[] | null>(null);
  const [choice, setChoice] = useState(action === "move" ? (targets[0]?.name ?? "") : "");
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (action !== "assign" && action !== "pull") return;
    props.auth.get<{ agents: AgentRow[] }>("/api/v1/agents").then(
      (r) => {
        setAgents(r.agents);
        if (action === "assign") setChoice((c) => c || (r.agents.find((a) => a.presence === "ready")?.id ?? r.agents[0]?.id ?? ""));
      },
      (e: unknown) => setError(errorText(e)),
    );
  }, [action]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const path = `/api/v1/interactions/${encodeURIComponent(entry.id)}/${action}`;
    try {
      if (action === "move") await props.auth.post(path, { queue: choice });
      else if (action === "assign") await props.auth.post(path, { agent: choice });
      else if (action === "pull") await props.auth.post(path, choice ? { agent: choice } : {});
      else await props.auth.post(path, { reason: reason.trim() });
      const what = entry.item.subject ? `“${entry.item.subject}”` : entry.id;
      props.onDone(
        action === "move" ? `Moved ${what} to ${choice}` : action === "assign" ? `Offered ${what} to ${choice}` : action === "pull" ? `Pulled ${what} into ${choice || "your"} workbin` : `Stopped ${what}`,
      );
    } catch (err) {
      setError(err instanceof ApiError && err.code ? `${errorText(err)} (${err.code})` : errorText(err));
      setBusy(false);
    }
  };

  const ready = action === "move" ? choice !== "" : action === "assign" ? choice !== "" : action === "stop" ? reason.trim() !== "" : true;
  return (
    <Modal title={TITLE[action]} onClose={props.onClose}>
      <form onSubmit={submit} data-action-dialog={action}>
        <p class="small">
          <strong>{entry.item.subject ?? "(no subject)"}</strong> <span class="muted">· {entry.id} · in {props.queue}</span>
        </p>
        {action === "move" &&
          (targets.length ? (
            <label>
              Queue
              <select name="queue" value={choice} onChange={(e) => setChoice(e.currentTarget.value)}>
                {targets.map((q) => (
                  <option key={q.name} value={q.name}>{q.name}{q.description ? ` — ${q.description}` : ""}</option>
                ))}
              </select>
            </label>
          ) : (
            <p class="muted">No other queue takes {entry.media}.</p>
          ))}
        {(action === "assign" || action === "pull") && (
          <label>
            {action === "assign" ? "Agent" : "Workbin of"}
            <select name="agent" value={choice} onChange={(e) => setChoice(e.currentTarget.value)} disabled={!agents}>
              {action === "pull" && <option value="">Me</option>}
              {(agents ?? []).map((a) => (
                <option key={a.id} value={a.id}>{a.fullName} ({PRESENCE[a.presence] ?? a.presence})</option>
              ))}
            </select>
          </label>
        )}
        {action === "assign" && <p class="muted small">It is offered to that agent only, when they can take it.</p>}
        {action === "stop" && (
          <>
            <p class="warn small">It leaves the queue and is not routed again. This cannot be undone.</p>
            <label>
              Reason
              <input name="reason" value={reason} maxLength={200} required onInput={(e) => setReason(e.currentTarget.value)} />
            </label>
          </>
        )}
        <ErrorLine text={error} />
        <div class="row end">
          <button type="button" onClick={props.onClose}>Cancel</button>
          <button type="submit" class={action === "stop" ? "danger" : "primary"} disabled={busy || !ready}>
            {busy ? "Working…" : action === "move" ? "Move" : action === "assign" ? "Assign" : action === "pull" ? "Pull" : "Stop interaction"}
          </button>
        </div>
      </form>
    </Modal>
  );
}
