// Drafts are their author's: an agent sees only their own unsent replies, on every route that shows
// an interaction or a thread; supervisors and admins see everyone's (as GET /api/v1/replies?author=).
// Replies in QA review stay visible: reviewers, agents among them, work them.
import type { Caller } from "../http/api.ts";
import { notFound } from "../kernel/errors.ts";
import { othersDraftIn } from "../ucs/mail/drafts.ts";
import type { ThreadReader } from "../ucs/mail/emails.ts";

/** Whose drafts the caller may not see: null for supervisors, admins and systems; else the agent, who sees only their own. */
export const draftsHiddenFrom = (c: Caller): string | null => (c.kind === "user" && c.role === "agent" ? c.agentId : null);

/** How the caller reads a thread: a read-key caller (a system, not a person) sees only what was
 *  received or sent, an agent no one else's drafts. */
export function threadReaderOf(c: Caller): ThreadReader {
  if (c.kind !== "user") return { kind: "system" };
  const agent = draftsHiddenFrom(c);
  return agent !== null ? { kind: "agent", agentId: agent } : { kind: "all" };
}

/** Someone else's draft is not found for an agent, as another tenant's interaction is not. */
export async function assertNotOthersDraft(db: D1Database, tenant: string, c: Caller, interactionId: string): Promise<void> {
  const agent = draftsHiddenFrom(c);
  if (agent === null) return;
  if (await othersDraftIn(db, tenant, interactionId, agent)) throw notFound("unknown_interaction", `no interaction '${interactionId}'`);
}
