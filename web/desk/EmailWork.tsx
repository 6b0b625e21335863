// An email or web-form interaction: the whole thread (in and out, with delivery state and
// attachments), then the reply editor.
import { useEffect, useState } from "preact/hooks";
import { errorText } from "../shared/api.ts";
import { bytes, time } from "../shared/format.ts";
import type { Address, EmailMessage, Interaction } from "../shared/types.ts";
import { ErrorLine } from "../shared/ui.tsx";
import { MailBody } from "../shared/MailBody.tsx";
import type { DeskProps } from "./props.ts";
import { ReplyEditor } from "./ReplyEditor.tsx";

const who = (a: Address | null | undefined) => (a ? (a.name ? `${a.name} <${a.addr}>` : a.addr) : "");
const list = (as: Address[]) => as.map(who).join(", ");

export function EmailWork(props: DeskProps & { interaction: Interaction }) {
  const { auth, interaction } = props;
  const [thread, setThread] = useState<EmailMessage[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    auth.get<{ messages: EmailMessage[] }>(`/api/v1/interactions/${interaction.id}/messages`).then(
      (r) => setThread(r.messages),
      (e: unknown) => setError(errorText(e)),
    );
  useEffect(() => {
    void load();
  }, [interaction.id, interaction.updatedAt]);
  const sent = (thread ?? []).filter((m) => !["draft", "claimed"].includes(m.status));
  const webform = interaction.media === "webform" || interaction.channel === "webform";
  return (
    <div class="stack">
      <ErrorLine text={error} />
      {webform && thread?.length === 0 && (
        <div class="mail">
          {interaction.parts.filter((p) => p.kind === "text").map((p) => (
            <pre class="plain" key={p.id}>
              {p.content}
            </pre>
          ))}
        </div>
      )}
      <div class="thread" aria-label="Thread">
        {sent.map((m) => (
          <article key={m.id} class={`mail ${m.direction}`} data-email={m.id}>
            <header>
              <div class="row">
                <strong class="grow">{m.direction === "inbound" ? who(m.from) : `Reply${m.author ? ` by ${m.author}` : ""}${m.automatic ? " (automatic)" : ""}`}</strong>
                <span class="small muted">{time(m.date ?? m.createdAt)}</span>
              </div>
              <div class="small muted">
                To {list(m.to)}
                {m.cc.length > 0 && ` · Cc ${list(m.cc)}`}
              </div>
              <div>{m.subject}</div>
              {m.direction === "outbound" && (
                <div class="small">
                  <span class={`badge ${m.status === "failed" ? "not_ready" : m.status === "done" ? "ready" : "busy"}`}>{m.status === "review" || m.status === "reviewing" ? "in QA review" : m.status}</span>
                  {m.delivery?.lastError && <span class="bad"> {m.delivery.lastError}</span>}
                </div>
              )}
              {m.flags.length > 0 && <div class="small warn">Flagged: {m.flags.join(", ")}</div>}
            </header>
            <MailBody auth={auth} message={m} />
            {m.attachments.length > 0 && (
              <div class="attachments" aria-label="Attachments">
                {m.attachments.map((a) => (
                  <button type="button" key={a.id} onClick={() => void auth.download(a.url, a.name ?? "attachment").catch((e: unknown) => props.toast(errorText(e), "error"))}>
                    {a.name ?? "attachment"} <span class="small muted">{bytes(a.size)}</span>
                  </button>
                ))}
              </div>
            )}
          </article>
        ))}
      </div>
      {interaction.direction === "inbound" && <ReplyEditor {...props} interaction={interaction} thread={thread ?? []} onSent={() => void load()} />}
    </div>
  );
}
