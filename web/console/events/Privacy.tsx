// Data-protection requests (admins): find the person, export what Parley holds about them as one
// archive, or erase it everywhere and keep the signed receipt (docs/privacy.md).
import { useState } from "preact/hooks";
import { errorText } from "../../shared/api.ts";
import { ErrorLine } from "../../shared/ui.tsx";
import type { ConsoleProps } from "../props.ts";

interface Hit {
  kind: string;
  ref: string;
  contactId: string | null;
  snippet: string;
}

interface Contact {
  id: string;
  firstName: string | null;
  lastName: string | null;
  identifiers: { kind: string; value: string }[];
  interactions: unknown[];
}

interface Erasure {
  erasure: string;
  state: "running" | "waiting" | "done";
  waitingFor?: { id: string; state: string }[];
  removed: Record<string, number>;
  receipt?: Record<string, unknown>;
}

export function Privacy(props: ConsoleProps) {
  const [q, setQ] = useState("");
  const [hits, setHits] = useState<Hit[]>([]);
  const [contact, setContact] = useState<Contact | null>(null);
  const [link, setLink] = useState<{ url: string; files: number; interactions: number; expiresAt: string } | null>(null);
  const [confirm, setConfirm] = useState("");
  const [erasure, setErasure] = useState<Erasure | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    try {
      await fn();
      setError(null);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const find = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const term = q.trim();
      setContact(null);
      setLink(null);
      setErasure(null);
      // A contact id opens it directly; anything else is a search over names, addresses and messages.
      if (/^c_[\w-]+$/.test(term)) return open(term);
      const r = await props.auth.get<{ results: Hit[] }>(`/api/v1/search?q=${encodeURIComponent(term)}&limit=20`);
      setHits(r.results.filter((h) => h.contactId));
    });
  };
  const open = async (id: string) => {
    setHits([]);
    setContact(await props.auth.get<Contact>(`/api/v1/contacts/${encodeURIComponent(id)}`));
  };
  const exportIt = () => void run(async () => setLink(await props.auth.post(`/api/v1/admin/contacts/${encodeURIComponent(contact!.id)}/export`)));
  const erase = () =>
    void run(async () => {
      setErasure(await props.auth.post<Erasure>(`/api/v1/admin/contacts/${encodeURIComponent(contact!.id)}/erase`));
      setConfirm("");
      props.toast("Erasure started");
    });
  const name = contact ? [contact.firstName, contact.lastName].filter(Boolean).join(" ") || "(no name)" : "";
  return (
    <section class="stack" aria-labelledby="privacy-title">
      <h2 id="privacy-title">Data protection</h2>
      <p class="muted small">Export a person's data as one archive, or erase it from every store with a signed receipt. Both are in the audit log.</p>
      <form class="row wrap" aria-label="Find a contact" onSubmit={find}>
        <label class="grow">
          Contact
          <input value={q} required placeholder="a name, an address, a phone number, or a contact id" onInput={(e) => setQ(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={busy}>Find</button>
      </form>
      <ErrorLine text={error} />
      {hits.length > 0 && (
        <ul class="stack" aria-label="Matching contacts">
          {[...new Map(hits.map((h) => [h.contactId!, h])).values()].map((h) => (
            <li key={h.contactId} class="row">
              <button type="button" onClick={() => void run(() => open(h.contactId!))}>{h.contactId}</button>
              <span class="small muted">{h.snippet}</span>
            </li>
          ))}
        </ul>
      )}
      {contact && (
        <article class="card stack" aria-label={`Contact ${contact.id}`} data-contact={contact.id}>
          <div class="row">
            <strong class="grow">{name}</strong>
            <span class="small mono">{contact.id}</span>
          </div>
          <div class="small">{contact.identifiers.map((i) => `${i.kind}: ${i.value}`).join(" · ")}</div>
          <div class="small muted">{contact.interactions.length} recent interaction(s)</div>
          <div class="row wrap">
            <button type="button" disabled={busy} onClick={exportIt}>Export</button>
            <label>
              Type ERASE to confirm
              <input value={confirm} onInput={(e) => setConfirm(e.currentTarget.value)} aria-label="Type ERASE to confirm" />
            </label>
            <button type="button" class="danger" disabled={busy || confirm !== "ERASE"} onClick={erase}>Erase everywhere</button>
          </div>
          {link && (
            <p role="status" data-export>
              Archive ready ({link.interactions} interactions, {link.files} files): <a href={link.url} download>download</a>, until {new Date(link.expiresAt).toLocaleString()}.
            </p>
          )}
          {erasure && (
            <div role="status" class="stack" data-erasure={erasure.state}>
              <div>
                Erasure {erasure.erasure}: <strong>{erasure.state}</strong>
                {erasure.waitingFor?.length ? ` (waiting for ${erasure.waitingFor.map((w) => `${w.id} (${w.state})`).join(", ")} to finish)` : ""}
              </div>
              <table class="data" aria-label="Removed">
                <tbody>
                  {Object.entries(erasure.removed).map(([k, v]) => (
                    <tr key={k}><td>{k.replaceAll("_", " ")}</td><td>{v}</td></tr>
                  ))}
                </tbody>
              </table>
              {erasure.receipt && <pre class="small mono" data-receipt>{JSON.stringify(erasure.receipt, null, 2)}</pre>}
            </div>
          )}
        </article>
      )}
    </section>
  );
}
