// Webhook endpoints, for admins: add one (its secret shown once, to copy), see each endpoint's
// deliveries (state, attempts, the receiver's status, latency, the error), send failed ones again,
// rotate the secret, switch an endpoint off or on, remove it.
import { useEffect, useState } from "preact/hooks";
import { errorText } from "../../shared/api.ts";
import { ErrorLine } from "../../shared/ui.tsx";
import type { ConsoleProps } from "../props.ts";

interface Endpoint {
  id: string;
  url: string;
  types: string[];
  ordered: boolean;
  state: "enabled" | "disabled";
  disabledReason: string | null;
  failingSince: number | null;
  previousSecretUntil: number | null;
}

interface Delivery {
  sequence: number;
  state: string;
  attempts: number;
  status: number | null;
  error: string | null;
  latencyMs: number | null;
  nextAt: number | null;
  at: number;
}

function Deliveries(props: ConsoleProps & { endpoint: Endpoint }) {
  const [rows, setRows] = useState<Delivery[]>([]);
  const load = () => props.auth.get<{ deliveries: Delivery[] }>(`/api/v1/admin/webhooks/${props.endpoint.id}/deliveries?limit=50`).then((r) => setRows(r.deliveries), (e: unknown) => props.toast(errorText(e), "error"));
  useEffect(() => {
    void load();
    const t = setInterval(() => void load(), 2000);
    return () => clearInterval(t);
  }, [props.endpoint.id]);
  const replay = async (d: Delivery) => {
    try {
      await props.auth.post(`/api/v1/admin/webhooks/${props.endpoint.id}/replay`, { from: d.sequence, to: d.sequence });
      props.toast(`Event ${d.sequence} sent again`);
      void load();
    } catch (e) {
      props.toast(errorText(e), "error");
    }
  };
  return (
    <table class="data" aria-label={`Deliveries to ${props.endpoint.url}`}>
      <thead>
        <tr><th>Event</th><th>State</th><th>Attempts</th><th>Status</th><th>Latency</th><th>Error</th><th>Next try</th><th /></tr>
      </thead>
      <tbody>
        {rows.map((d) => (
          <tr key={d.sequence} data-sequence={d.sequence} data-state={d.state}>
            <td>{d.sequence}</td>
            <td>{d.state}</td>
            <td>{d.attempts}</td>
            <td>{d.status ?? "–"}</td>
            <td>{d.latencyMs === null ? "–" : `${d.latencyMs} ms`}</td>
            <td class="small">{d.error ?? ""}</td>
            <td class="small">{d.nextAt ? new Date(d.nextAt).toLocaleTimeString() : ""}</td>
            <td>
              {d.state !== "pending" && (
                <button type="button" onClick={() => void replay(d)}>
                  Send again
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Webhooks(props: ConsoleProps) {
  const [list, setList] = useState<Endpoint[]>([]);
  const [url, setUrl] = useState("");
  const [types, setTypes] = useState("");
  const [ordered, setOrdered] = useState(false);
  const [secret, setSecret] = useState<{ id: string; secret: string } | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () => props.auth.get<{ endpoints: Endpoint[] }>("/api/v1/admin/webhooks").then((r) => setList(r.endpoints), (e: unknown) => setError(errorText(e)));
  useEffect(() => void load(), []);
  const act = async (fn: () => Promise<unknown>, ok: string) => {
    try {
      await fn();
      props.toast(ok);
      setError(null);
      await load();
    } catch (e) {
      setError(errorText(e));
    }
  };
  const add = (e: Event) => {
    e.preventDefault();
    const t = types.split(",").map((x) => x.trim()).filter(Boolean);
    void act(async () => {
      const r = await props.auth.post<{ id: string; secret: string }>("/api/v1/admin/webhooks", { url: url.trim(), ordered, ...(t.length ? { types: t } : {}) });
      setSecret(r);
      setOpen(r.id);
      setUrl("");
      setTypes("");
      setOrdered(false);
    }, "Endpoint added");
  };
  return (
    <section class="stack" aria-labelledby="webhooks-title">
      <h2 id="webhooks-title">Webhooks</h2>
      <p class="muted small">Events are posted to each endpoint, signed to the Standard Webhooks specification (docs/events.md).</p>
      <form class="row wrap" aria-label="Add a webhook endpoint" onSubmit={add}>
        <label class="grow">
          Endpoint URL
          <input value={url} required placeholder="https://crm.example.com/parley" onInput={(e) => setUrl(e.currentTarget.value)} />
        </label>
        <label>
          Event types
          <input value={types} placeholder="all, or parley.interaction.*, …" onInput={(e) => setTypes(e.currentTarget.value)} />
        </label>
        <label class="row" title="Each interaction's or contact's events one after another: an event waits while the one before it is being retried">
          <input type="checkbox" checked={ordered} onChange={(e) => setOrdered(e.currentTarget.checked)} /> In order per subject
        </label>
        <button type="submit" class="primary">
          Add endpoint
        </button>
      </form>
      <ErrorLine text={error} />
      {secret && (
        <div class="card" role="status" aria-label="New secret">
          The endpoint's secret, shown only now: <code data-secret>{secret.secret}</code>{" "}
          <button type="button" onClick={() => setSecret(null)}>
            I have copied it
          </button>
        </div>
      )}
      {list.map((ep) => (
        <article class="card stack" key={ep.id} data-endpoint={ep.id} aria-label={`Endpoint ${ep.url}`}>
          <div class="row">
            <strong class="grow">{ep.url}</strong>
            <span class={`badge ${ep.state === "enabled" ? "ready" : "not_ready"}`} data-state={ep.state}>
              {ep.state}
            </span>
          </div>
          <div class="small muted">
            {ep.types.length ? ep.types.join(", ") : "every event"}
            {ep.ordered ? " · in order per subject" : ""}
            {ep.disabledReason ? ` · disabled: ${ep.disabledReason}` : ""}
            {ep.failingSince ? ` · failing since ${new Date(ep.failingSince).toLocaleString()}` : ""}
          </div>
          <div class="row">
            <button type="button" onClick={() => setOpen(open === ep.id ? null : ep.id)}>
              {open === ep.id ? "Hide deliveries" : "Deliveries"}
            </button>
            <button type="button" onClick={() => void act(async () => setSecret(await props.auth.post<{ id: string; secret: string }>(`/api/v1/admin/webhooks/${ep.id}/rotate`)), "Secret rotated: the old one signs too for 24 hours")}>
              Rotate secret
            </button>
            <button type="button" onClick={() => void act(() => props.auth.call("PUT", `/api/v1/admin/webhooks/${ep.id}`, { enabled: ep.state !== "enabled" }), ep.state === "enabled" ? "Endpoint disabled" : "Endpoint enabled")}>
              {ep.state === "enabled" ? "Disable" : "Enable"}
            </button>
            <button type="button" class="danger" onClick={() => void act(() => props.auth.call("DELETE", `/api/v1/admin/webhooks/${ep.id}`), "Endpoint removed")}>
              Remove
            </button>
          </div>
          {open === ep.id && <Deliveries {...props} endpoint={ep} />}
        </article>
      ))}
    </section>
  );
}
