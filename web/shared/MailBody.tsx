// One email's body, in the agent's thread and the reviewer's inbox. HTML (sanitized by the server when stored) is shown only inside a sandboxed
// frame with no permissions at all: no scripts, no forms, no navigation of the desktop, an opaque
// origin; the page's CSP applies there too. Inline cid: images, which the API serves only with a
// token, are fetched here and put in as data: URLs; remote images stay blocked (tracking pixels).
import { useEffect, useState } from "preact/hooks";
import type { Auth } from "./api.ts";
import type { EmailMessage } from "./types.ts";

const FRAME_CSS = "<style>body{font:14px/1.45 system-ui,sans-serif;margin:8px;color:#1d2330;word-break:break-word}img{max-width:100%}</style>";

async function withInlineImages(auth: Auth, m: EmailMessage): Promise<string> {
  let html = m.html ?? "";
  for (const a of m.attachments) {
    if (!a.contentId || !html.includes(a.url)) continue;
    const data = await auth.dataUrl(a.url).catch(() => null);
    html = html.split(a.url).join(data ?? "");
  }
  return html;
}

export function MailBody(props: { auth: Auth; message: EmailMessage }) {
  const m = props.message;
  const [mode, setMode] = useState<"html" | "text">(m.html ? "html" : "text");
  const [doc, setDoc] = useState<string | null>(null);
  useEffect(() => {
    if (!m.html) return;
    void withInlineImages(props.auth, m).then((h) => setDoc(`<!doctype html><meta charset="utf-8">${FRAME_CSS}${h}`));
  }, [m.id]);
  return (
    <div>
      {m.html && (
        <div class="row small">
          <button type="button" class="link" aria-pressed={mode === "html"} onClick={() => setMode("html")}>
            Formatted
          </button>
          <button type="button" class="link" aria-pressed={mode === "text"} onClick={() => setMode("text")}>
            Plain text
          </button>
        </div>
      )}
      {mode === "html" && doc !== null ? (
        <iframe
          title={`Message from ${m.from?.addr ?? "the customer"}`}
          sandbox=""
          referrerpolicy="no-referrer"
          srcdoc={doc}
          onLoad={(e) => {
            // An opaque-origin frame cannot be measured from here; give it room instead.
            e.currentTarget.classList.add("loaded");
          }}
        />
      ) : (
        <pre class="plain" data-field="text">{m.text || (m.automatic ? "(automatic message)" : "(no text)")}</pre>
      )}
    </div>
  );
}
