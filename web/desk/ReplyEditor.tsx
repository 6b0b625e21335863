// The reply editor: recipients (CC, BCC), subject, text; standard responses searchable by
// category with their field codes previewed for this customer; attachments; drafts saved on the
// server (so a reload or another device finds them); send, into QA review when the workflow says.
import { useEffect, useRef, useState } from "preact/hooks";
import { errorText } from "../shared/api.ts";
import { bytes } from "../shared/format.ts";
import type { Compose, EmailMessage, Interaction, StandardResponse } from "../shared/types.ts";
import { parseAddresses, showAddresses as show } from "../shared/addresses.ts";
import { ErrorLine, Modal } from "../shared/ui.tsx";
import type { DeskProps } from "./props.ts";
import { SuggestedResponses, useClassification } from "./Classification.tsx";

interface DraftRow {
  id: string;
  parent_id: string;
  last_note: string | null;
}

export function ReplyEditor(props: DeskProps & { interaction: Interaction; thread: EmailMessage[]; onSent: () => void }) {
  const { auth, interaction } = props;
  const [draftId, setDraftId] = useState<string | null>(null);
  const [returned, setReturned] = useState<string | null>(null);
  const [to, setTo] = useState("");
  const [cc, setCc] = useState("");
  const [bcc, setBcc] = useState("");
  const [showCc, setShowCc] = useState(false);
  const [subject, setSubject] = useState("");
  const [text, setText] = useState("");
  const [review, setReview] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState<"saved" | "dirty" | "new">("new");
  const [picker, setPicker] = useState(false);
  const classification = useClassification(auth, interaction.id);
  // Where a standard response goes: the caret's last place, else the top (above the quoted original).
  const caret = useRef(0);
  // Saves run one after another and read the draft's id from a ref, so a save on blur and a Send
  // right after it never create two drafts.
  const draftRef = useRef<string | null>(null);
  const saving = useRef<Promise<unknown>>(Promise.resolve());
  const draft = props.thread.find((m) => m.interactionId === draftId && m.direction === "outbound");

  // The editor opens once it knows where it starts: the agent's saved draft, or the compose template.
  const [ready, setReady] = useState(false);
  useEffect(() => {
    void (async () => {
      try {
        const { replies } = await auth.get<{ replies: DraftRow[] }>("/api/v1/replies?state=draft");
        const mine = replies.find((r) => r.parent_id === interaction.id);
        if (mine) {
          const { messages } = await auth.get<{ messages: EmailMessage[] }>(`/api/v1/interactions/${interaction.id}/messages`);
          const d = messages.find((m) => m.interactionId === mine.id && m.direction === "outbound");
          if (d) {
            setTo(show(d.to));
            setCc(show(d.cc));
            setBcc(show(d.bcc));
            setShowCc(d.cc.length + d.bcc.length > 0);
            setSubject(d.subject ?? "");
            setText(d.text);
          }
          draftRef.current = mine.id;
          setDraftId(mine.id);
          setReturned(mine.last_note);
          setSaved("saved");
        } else {
          const c = await auth.get<Compose>(`/api/v1/interactions/${interaction.id}/compose`);
          setTo(show(c.to));
          setCc(show(c.cc));
          setShowCc(c.cc.length > 0);
          setSubject(c.subject);
          setText(c.quoted ? `\n\n${c.quoted}` : "");
        }
        setReady(true);
      } catch (e) {
        setError(errorText(e));
      }
    })();
  }, [interaction.id]);

  const body = () => {
    const t = parseAddresses(to);
    if (t.length === 0) throw new Error("To: add at least one address");
    return { to: t, cc: parseAddresses(cc), bcc: parseAddresses(bcc), subject: subject.trim() || undefined, text };
  };

  const save = (): Promise<string> => {
    const b = body();
    const run = saving.current.catch(() => {}).then(async () => {
      const known = draftRef.current;
      if (known) {
        await auth.call("PUT", `/api/v1/replies/${known}`, b);
        setSaved("saved");
        return known;
      }
      const d = await auth.post<{ id: string }>(`/api/v1/interactions/${interaction.id}/replies`, { ...b, quote: false, send: false });
      draftRef.current = d.id;
      setDraftId(d.id);
      setSaved("saved");
      props.onSent(); // the thread now holds the draft (attachments are listed from it)
      return d.id;
    });
    saving.current = run;
    return run;
  };

  const guarded = async (f: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await f();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const send = () =>
    guarded(async () => {
      const id = await save();
      const r = await auth.post<{ state: string; review: boolean; why: string }>(`/api/v1/replies/${id}/send`, { review });
      props.toast(r.review ? `Sent to QA review (${r.why})` : "Sent: queued for delivery");
      draftRef.current = null;
      setDraftId(null);
      setText("");
      setSaved("new");
      setReturned(null);
      props.onSent();
    });

  const attach = (files: FileList | null) =>
    guarded(async () => {
      if (!files?.length) return;
      const id = await save();
      for (const f of Array.from(files)) {
        await auth.call("POST", `/api/v1/replies/${id}/attachments?name=${encodeURIComponent(f.name)}`, undefined, { raw: f, type: f.type || "application/octet-stream" });
      }
      props.onSent();
    });

  const removeAttachment = (partId: string) =>
    guarded(async () => {
      await auth.call("DELETE", `/api/v1/replies/${draftId}/attachments/${partId}`);
      props.onSent();
    });

  const insert = (t: string, subj: string | null) => {
    const at = caret.current;
    setText((cur) => cur.slice(0, at) + t + cur.slice(at));
    caret.current = at + t.length;
    if (subj && !subject) setSubject(subj);
    setSaved("dirty");
    setPicker(false);
  };

  const useResponse = (responseId: string) =>
    void guarded(async () => {
      const r = await auth.post<{ subject: string | null; text: string }>(`/api/v1/responses/${responseId}/render`, { interactionId: interaction.id });
      insert(r.text, r.subject);
    });

  const dirty = () => setSaved((s) => (s === "saved" ? "dirty" : s));
  if (!ready)
    return (
      <div class="card muted" aria-busy="true">
        {error ? <ErrorLine text={error} /> : "Opening the reply…"}
      </div>
    );
  return (
    <form class="card stack reply" aria-label="Reply" onSubmit={(e) => { e.preventDefault(); void send(); }}>
      <div class="row">
        <h3 class="grow">Reply</h3>
        <span class="small muted" data-draft={saved}>
          {saved === "saved" ? "Draft saved" : saved === "dirty" ? "Unsaved changes" : ""}
        </span>
      </div>
      {returned && <p class="error">Returned by QA: {returned}</p>}
      <label>
        To
        <input name="to" value={to} onInput={(e) => { setTo(e.currentTarget.value); dirty(); }} required />
      </label>
      {showCc ? (
        <div class="grid2">
          <label>
            Cc
            <input name="cc" value={cc} onInput={(e) => { setCc(e.currentTarget.value); dirty(); }} />
          </label>
          <label>
            Bcc
            <input name="bcc" value={bcc} onInput={(e) => { setBcc(e.currentTarget.value); dirty(); }} />
          </label>
        </div>
      ) : (
        <button type="button" class="link" onClick={() => setShowCc(true)}>
          Cc / Bcc
        </button>
      )}
      <label>
        Subject
        <input name="subject" value={subject} onInput={(e) => { setSubject(e.currentTarget.value); dirty(); }} maxLength={998} />
      </label>
      <SuggestedResponses c={classification} onUse={useResponse} />
      <label>
        Message
        <textarea name="text" rows={10} value={text} onInput={(e) => { setText(e.currentTarget.value); caret.current = e.currentTarget.selectionStart; dirty(); }} onSelect={(e) => (caret.current = e.currentTarget.selectionStart)} onBlur={() => {
          // Quietly, without disabling the buttons: the click that took the focus must still land.
          if (saved === "dirty") void save().catch((e: unknown) => setError(errorText(e)));
        }} />
      </label>
      {draft && draft.attachments.length > 0 && (
        <div class="attachments" aria-label="Attachments of the reply">
          {draft.attachments.map((a) => (
            <span key={a.id} class="badge">
              {a.name} ({bytes(a.size)})
              <button type="button" class="link" aria-label={`Remove ${a.name ?? "attachment"}`} onClick={() => void removeAttachment(a.id)}>
                ×
              </button>
            </span>
          ))}
        </div>
      )}
      <ErrorLine text={error} onClose={() => setError(null)} />
      <div class="row">
        <button type="button" onClick={() => setPicker(true)}>
          Standard responses
        </button>
        <label class="inline">
          Attach
          <input type="file" multiple aria-label="Attach files" onChange={(e) => void attach(e.currentTarget.files)} />
        </label>
        <span class="grow" />
        <label class="inline">
          <input type="checkbox" checked={review} onChange={(e) => setReview(e.currentTarget.checked)} />
          Ask for QA review
        </label>
        <button type="button" disabled={busy} onClick={() => void guarded(async () => void (await save()))}>
          Save draft
        </button>
        <button type="submit" class="primary" disabled={busy}>
          Send
        </button>
      </div>
      {picker && <ResponsePicker {...props} suggested={classification?.suggestions.map((x) => x.id) ?? []} onInsert={insert} onClose={() => setPicker(false)} />}
    </form>
  );
}

function ResponsePicker(props: DeskProps & { interaction: Interaction; suggested: string[]; onInsert: (text: string, subject: string | null) => void; onClose: () => void }) {
  const { auth } = props;
  const [all, setAll] = useState<StandardResponse[]>([]);
  const [category, setCategory] = useState("");
  const [q, setQ] = useState("");
  const [preview, setPreview] = useState<{ id: string; subject: string | null; text: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const t = setTimeout(() => {
      const p = new URLSearchParams();
      if (category) p.set("category", category);
      if (q) p.set("q", q);
      void auth.get<{ responses: StandardResponse[] }>(`/api/v1/responses?${p}`).then((r) => setAll(r.responses), (e: unknown) => setError(errorText(e)));
    }, 150);
    return () => clearTimeout(t);
  }, [category, q]);
  const [categories, setCategories] = useState<string[]>([]);
  useEffect(() => {
    void auth.get<{ responses: StandardResponse[] }>("/api/v1/responses").then((r) => setCategories([...new Set(r.responses.map((x) => x.category))].sort()));
  }, []);
  const open = (r: StandardResponse) =>
    void auth.post<{ id: string; subject: string | null; text: string }>(`/api/v1/responses/${r.id}/render`, { interactionId: props.interaction.id }).then(setPreview, (e: unknown) => setError(errorText(e)));
  return (
    <Modal title="Standard responses" onClose={props.onClose}>
      <div class="row">
        <select aria-label="Category" value={category} onChange={(e) => setCategory(e.currentTarget.value)}>
          <option value="">All categories</option>
          {categories.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
        <input type="search" aria-label="Search responses" placeholder="Search" value={q} onInput={(e) => setQ(e.currentTarget.value)} />
      </div>
      <ErrorLine text={error} />
      <ul class="list" aria-label="Responses">
        {rankSuggested(all.filter((r) => r.category !== "automatic"), props.suggested).map((r) => (
          <li key={r.id}>
            <button type="button" aria-current={preview?.id === r.id ? "true" : undefined} onClick={() => open(r)} data-response={r.id}>
              <span class="title">{r.name}</span>
              {props.suggested.includes(r.id) && <span class="badge suggestion">suggested</span>}
              <span class="small muted">{r.category}</span>
            </button>
          </li>
        ))}
      </ul>
      {preview && (
        <div class="card stack" aria-label="Preview">
          <p class="small muted">Preview, with the field codes filled in for this customer:</p>
          {preview.subject && <strong>{preview.subject}</strong>}
          <pre class="plain" data-preview="">{preview.text}</pre>
          <div class="row end">
            <button type="button" class="primary" onClick={() => props.onInsert(preview.text, preview.subject)}>
              Insert
            </button>
          </div>
        </div>
      )}
    </Modal>
  );
}

/** The classifier's suggestions first, in its order; the rest as the server listed them. */
function rankSuggested(list: StandardResponse[], suggested: string[]): StandardResponse[] {
  const rank = (r: StandardResponse) => (suggested.includes(r.id) ? suggested.indexOf(r.id) : suggested.length);
  return [...list].sort((a, b) => rank(a) - rank(b));
}
