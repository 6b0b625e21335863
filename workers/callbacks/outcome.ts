// The agent's side of a web callback: each call attempt's outcome, then done, or scheduled again.
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import type * as z from "zod";
import type { AgentStatus } from "../../durable-objects/agent.ts";
import { agentStub } from "../../durable-objects/names.ts";
import { unwrap } from "../../durable-objects/result.ts";
import { getConfig } from "../config/store.ts";
import { badRequest, conflict, notFound } from "../kernel/errors.ts";
import { callbackAttempt, callbackRow } from "../ucs/callbacks.ts";
import { eventStatements } from "../ucs/events.ts";
import { addNote, getInteractionRow } from "../ucs/interactions.ts";
import { iso } from "./customer.ts";
import { DAY_MS, type OutcomeBody } from "./schemas.ts";

export async function recordOutcome(env: TenantEnv, tenant: string, agentId: string, id: string, b: z.infer<typeof OutcomeBody>) {
  const row = await callbackRow(env.DB, tenant, id);
  if (!row) {
    await getInteractionRow(env.DB, tenant, id); // 404 for an unknown id
    throw badRequest("not_a_callback", `interaction '${id}' is not a web callback`);
  }
  let due: number | undefined;
  if (b.rescheduleAt !== undefined) {
    if (b.outcome === "reached" || b.outcome === "wrong_number") throw badRequest("invalid_request", `rescheduleAt: a callback that ${b.outcome === "reached" ? "reached the customer" : "had a wrong number"} is not tried again`);
    const maxDays = (await getConfig(env.DB, tenant)).raw.callbacks?.maxDaysAhead ?? 14;
    due = Date.parse(b.rescheduleAt);
    if (due <= Date.now()) throw badRequest("invalid_request", "rescheduleAt: must be in the future");
    if (due > Date.now() + maxDays * DAY_MS) throw badRequest("invalid_request", `rescheduleAt: at most ${maxDays} days ahead`);
  }
  // The agent object is the authority on what is in the agent's hands (D1 may lag a moment).
  const agent = agentStub(env, tenant, agentId);
  const w = (unwrap(await agent.status()) as AgentStatus).work.find((x) => x.interactionId === id);
  if (!w) throw notFound("not_in_hand", `'${id}' is not in your hands`);
  if (w.state !== "handling") throw conflict("not_accepted", `accept '${id}' first`);

  const now = Date.now();
  const attempts = row.attempts + 1;
  await env.DB.batch([
    callbackAttempt(env.DB, tenant, id, attempts, b.outcome, now),
    ...eventStatements(env.DB, [{ tenant, interaction: id, at: now, actor: `agent:${agentId}`, action: "callback_outcome", from: "handling", to: "handling", queue: w.queue, agent: agentId, reason: { outcome: b.outcome, attempt: attempts, rescheduleAt: due === undefined ? undefined : iso(due) } }]),
  ]);
  if (b.note) await addNote(env.DB, tenant, id, `agent:${agentId}`, b.note);
  if (due !== undefined) {
    // Back to its queue, scheduled: skipSteps (a "rescheduled" transfer) keeps its priority and attributes.
    unwrap(await agent.transfer(id, { queue: w.queue }, "rescheduled", { dueAt: due }));
    return { interactionId: id, outcome: b.outcome, attempts, state: "scheduled", scheduledFor: iso(due) };
  }
  unwrap(await agent.done(id));
  return { interactionId: id, outcome: b.outcome, attempts, state: "done" };
}
