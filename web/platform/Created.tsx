// A new tenant's keys and its admin's password, shown this once: the server keeps only their hashes.
// They live in this component's memory only (never in storage) and go when it is dismissed.
import { useState } from "preact/hooks";
import type { Created } from "./types.ts";

function Secret(props: { label: string; value: string; onCopy: (label: string) => void }) {
  const copy = () => {
    navigator.clipboard?.writeText(props.value).then(
      () => props.onCopy(props.label),
      () => {},
    );
  };
  return (
    <>
      <dt>{props.label}</dt>
      <dd>
        <code data-secret={props.label}>{props.value}</code>{" "}
        {typeof navigator.clipboard?.writeText === "function" && (
          <button type="button" class="link" onClick={copy} aria-label={`Copy the ${props.label.toLowerCase()}`}>
            Copy
          </button>
        )}
      </dd>
    </>
  );
}

export function CreatedPanel(props: { created: Created; onDismiss: () => void; toast: (text: string) => void }) {
  const { tenant, keys, admin, signIn } = props.created;
  const [sure, setSure] = useState(false);
  return (
    <section class="card stack" role="region" aria-labelledby="created-title" data-created={tenant.id}>
      <h2 id="created-title">Tenant {tenant.id} created</h2>
      <p class="warn" role="note">
        <strong>Shown only once.</strong> Parley stores only hashes of these keys and of this password: copy them somewhere safe now, they cannot be shown again. (A lost key or password is replaced by the tenant's admin, not recovered.)
      </p>
      <dl class="facts">
        <dt>Tenant</dt>
        <dd>
          {tenant.name} · {tenant.shard} · {tenant.jurisdiction}
        </dd>
        <Secret label="Ingest key" value={keys.ingest} onCopy={(l) => props.toast(`${l} copied`)} />
        <Secret label="Read key" value={keys.read} onCopy={(l) => props.toast(`${l} copied`)} />
        <Secret label="Admin login" value={admin.login} onCopy={(l) => props.toast(`${l} copied`)} />
        <Secret label="Admin password" value={admin.password} onCopy={(l) => props.toast(`${l} copied`)} />
      </dl>
      <p>
        <a href={signIn} target="_blank" rel="noopener noreferrer">
          Sign in as {admin.login}
        </a>{" "}
        <span class="muted small">(the supervisor console, in a new tab, with the tenant and login filled in)</span>
      </p>
      <div class="row end">
        <label class="inline">
          <input type="checkbox" checked={sure} onChange={(e) => setSure(e.currentTarget.checked)} />I have saved them
        </label>
        <button type="button" onClick={props.onDismiss} disabled={!sure}>
          Hide them for good
        </button>
      </div>
    </section>
  );
}
