// An operator's action on one tenant, in a dialog so nothing happens on a stray click: suspend (with
// the reason senders are told), move to another shard of its jurisdiction, or delete (its id typed
// again). A refusal is shown in the server's words.
import { useState } from "preact/hooks";
import { ApiError, errorText } from "../shared/api.ts";
import { ErrorLine, Modal, useSubmit } from "../shared/ui.tsx";
import { tenantPath, type Operator } from "./operator.ts";
import type { Shard, TenantRow } from "./types.ts";

export type TenantAction = "suspend" | "move" | "delete";

const TITLE: Record<TenantAction, string> = { suspend: "Suspend tenant", move: "Move tenant", delete: "Delete tenant" };

export function TenantDialog(props: {
  operator: Operator;
  action: TenantAction;
  tenant: TenantRow;
  shards: Shard[];
  /** After it is done: the tenant as it is now (null when deleted) and a line for the toast. */
  onDone: (tenant: TenantRow | null, text: string) => void;
  onClose: () => void;
}) {
  const { action, tenant } = props;
  const targets = props.shards.filter((s) => s.jurisdiction === tenant.jurisdiction && s.binding !== tenant.shard);
  const [reason, setReason] = useState("");
  const [shard, setShard] = useState(targets[0]?.binding ?? "");
  const [confirm, setConfirm] = useState("");
  const { busy, error, submit } = useSubmit(async () => {
    if (action === "suspend") {
      const t = await props.operator.call<TenantRow>("POST", tenantPath(tenant.id, "/suspend"), reason.trim() ? { reason: reason.trim() } : {});
      props.onDone(t, `Suspended ${tenant.id}`);
    } else if (action === "move") {
      await props.operator.call("POST", tenantPath(tenant.id, "/move"), { shard });
      const t = await props.operator.call<TenantRow>("GET", tenantPath(tenant.id));
      props.onDone(t, `Moved ${tenant.id} to ${t.shard}`);
    } else {
      await props.operator.call("DELETE", tenantPath(tenant.id, `?confirm=${encodeURIComponent(confirm)}`));
      props.onDone(null, `Deleted ${tenant.id} and everything it held`);
    }
  }, (err) => (err instanceof ApiError && err.code ? `${errorText(err)} (${err.code})` : errorText(err)));

  const ready = action === "move" ? shard !== "" : action === "delete" ? confirm === tenant.id : true;
  return (
    <Modal title={TITLE[action]} onClose={props.onClose}>
      <form onSubmit={submit} data-tenant-dialog={action}>
        <p class="small">
          <strong>{tenant.name}</strong>{" "}
          <span class="muted">
            · {tenant.id} · on {tenant.shard} ({tenant.jurisdiction})
          </span>
        </p>
        {action === "suspend" && (
          <>
            <p class="small">Mail is refused at SMTP time with the reason below, webhooks get 503 (providers retry), the API and chat 403. Nothing it holds is touched; Resume opens its doors again.</p>
            <label>
              Reason (optional; for operators, not shown to senders)
              <input name="reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} maxLength={300} autofocus />
            </label>
          </>
        )}
        {action === "move" &&
          (targets.length ? (
            <>
              <p class="small">Its history is copied to the new shard, verified, then switched; writes arriving meanwhile are held and land on the new shard.</p>
              <label>
                Target shard
                <select name="shard" value={shard} onChange={(e) => setShard(e.currentTarget.value)}>
                  {targets.map((s) => (
                    <option key={s.binding} value={s.binding}>
                      {s.binding} ({s.tenants} {s.tenants === 1 ? "tenant" : "tenants"})
                    </option>
                  ))}
                </select>
              </label>
            </>
          ) : (
            <p class="muted">No other shard in jurisdiction {tenant.jurisdiction}.</p>
          ))}
        {action === "delete" && (
          <>
            <p class="bad small">
              <strong>This cannot be undone.</strong> The tenant and everything it holds go: interactions, contacts, files, agents, its config and keys.
            </p>
            <label>
              Type {tenant.id} to confirm
              <input name="confirm" value={confirm} onInput={(e) => setConfirm(e.currentTarget.value)} autocomplete="off" autocapitalize="off" spellcheck={false} autofocus />
            </label>
          </>
        )}
        <ErrorLine text={error} />
        <div class="row end">
          <button type="button" onClick={props.onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" class={action === "move" ? "primary" : "danger"} disabled={busy || !ready}>
            {busy ? "Working…" : action === "suspend" ? "Suspend" : action === "move" ? "Move" : "Delete for good"}
          </button>
        </div>
      </form>
    </Modal>
  );
}
