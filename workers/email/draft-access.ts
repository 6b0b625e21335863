// Drafts are their author's: an agent sees only their own unsent replies, on every route that shows
// an interaction or a thread; supervisors and admins see everyone's (as GET /api/v1/replies?author=).
// Replies in QA review stay visible: reviewers, agents among them, work them.
import type { Caller } from "../http/api.ts";
import { notFound } from "../kernel/errors.ts";

/** Email statuses of a reply its author is still writing (claimed: being sent this instant). */
export const DRAFT_STATUSES = ["draft", "claimed"] as const;
const IN_DRAFT = `(${DRAFT_STATUSES.map((s) => `'${s}'`).join(", ")})`;

/** Whose drafts the caller may not see: null for supervisors, admins and systems; else the agent, who sees only their own. */
export const draftsHiddenFrom = (c: Caller): string | null => (c.kind === "user" && c.role === "agent" ? c.agentId : null);

/** A SQL condition on the emails table (alias `e.` if given) hiding others' drafts from an agent; bind the agent id once. */
export const othersDraftsHidden = (alias = "") => ` AND NOT (${alias}status IN ${IN_DRAFT} AND ${alias}author IS NOT ?)`;

/** Someone else's draft is not found for an agent, as another tenant's interaction is not. */
export async function assertNotOthersDraft(db: D1Database, tenant: string, c: Caller, interactionId: string): Promise<void> {
  const agent = draftsHiddenFrom(c);
  if (agent === null) return;
  const row = await db
    .prepare(`SELECT 1 AS x FROM emails WHERE tenant_id = ? AND interaction_id = ? AND direction = 'outbound' AND status IN ${IN_DRAFT} AND author IS NOT ? LIMIT 1`)
    .bind(tenant, interactionId, agent)
    .first<{ x: number }>();
  if (row) throw notFound("unknown_interaction", `no interaction '${interactionId}'`);
}
