// One reply in QA review: the customer's message above, the reply below, and the reviewer's three
// ways out: approve, edit then approve, or return to the author with a comment.
import { useEffect, useState } from "preact/hooks";
import { errorText, type Auth } from "../../shared/api.ts";
import type { EmailMessage, Interaction } from "../../shared/types.ts";
import { ErrorLine } from "../../shared/ui.tsx";
import { MailView } from "../MailView.tsx";
import { ReviewEditor, type Edit } from "./ReviewEditor.tsx";

interface Loaded {
  reply: Interaction;
  draft: EmailMessage | null;
  original: EmailMessage | null;
}

async function load(auth: Auth, id: string): Promise<Loaded> {
  const path = `/api/v1/interactions/${encodeURIComponent(id)}`;
  const [reply, thread] = await Promise.all([auth.get<Interaction>(path), auth.get<{ messages: EmailMessage[] }>(`${path}/messages`)]);
  const draft = thread.messages.filter((m) => m.interactionId === id && m.direction === "outbound").at(-1) ?? null;
  // The message answered: the parent's own mail, else the last one in before the reply.
  const inbound = thread.messages.filter((m) => m.direction === "inbound" && (!draft || m.createdAt <= draft.createdAt));
  const original = inbound.filter((m) => m.interactionId === reply.parentId).at(-1) ?? inbound.at(-1) ?? null;
  return { reply, draft, original };
}

export function ReviewPane(props: { auth: Auth; id: string; onDone: (text: string) => void }) {
  const [data, setData] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [comment, setComment] = useState("");
  const [editing, setEditing] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    setData(null);
    setError(null);
    setEditing(false);
    setComment("");
    load(props.auth, props.id).then(
      (d) => live && setData(d),
      (e: unknown) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
    };
  }, [props.id]);

  const review = async (body: { action: "approve"; comment?: string; edit?: Edit } | { action: "return"; comment: string }, done: string) => {
    setBusy(true);
    setError(null);
    try {
      await props.auth.post(`/api/v1/replies/${encodeURIComponent(props.id)}/review`, body);
      props.onDone(done);
    } catch (e) {
      setError(errorText(e));
      setBusy(false);
    }
  };
  const note = comment.trim() || undefined;
  const subject = data?.draft?.subject ?? data?.reply.subject ?? "(no subject)";

  return (
    <div class="stack" data-review={props.id}>
      <ErrorLine text={error} />
      {!data && !error && <p class="muted">Loading…</p>}
      {data && (
        <>
          <p class="small muted">
            Reply by <strong>{data.draft?.author ?? data.reply.agentId ?? "?"}</strong> · {data.reply.id}
          </p>
          {data.original ? <MailView auth={props.auth} mail={data.original} label="The customer wrote" /> : <p class="muted small">The customer's message is not in this thread.</p>}
          {!data.draft ? (
            <p class="error">This reply has no message to review.</p>
          ) : editing ? (
            <ReviewEditor draft={data.draft} busy={busy} onCancel={() => setEditing(false)} onApprove={(edit) => void review({ action: "approve", comment: note, edit }, `Approved “${subject}” with your edits`)} />
          ) : (
            <MailView auth={props.auth} mail={data.draft} label="The reply" />
          )}
          <label>
            Comment <span class="small">(required to return; optional on approval)</span>
            <textarea name="comment" value={comment} maxLength={2000} onInput={(e) => setComment(e.currentTarget.value)} />
          </label>
          <div class="row end">
            {!editing && (
              <button type="button" disabled={busy || !data.draft} onClick={() => setEditing(true)}>
                Edit…
              </button>
            )}
            <button type="button" class="danger" disabled={busy || !note} onClick={() => void review({ action: "return", comment: note! }, `Returned “${subject}” to its author`)}>
              Return to author
            </button>
            {!editing && (
              <button type="button" class="primary" disabled={busy || !data.draft} onClick={() => void review({ action: "approve", comment: note }, `Approved “${subject}”: it is on its way`)}>
                Approve and send
              </button>
            )}
          </div>
        </>
      )}
    </div>
  );
}
