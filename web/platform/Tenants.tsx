// The install's tenants in id order, with their shard, jurisdiction, status and usage; a new tenant
// made here; each one suspended, resumed, moved or deleted through its row.
import { useEffect, useState } from "preact/hooks";
import { errorText } from "../shared/api.ts";
import { bytes, time } from "../shared/format.ts";
import { ErrorLine } from "../shared/ui.tsx";
import { CreatedPanel } from "./Created.tsx";
import { NewTenant } from "./NewTenant.tsx";
import { tenantPath, type Operator } from "./operator.ts";
import { TenantDialog, type TenantAction } from "./TenantDialog.tsx";
import type { Created, Shard, TenantPage, TenantRow } from "./types.ts";

const PAGE = 50;
const num = (n: number | undefined): string => (n === undefined ? "–" : n.toLocaleString());

function Status(props: { t: TenantRow }) {
  const { t } = props;
  return (
    <>
      <span class={`badge ${t.status === "active" ? "ready" : t.status === "suspended" ? "not_ready" : "busy"}`} data-status={t.status}>
        {t.status}
      </span>
      {t.movingTo && <span class="muted small"> moving to {t.movingTo}</span>}
      {t.statusReason && <div class="muted small">{t.statusReason}</div>}
    </>
  );
}

export function Tenants(props: { operator: Operator; toast: (text: string, kind?: "info" | "error") => void }) {
  const { operator } = props;
  const [tenants, setTenants] = useState<TenantRow[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [shards, setShards] = useState<Shard[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<Created | null>(null);
  const [dialog, setDialog] = useState<{ action: TenantAction; tenant: TenantRow } | null>(null);
  const [loadedAt, setLoadedAt] = useState<number | null>(null);

  const load = async (after?: string) => {
    setLoading(true);
    try {
      const q = new URLSearchParams({ limit: String(PAGE) });
      if (after) q.set("after", after);
      const [page, sh] = await Promise.all([operator.call<TenantPage>("GET", `/api/platform/v1/tenants?${q}`), after ? Promise.resolve(null) : operator.call<{ shards: Shard[] }>("GET", "/api/platform/v1/shards")]);
      setTenants((list) => (after ? [...(list ?? []), ...page.tenants] : page.tenants));
      setNext(page.next);
      if (sh) setShards(sh.shards);
      setLoadedAt(Date.now());
      setError(null);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    void load();
  }, [operator]);

  const resume = async (t: TenantRow) => {
    try {
      const now = await operator.call<TenantRow>("POST", tenantPath(t.id, "/resume"), {});
      setTenants((list) => list?.map((x) => (x.id === t.id ? now : x)) ?? null);
      props.toast(`Resumed ${t.id}`);
    } catch (e) {
      props.toast(`Could not resume ${t.id}: ${errorText(e)}`, "error");
    }
  };

  const done = (before: TenantRow, now: TenantRow | null, text: string) => {
    setDialog(null);
    setTenants((list) => (now ? (list?.map((x) => (x.id === before.id ? now : x)) ?? null) : (list?.filter((x) => x.id !== before.id) ?? null)));
    props.toast(text);
    // Shard counts change with a move or a delete.
    if (!now || now.shard !== before.shard) void operator.call<{ shards: Shard[] }>("GET", "/api/platform/v1/shards").then((r) => setShards(r.shards), () => {});
  };

  return (
    <section class="stack" aria-labelledby="tenants-title">
      <div class="row">
        <h2 id="tenants-title">Tenants</h2>
        {tenants && (
          <span class="muted small" role="status">
            {tenants.length}
            {next ? "+" : ""} {tenants.length === 1 ? "tenant" : "tenants"}
          </span>
        )}
        <span class="grow" />
        {loadedAt && <span class="muted small">Updated {new Date(loadedAt).toLocaleTimeString()}</span>}
        <button type="button" onClick={() => void load()} disabled={loading}>
          Refresh
        </button>
        <button type="button" class="primary" onClick={() => setCreating(true)} disabled={creating}>
          New tenant
        </button>
      </div>
      {shards.length > 0 && (
        <p class="muted small" data-shards>
          Shards:{" "}
          {shards.map((s, i) => (
            <span key={s.binding}>
              {i > 0 && " · "}
              {s.binding} ({s.jurisdiction}, {s.tenants} {s.tenants === 1 ? "tenant" : "tenants"})
            </span>
          ))}
        </p>
      )}
      {created && <CreatedPanel created={created} toast={props.toast} onDismiss={() => setCreated(null)} />}
      {creating && (
        <NewTenant
          operator={operator}
          shards={shards}
          onCancel={() => setCreating(false)}
          onCreated={(c) => {
            setCreating(false);
            setCreated(c);
            props.toast(`Created ${c.tenant.id}`);
            void load();
          }}
        />
      )}
      <ErrorLine text={error} />
      <div class="card">
        {tenants === null ? (
          <p class="muted">{error ? "" : "Loading the tenants…"}</p>
        ) : tenants.length === 0 ? (
          <p class="muted">No tenants yet.</p>
        ) : (
          <table aria-labelledby="tenants-title">
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Name</th>
                <th scope="col">Shard</th>
                <th scope="col">Jurisdiction</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">Interactions</th>
                <th scope="col" class="num">Storage</th>
                <th scope="col" class="num">Agents</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {tenants.map((t) => {
                const busy = t.status === "deleting" || !!t.movingTo;
                return (
                  <tr key={t.id} data-tenant={t.id}>
                    <td>
                      <code>{t.id}</code>
                    </td>
                    <td>{t.name}</td>
                    <td>{t.shard}</td>
                    <td>{t.jurisdiction}</td>
                    <td>
                      <Status t={t} />
                    </td>
                    <td class="num">{num(t.usage?.interactions)}</td>
                    <td class="num">{t.usage ? bytes(t.usage.storageBytes) : "–"}</td>
                    <td class="num">{num(t.usage?.agents)}</td>
                    <td class="small">{time(t.createdAt)}</td>
                    <td class="actions">
                      {t.status === "suspended" ? (
                        <button type="button" onClick={() => void resume(t)} aria-label={`Resume ${t.id}`} disabled={busy}>
                          Resume
                        </button>
                      ) : (
                        <button type="button" onClick={() => setDialog({ action: "suspend", tenant: t })} aria-label={`Suspend ${t.id}`} disabled={busy}>
                          Suspend
                        </button>
                      )}
                      <button type="button" onClick={() => setDialog({ action: "move", tenant: t })} aria-label={`Move ${t.id}`} disabled={busy}>
                        Move
                      </button>
                      <button type="button" class="danger" onClick={() => setDialog({ action: "delete", tenant: t })} aria-label={`Delete ${t.id}`} disabled={t.movingTo !== null}>
                        Delete
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        {next && (
          <div class="row end">
            <button type="button" onClick={() => void load(next)} disabled={loading}>
              Load more
            </button>
          </div>
        )}
      </div>
      {dialog && (
        <TenantDialog
          operator={operator}
          action={dialog.action}
          tenant={dialog.tenant}
          shards={shards}
          onClose={() => setDialog(null)}
          onDone={(now, text) => done(dialog.tenant, now, text)}
        />
      )}
    </section>
  );
}
