// The open interaction: its header, the actions, notes, and the view for its media (chats are
// shown by the chat board beside it, which keeps every chat's socket open).
import { useEffect, useState } from "preact/hooks";
import { errorText } from "../shared/api.ts";
import { mediaLabel, time } from "../shared/format.ts";
import type { Interaction, WorkView } from "../shared/types.ts";
import { ErrorLine } from "../shared/ui.tsx";
import { Actions } from "./Actions.tsx";
import { CategoryChips, useClassification } from "./Classification.tsx";
import type { DeskFrame } from "./agent.ts";
import { CallbackWork } from "./CallbackWork.tsx";
import { EmailWork } from "./EmailWork.tsx";
import type { DeskProps } from "./props.ts";
import { SmsWork } from "./SmsWork.tsx";

export function Workspace(props: DeskProps & { work: WorkView; onClosed: () => void; events: DeskFrame | null }) {
  const { auth, work } = props;
  const [it, setIt] = useState<Interaction | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    auth.get<Interaction>(`/api/v1/interactions/${work.interactionId}`).then(setIt, (e: unknown) => setError(errorText(e)));
  useEffect(() => {
    void load();
  }, [work.interactionId]);
  useEffect(() => {
    const e = props.events;
    if (e?.type === "message_added" && e.interactionId === work.interactionId) void load();
  }, [props.events]);
  const isChat = work.media === "chat";
  return (
    <>
      <article class="card stack" aria-label="Interaction" data-interaction={work.interactionId}>
        <header class="row">
          <span class="badge">{mediaLabel[work.media] ?? work.media}</span>
          <h2 class="grow">{work.item.subject ?? it?.subject ?? "(no subject)"}</h2>
          <span class="small muted">
            {work.queue} · {it ? time(it.createdAt) : ""}
          </span>
        </header>
        {it && (it.categories.length > 0 || it.priority > 0) && (
          <p class="small muted">
            {it.categories.length > 0 && `Categories: ${it.categories.join(", ")} · `}Priority {it.priority}
          </p>
        )}
        <Suggestions {...props} />
        <Actions {...props} onNote={() => void load()} />
        <ErrorLine text={error} onClose={() => setError(null)} />
        {it && it.notes.length > 0 && (
          <details>
            <summary>Notes ({it.notes.length})</summary>
            <ul>
              {it.notes.map((n) => (
                <li key={n.id}>
                  <span class="small muted">
                    {n.author.replace(/^agent:/, "")}, {time(n.createdAt)}:
                  </span>{" "}
                  {n.text}
                </li>
              ))}
            </ul>
          </details>
        )}
        {!isChat && it && (work.media === "email" || work.media === "webform") && <EmailWork {...props} interaction={it} />}
        {!isChat && it && work.media === "sms" && <SmsWork {...props} interaction={it} />}
        {!isChat && it && work.media === "callback" && <CallbackWork {...props} interaction={it} onClosed={props.onClosed} />}
        {!isChat && it && work.media === "generic" && (
          <div>
            {it.parts.filter((p) => p.kind === "text").map((p) => (
              <pre class="plain" key={p.id}>
                {p.content}
              </pre>
            ))}
          </div>
        )}
      </article>
    </>
  );
}

function Suggestions(props: DeskProps & { work: WorkView }) {
  const c = useClassification(props.auth, props.work.interactionId);
  return c ? <CategoryChips c={c} /> : null;
}
