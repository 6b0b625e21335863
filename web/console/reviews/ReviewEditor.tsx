// The reviewer's edit of a reply before approving it: recipients, subject and text. Only what
// changed is sent, so an untouched field keeps the author's version exactly.
import { useState } from "preact/hooks";
import type { Address, EmailMessage } from "../../shared/types.ts";
import { ErrorLine } from "../../shared/ui.tsx";
import { parseAddresses, sameAddresses, showAddresses as formatAddresses } from "../../shared/addresses.ts";

export interface Edit {
  to?: Address[];
  cc?: Address[];
  subject?: string;
  text?: string;
}

export function ReviewEditor(props: { draft: EmailMessage; busy: boolean; onApprove: (edit: Edit) => void; onCancel: () => void }) {
  const d = props.draft;
  const [to, setTo] = useState(formatAddresses(d.to));
  const [cc, setCc] = useState(formatAddresses(d.cc));
  const [subject, setSubject] = useState(d.subject ?? "");
  const [text, setText] = useState(d.text);
  const [error, setError] = useState<string | null>(null);

  const submit = (e: Event) => {
    e.preventDefault();
    let t: Address[], c: Address[];
    try {
      t = parseAddresses(to);
    } catch (err) {
      return setError(`To: ${(err as Error).message}`);
    }
    try {
      c = parseAddresses(cc);
    } catch (err) {
      return setError(`Cc: ${(err as Error).message}`);
    }
    if (t.length === 0) return setError("To: at least one recipient");
    if (!subject.trim()) return setError("Subject: cannot be empty");
    setError(null);
    const edit: Edit = {};
    if (!sameAddresses(t, d.to)) edit.to = t;
    if (!sameAddresses(c, d.cc)) edit.cc = c;
    if (subject !== (d.subject ?? "")) edit.subject = subject;
    if (text !== d.text) edit.text = text;
    props.onApprove(edit);
  };

  return (
    <form class="card editor" onSubmit={submit} aria-label="Edit the reply">
      <label>
        To
        <input name="to" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
      </label>
      <label>
        Cc
        <input name="cc" value={cc} onInput={(e) => setCc(e.currentTarget.value)} />
      </label>
      <label>
        Subject
        <input name="subject" value={subject} maxLength={998} onInput={(e) => setSubject(e.currentTarget.value)} />
      </label>
      <label>
        Text
        <textarea name="text" class="tall" value={text} onInput={(e) => setText(e.currentTarget.value)} />
      </label>
      {d.html && text !== d.text && <p class="warn small">The edited text replaces the formatted (HTML) version: the customer gets plain text.</p>}
      <ErrorLine text={error} />
      <div class="row end">
        <button type="button" onClick={props.onCancel}>Cancel edit</button>
        <button type="submit" class="primary" disabled={props.busy}>Approve with edits</button>
      </div>
    </form>
  );
}
