// The local outbox: what Parley would have sent with the 'outbox' transport. None of it left this
// machine, and the page says so on every row, so nobody mistakes it for a delivery log.
import { useEffect, useState } from "preact/hooks";
import { errorText, type Auth } from "../../shared/api.ts";
import { bytes, time } from "../../shared/format.ts";
import { ErrorLine } from "../../shared/ui.tsx";
import type { Outbox } from "../api-types.ts";

export function OutboxView(props: { auth: Auth; toast: (t: string, kind?: "info" | "error") => void }) {
  const [box, setBox] = useState<Outbox | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    props.auth.get<Outbox>("/api/v1/outbox?limit=200").then(
      (r) => {
        setBox(r);
        setError(null);
      },
      (e: unknown) => setError(errorText(e)),
    );
  }, [tick]);

  const download = (raw: string, id: string) => props.auth.download(raw, `${id}.eml`).catch((e: unknown) => props.toast(errorText(e), "error"));

  return (
    <div class="card">
      <div class="row">
        <h3 class="grow">Outbox</h3>
        <button type="button" onClick={() => setTick((t) => t + 1)}>Refresh</button>
      </div>
      <ErrorLine text={error} />
      {box && !box.delivered && (
        <p class="not-delivered" role="note">
          <strong>NOT DELIVERED.</strong> {box.note}
        </p>
      )}
      {box === null ? (
        !error && <p class="muted">Loading…</p>
      ) : box.messages.length === 0 ? (
        <p class="muted" data-empty="true">The outbox is empty.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Subject</th>
              <th scope="col">From</th>
              <th scope="col">To</th>
              <th scope="col" class="num">Size</th>
              <th scope="col">Status</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {box.messages.map((m) => (
              <tr key={m.id} data-outbox={m.id} data-interaction={m.interaction_id}>
                <td class="small">{time(m.created_at)}</td>
                <td>
                  {m.subject ?? "(no subject)"}
                  {m.auto && <span class="badge">automatic</span>}
                </td>
                <td class="small">{m.mail_from}</td>
                <td class="small">{m.rcpt_to.join(", ")}</td>
                <td class="num small">{bytes(m.size)}</td>
                <td>{m.delivered ? <span class="badge ready">Delivered</span> : <span class="badge not-delivered-badge" data-field="delivered">NOT DELIVERED</span>}</td>
                <td>
                  <button type="button" class="link" onClick={() => void download(m.raw, m.id)}>Raw</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
