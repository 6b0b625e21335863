// A new tenant: its id and name, its jurisdiction and shard (or the jurisdiction's least used), and
// its first admin. The server checks everything; its refusal is shown here in its own words.
import { useState } from "preact/hooks";
import { ApiError, errorText } from "../shared/api.ts";
import { useSubmit } from "../shared/ui.tsx";
import type { Operator } from "./operator.ts";
import { JURISDICTIONS, type Created, type Jurisdiction, type Shard } from "./types.ts";

export function NewTenant(props: { operator: Operator; shards: Shard[]; onCreated: (c: Created) => void; onCancel: () => void }) {
  const [id, setId] = useState("");
  const [name, setName] = useState("");
  const [jurisdiction, setJurisdiction] = useState<Jurisdiction>("eu");
  const [shard, setShard] = useState("");
  const [login, setLogin] = useState("admin");
  const [fullName, setFullName] = useState("");
  const shards = props.shards.filter((s) => s.jurisdiction === jurisdiction);

  const pickJurisdiction = (j: Jurisdiction) => {
    setJurisdiction(j);
    if (!props.shards.some((s) => s.binding === shard && s.jurisdiction === j)) setShard("");
  };

  const { busy, error, submit } = useSubmit(
    async () => {
      const body = {
        id: id.trim(),
        name: name.trim(),
        jurisdiction,
        ...(shard ? { shard } : {}),
        admin: { login: login.trim(), ...(fullName.trim() ? { fullName: fullName.trim() } : {}) },
      };
      props.onCreated(await props.operator.call<Created>("POST", "/api/platform/v1/tenants", body));
    },
    (err) => ({ message: errorText(err), issues: err instanceof ApiError && err.issues.length > 1 ? err.issues.map((i) => `${i.path}: ${i.message}`) : [] }),
  );

  return (
    <form class="card stack" onSubmit={submit} aria-labelledby="new-tenant-title" data-new-tenant>
      <h2 id="new-tenant-title">New tenant</h2>
      <div class="grid2">
        <label>
          Tenant id
          <input name="id" value={id} onInput={(e) => setId(e.currentTarget.value)} required maxLength={64} autocapitalize="off" spellcheck={false} autocomplete="off" aria-describedby="new-tenant-id-hint" />
          <span id="new-tenant-id-hint" class="muted small">
            1–64 lowercase letters, digits, '-' or '_'; it cannot be changed later
          </span>
        </label>
        <label>
          Tenant name
          <input name="name" value={name} onInput={(e) => setName(e.currentTarget.value)} required maxLength={200} autocomplete="off" />
        </label>
        <label>
          Jurisdiction
          <select name="jurisdiction" value={jurisdiction} onChange={(e) => pickJurisdiction(e.currentTarget.value as Jurisdiction)}>
            {JURISDICTIONS.map((j) => (
              <option key={j} value={j}>{j === "eu" ? "eu (data stays in the EU)" : "global"}</option>
            ))}
          </select>
        </label>
        <label>
          Shard
          <select name="shard" value={shard} onChange={(e) => setShard(e.currentTarget.value)}>
            <option value="">Automatic (the least used in {jurisdiction})</option>
            {shards.map((s) => (
              <option key={s.binding} value={s.binding}>
                {s.binding} ({s.tenants} {s.tenants === 1 ? "tenant" : "tenants"})
              </option>
            ))}
          </select>
        </label>
        <label>
          Admin login
          <input name="admin-login" value={login} onInput={(e) => setLogin(e.currentTarget.value)} required maxLength={64} autocapitalize="off" spellcheck={false} autocomplete="off" />
        </label>
        <label>
          Admin full name
          <input name="admin-name" value={fullName} onInput={(e) => setFullName(e.currentTarget.value)} maxLength={200} placeholder="the login when left empty" autocomplete="off" />
        </label>
      </div>
      {shards.length === 0 && <p class="warn small">No shard is configured in jurisdiction {jurisdiction}: the server will refuse this tenant.</p>}
      {error && (
        <div class="error" role="alert">
          <p>
            <strong>Not created.</strong> {error.message}
          </p>
          {error.issues.length > 0 && (
            <ul class="issues">
              {error.issues.map((t, i) => (
                <li key={i}>{t}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      <div class="row end">
        <button type="button" onClick={props.onCancel} disabled={busy}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Creating…" : "Create tenant"}
        </button>
      </div>
    </form>
  );
}
