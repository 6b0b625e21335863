// The desk's copy of the agent's state, as pure logic (no DOM, no Preact) so the workerd suite can
// feed it the messages a real agent socket sends: the socket's hello and status replace it whole,
// its pushes patch it, and a REST read of GET /api/v1/me may replace it too.
import type { DeskFrame } from "../../workers/protocol/desk.ts";
import type { AgentStatus } from "../shared/types.ts";

/** One socket message applied to the state (null until the first hello). */
export function applyEvent(s: AgentStatus | null, e: DeskFrame): AgentStatus | null {
  switch (e.type) {
    case "hello":
    case "status":
      return e.status;
    case "state":
      return s ? { ...s, snapshot: e.snapshot, presence: e.presence } : s;
    case "offer":
      return s ? { ...s, offers: [...s.offers.filter((x) => x.interactionId !== e.offer.interactionId), e.offer] } : s;
    case "offer_revoked":
      return s ? { ...s, offers: s.offers.filter((x) => x.interactionId !== e.interactionId) } : s;
    case "work":
      return s ? { ...s, offers: s.offers.filter((x) => x.interactionId !== e.work.interactionId), work: [...s.work.filter((x) => x.interactionId !== e.work.interactionId), e.work] } : s;
    case "work_removed":
      return s ? { ...s, work: s.work.filter((x) => x.interactionId !== e.interactionId) } : s;
    default:
      return s;
  }
}

export class LiveState {
  status: AgentStatus | null = null;
  /** Socket messages applied so far. */
  private pushes = 0;

  /** A message from the desktop socket; answers the state to show. */
  push(e: DeskFrame): AgentStatus | null {
    this.pushes++;
    this.status = applyEvent(this.status, e);
    return this.status;
  }

  /** Call as a REST read of the whole state starts; the function it answers applies that read's
   *  answer and answers the state to show. The answer is dropped if a socket message came while
   *  the read was in flight: the answer may then be older than what the socket said (an offer
   *  pushed after the server answered would be wiped), and whatever changed after the socket's
   *  last message is pushed too, so the socket's state is never behind. */
  read(): (s: AgentStatus) => AgentStatus | null {
    const at = this.pushes;
    return (s) => {
      if (this.pushes === at) this.status = s;
      return this.status;
    };
  }
}
