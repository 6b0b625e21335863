// One email as a reviewer reads it: who, to whom, subject, the text, and the HTML version only
// inside a sandboxed frame (no scripts, no same-origin), never in the page.
import type { Auth } from "../shared/api.ts";
import { showAddress as formatAddress, showAddresses as formatAddresses } from "../shared/addresses.ts";
import { bytes, time } from "../shared/format.ts";
import { MailBody } from "../shared/MailBody.tsx";
import type { EmailMessage } from "../shared/types.ts";

export function MailView(props: { auth: Auth; mail: EmailMessage; label?: string }) {
  const m = props.mail;
  return (
    <article class={`mail ${m.direction}`} data-mail={m.id} data-direction={m.direction}>
      <header>
        {props.label && <div class="mail-label">{props.label}</div>}
        <div>
          <strong>{m.subject ?? "(no subject)"}</strong>
        </div>
        <div class="small">
          <span class="muted">From</span> {m.from ? formatAddress(m.from) : "–"}
          <span class="muted"> · To</span> <span data-field="to">{formatAddresses(m.to) || "–"}</span>
          {m.cc.length > 0 && (
            <>
              <span class="muted"> · Cc</span> <span data-field="cc">{formatAddresses(m.cc)}</span>
            </>
          )}
        </div>
        <div class="small muted">
          {time(m.date ?? m.createdAt)} · {m.status}
          {m.author ? ` · by ${m.author}` : ""}
        </div>
      </header>
      <MailBody auth={props.auth} message={m} />
      {m.attachments.length > 0 && (
        <div class="attachments small">
          {m.attachments.map((a) => (
            <span key={a.id} class="badge">
              {a.name ?? "attachment"} ({bytes(a.size)})
            </span>
          ))}
        </div>
      )}
    </article>
  );
}
