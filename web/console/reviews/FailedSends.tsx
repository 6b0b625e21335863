// Outbound mail that could not be delivered after its retries: the last error, and a retry.
import { useEffect, useState } from "preact/hooks";
import { errorText, type Auth } from "../../shared/api.ts";
import { time } from "../../shared/format.ts";
import { ErrorLine } from "../../shared/ui.tsx";
import type { ReplyRow } from "../api-types.ts";
import { showAddresses as formatAddresses } from "../../shared/addresses.ts";

export function FailedSends(props: { auth: Auth; toast: (t: string, kind?: "info" | "error") => void }) {
  const [rows, setRows] = useState<ReplyRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    props.auth.get<{ replies: ReplyRow[] }>("/api/v1/replies?state=failed").then(
      (r) => {
        setRows(r.replies);
        setError(null);
      },
      (e: unknown) => setError(errorText(e)),
    );
  }, [tick]);

  const retry = async (r: ReplyRow) => {
    setBusy(r.id);
    try {
      await props.auth.post(`/api/v1/replies/${encodeURIComponent(r.id)}/retry`);
      props.toast(`Sending “${r.subject ?? r.id}” again`);
      setTick((t) => t + 1);
    } catch (e) {
      props.toast(errorText(e), "error");
    } finally {
      setBusy(null);
    }
  };

  return (
    <div class="card">
      <div class="row">
        <h3 class="grow">Failed sends</h3>
        <button type="button" onClick={() => setTick((t) => t + 1)}>Refresh</button>
      </div>
      <ErrorLine text={error} />
      {rows === null ? (
        <p class="muted">Loading…</p>
      ) : rows.length === 0 ? (
        <p class="muted" data-empty="true">Nothing failed to send.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Subject</th>
              <th scope="col">To</th>
              <th scope="col">Author</th>
              <th scope="col" class="num">Attempts</th>
              <th scope="col">Last error</th>
              <th scope="col">When</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} data-failed={r.id}>
                <td>{r.subject ?? "(no subject)"}</td>
                <td class="small">{formatAddresses(r.to_addrs)}</td>
                <td>{r.author ?? "–"}</td>
                <td class="num">{r.attempts}</td>
                <td class="small bad">{r.last_error ?? "–"}</td>
                <td class="small">{time(r.updated_at)}</td>
                <td>
                  <button type="button" disabled={busy === r.id} onClick={() => void retry(r)}>Retry</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
