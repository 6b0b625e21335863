// Offer toasts: what is offered, from which queue, a countdown to the offer's timeout, accept and
// reject (Alt+A / Alt+R act on the oldest offer).
import { useState } from "preact/hooks";
import { errorText, type Auth } from "../shared/api.ts";
import { mediaLabel } from "../shared/format.ts";
import { ChannelIcon } from "../shared/social.tsx";
import type { WorkView } from "../shared/types.ts";
import { useTick } from "../shared/ui.tsx";

export function Offers(props: { auth: Auth; offers: WorkView[]; onAccepted: (id: string) => void; onChange: () => void; toast: (t: string, k?: "info" | "error") => void }) {
  const now = useTick(250);
  // One answer per offer: a double click must not accept twice (or accept, then reject).
  const [answering, setAnswering] = useState<string | null>(null);
  if (props.offers.length === 0) return null;
  const act = async (o: WorkView, what: "accept" | "reject") => {
    if (answering === o.interactionId) return;
    setAnswering(o.interactionId);
    try {
      await actOnOffer(props.auth, o.interactionId, what);
      if (what === "accept") props.onAccepted(o.interactionId);
    } catch (e) {
      props.toast(errorText(e), "error");
    } finally {
      setAnswering(null);
    }
    props.onChange();
  };
  return (
    <div class="offers" aria-live="assertive">
      {props.offers.map((o) => {
        const total = (o.expiresAt ?? o.offeredAt) - o.offeredAt;
        const left = Math.max(0, (o.expiresAt ?? now) - now);
        return (
          <div class="offer" role="alertdialog" aria-label={`New ${mediaLabel[o.media]}`} key={o.interactionId} data-offer={o.interactionId}>
            <div class="row">
              <ChannelIcon channel={String(o.item.attributes?.channel ?? "")} />
              <strong class="grow">New {mediaLabel[o.media] ?? o.media}</strong>
              <span class="badge">{o.queue}</span>
            </div>
            <p class="title">{o.item.subject ?? "(no subject)"}</p>
            {o.item.categories.length > 0 && <p class="small muted">{o.item.categories.join(", ")}</p>}
            <progress max={total || 1} value={left} aria-label="Time left to answer" />
            <div class="row">
              <span class="small muted grow">{Math.ceil(left / 1000)} s</span>
              <button type="button" disabled={answering === o.interactionId} onClick={() => act(o, "reject")}>
                Reject
              </button>
              <button type="button" class="primary" disabled={answering === o.interactionId} onClick={() => act(o, "accept")}>
                Accept
              </button>
            </div>
          </div>
        );
      })}
    </div>
  );
}

export const actOnOffer = (auth: Auth, id: string, what: "accept" | "reject") => auth.post(`/api/v1/interactions/${id}/${what}`);
