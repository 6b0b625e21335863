// The right column: who the customer is (identifiers, past interactions), a search over the
// whole contact history (the full-text index), and merging a duplicate contact into this one.
import { useEffect, useRef, useState } from "preact/hooks";
import { errorText } from "../shared/api.ts";
import { mediaLabel, time } from "../shared/format.ts";
import type { Contact, Interaction, SearchResult } from "../shared/types.ts";
import { ErrorLine, Modal } from "../shared/ui.tsx";
import type { DeskProps } from "./props.ts";

const nameOf = (c: { firstName: string | null; lastName: string | null }) => [c.firstName, c.lastName].filter(Boolean).join(" ") || "(no name)";

/** The snippet's hits come between [ and ]: shown bold, as text. */
function Snippet(props: { text: string }) {
  return (
    <span class="small">
      {props.text.split(/(\[[^\]]*\])/).map((s, i) => (s.startsWith("[") && s.endsWith("]") ? <mark key={i}>{s.slice(1, -1)}</mark> : s))}
    </span>
  );
}

export function ContactPanel(props: DeskProps & { contactId: string | null; interactionId: string | null }) {
  const { auth } = props;
  const [contactId, setContactId] = useState<string | null>(props.contactId);
  const [contact, setContact] = useState<Contact | null>(null);
  const [q, setQ] = useState("");
  const [results, setResults] = useState<SearchResult[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [viewing, setViewing] = useState<string | null>(null);
  const [merging, setMerging] = useState<SearchResult | null>(null);
  useEffect(() => setContactId(props.contactId), [props.contactId]);
  // Only the latest request's answer is shown: a slow one for another contact must not land last.
  const asked = useRef(0);
  const load = (id: string | null) => {
    const n = ++asked.current;
    if (!id) return setContact(null);
    void auth.get<Contact>(`/api/v1/contacts/${id}`).then(
      (c) => n === asked.current && setContact(c),
      (e: unknown) => n === asked.current && setError(errorText(e)),
    );
  };
  useEffect(() => load(contactId), [contactId]);
  const search = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      setResults((await auth.get<{ results: SearchResult[] }>(`/api/v1/search?q=${encodeURIComponent(q)}&limit=25`)).results);
    } catch (err) {
      setError(errorText(err));
    }
  };
  const merge = async (from: string) => {
    if (!contact) return;
    try {
      await auth.post(`/api/v1/contacts/${contact.id}/merge`, { from });
      props.toast("Contacts merged");
      setMerging(null);
      setResults((r) => r?.filter((x) => x.contactId !== from) ?? null);
      load(contact.id);
    } catch (e) {
      props.toast(errorText(e), "error");
    }
  };
  return (
    <>
      <section class="card stack" aria-label="Customer">
        <h2>Customer</h2>
        {!contact && <p class="muted small">No contact for this work.</p>}
        {contact && (
          <>
            <strong data-contact={contact.id}>{nameOf(contact)}</strong>
            {contact.mergedInto && <p class="small warn">Merged into {contact.mergedInto}</p>}
            <ul class="small">
              {contact.identifiers.map((i) => (
                <li key={`${i.kind}:${i.value}`}>
                  {i.kind}: {i.display ?? i.value}
                </li>
              ))}
            </ul>
            <h3>History ({contact.interactions.length})</h3>
            <ul class="list">
              {contact.interactions.map((i) => (
                <li key={i.id}>
                  <button type="button" onClick={() => setViewing(i.id)} aria-current={i.id === props.interactionId ? "true" : undefined}>
                    <span class="row">
                      <span class="badge">{mediaLabel[i.media] ?? i.media}</span>
                      <span class="small muted grow">{time(i.createdAt)}</span>
                      <span class="small">{i.state}</span>
                    </span>
                    <span class="title">{i.subject ?? "(no subject)"}</span>
                  </button>
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
      <section class="card stack" aria-label="History search">
        <form class="row" onSubmit={search} role="search">
          <input id="history-search" type="search" placeholder="Search contacts and messages (Alt+F)" aria-label="Search the contact history" value={q} onInput={(e) => setQ(e.currentTarget.value)} required class="grow" />
          <button type="submit">Search</button>
        </form>
        <ErrorLine text={error} onClose={() => setError(null)} />
        {results && results.length === 0 && <p class="muted small">Nothing found.</p>}
        {results && (
          <ul class="list" aria-label="Search results">
            {results.map((r) => (
              <li key={`${r.kind}:${r.ref}`}>
                <div class="stack">
                  <span class="row">
                    <span class="badge">{r.kind}</span>
                    <span class="grow" />
                    {r.kind === "message" && (
                      <button type="button" class="link" onClick={() => setViewing(r.ref)}>
                        Open
                      </button>
                    )}
                    {r.contactId && (
                      <button type="button" class="link" onClick={() => setContactId(r.contactId)}>
                        Contact
                      </button>
                    )}
                    {r.contactId && contact && r.contactId !== contact.id && (
                      <button type="button" class="link" onClick={() => setMerging(r)}>
                        Merge into current
                      </button>
                    )}
                  </span>
                  <Snippet text={r.snippet} />
                </div>
              </li>
            ))}
          </ul>
        )}
      </section>
      {viewing && <PastInteraction {...props} id={viewing} onClose={() => setViewing(null)} />}
      {merging && contact && (
        <Modal title="Merge contacts" onClose={() => setMerging(null)}>
          <p>
            Merge contact <strong>{merging.contactId}</strong> into <strong>{nameOf(contact)}</strong>? Its identifiers and interactions move to {nameOf(contact)}; this cannot be undone.
          </p>
          <div class="row end">
            <button type="button" onClick={() => setMerging(null)}>
              Cancel
            </button>
            <button type="button" class="primary" onClick={() => void merge(merging.contactId!)}>
              Merge
            </button>
          </div>
        </Modal>
      )}
    </>
  );
}

interface PastView extends Interaction {
  transcript?: { seq: number; name: string | null; text: string | null; visibility: string; kind: string }[];
}

function PastInteraction(props: DeskProps & { id: string; onClose: () => void }) {
  const [it, setIt] = useState<PastView | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void props.auth.get<PastView>(`/api/v1/interactions/${props.id}`).then(setIt, (e: unknown) => setError(errorText(e)));
  }, [props.id]);
  return (
    <Modal title={it?.subject ?? "Interaction"} onClose={props.onClose}>
      <ErrorLine text={error} />
      {it && (
        <div class="stack">
          <p class="small muted">
            {mediaLabel[it.media]} · {it.direction} · {it.state} · {time(it.createdAt)}
          </p>
          {it.parts.filter((p) => p.kind === "text").map((p) => (
            <pre class="plain" key={p.id}>
              {p.content}
            </pre>
          ))}
          {it.transcript?.map((m) => (
            <p key={m.seq} class={m.visibility === "staff" ? "staff" : ""}>
              <strong>{m.name ?? ""}</strong> {m.text}
            </p>
          ))}
          {it.notes.map((n) => (
            <p key={n.id} class="small">
              Note by {n.author.replace(/^agent:/, "")}: {n.text}
            </p>
          ))}
          <details>
            <summary>History ({it.history.length} events)</summary>
            <ul class="small">
              {it.history.map((h) => (
                <li key={h.seq}>
                  {time(h.at)} {h.action} {h.from ? `${h.from} → ` : ""}
                  {h.to ?? ""} {h.queue ? `(${h.queue})` : ""} by {h.actor}
                </li>
              ))}
            </ul>
          </details>
        </div>
      )}
    </Modal>
  );
}
