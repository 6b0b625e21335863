// Generic ingest and the interaction itself: read it, note it, and act on it as an agent or supervisor.
import type { TenantEnv } from "../../tenancy/tenant-env.ts";
import * as z from "zod";
import { agentStub, queueStub } from "../../../durable-objects/names.ts";
import { unwrap } from "../../../durable-objects/result.ts";
import { getConfig } from "../../config/store.ts";
import { IngestBody, ingest } from "../../interactions/ingest.ts";
import { inHands } from "../../interactions/in-hand.ts";
import { nudgeDashboard } from "../../stats/nudge.ts";
import { addNote, getInteraction, getInteractionRow } from "../../ucs/interactions.ts";
import { assertNotOthersDraft } from "../../email/draft-access.ts";
import { Reply, asUser, route, type Caller } from "../api.ts";
import { badRequest, conflict, forbidden } from "../../kernel/errors.ts";

const Name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/);
const Created = z.object({ id: z.string(), duplicate: z.boolean(), state: z.string(), queue: z.string() });

const isSupervisor = (c: Caller) => c.kind === "user" && (c.role === "supervisor" || c.role === "admin");

async function knownQueue(env: TenantEnv, tenant: string, q: string) {
  if (!(await getConfig(env.DB, tenant)).queues.has(q)) throw badRequest("unknown_queue", `queue: no queue '${q}'`);
}
async function knownAgent(env: TenantEnv, tenant: string, a: string) {
  if (!(await getConfig(env.DB, tenant)).agents.has(a)) throw badRequest("unknown_agent", `agent: no agent '${a}'`);
}

/** Where a waiting interaction is held, for supervisor actions: its queue (waiting or in the queue's workbin). */
async function heldByQueue(env: TenantEnv, tenant: string, id: string): Promise<string> {
  const row = await getInteractionRow(env.DB, tenant, id);
  if (row.state === "workbin" && row.workbin?.startsWith("queue:")) return row.workbin.slice("queue:".length);
  // A reply waiting for QA review leaves its queue only through the review actions (approve, return).
  if (row.direction === "outbound") throw conflict("in_review", `reply '${id}' is approved or returned with POST /api/v1/replies/${id}/review`);
  if ((row.state === "queued" || row.state === "new" || row.state === "scheduled") && row.queue) return row.queue;
  throw conflict("not_waiting", `interaction '${id}' is ${row.state}${row.agentId ? ` with ${row.agentId}` : ""}; supervisors act on waiting work`);
}

const idParam = (p: Record<string, string>) => p.id!;

export const interactionRoutes = [
  route({
    method: "post", path: "/api/v1/interactions", access: "ingest", tags: ["ingest"],
    summary: "Submit an interaction (any media) to a queue or a workflow entry. Idempotent on externalId.",
    body: IngestBody,
    responses: { 201: { description: "Created and queued", schema: Created }, 200: { description: "Seen before (same externalId): the first one's id", schema: Created } },
    handler: async ({ env, caller, body }) => {
      const r = await ingest(env, caller.tenant, body, "ingest");
      return new Reply(r.created ? 201 : 200, { id: r.id, duplicate: !r.created, state: r.state, queue: r.queue });
    },
  }),
  route({
    method: "get", path: "/api/v1/interactions/:id", access: "read_or_agent", tags: ["interactions"],
    summary: "An interaction with its state, queue, agent, contact, thread, parts, notes and history",
    handler: async ({ env, caller, params }) => {
      await assertNotOthersDraft(env.DB, caller.tenant, caller, idParam(params));
      return getInteraction(env.DB, caller.tenant, idParam(params));
    },
  }),
  route({
    method: "post", path: "/api/v1/interactions/:id/abandon", access: "ingest", tags: ["ingest"],
    summary: "The customer gave up while waiting (counts as abandoned)",
    body: z.object({ reason: z.string().max(200).optional() }).strict(),
    handler: async ({ env, caller, params, body }) => {
      const q = await heldByQueue(env, caller.tenant, idParam(params));
      unwrap(await queueStub(env, caller.tenant, q).stop(idParam(params), "customer", { abandoned: true, reason: body.reason }));
      return { ok: true };
    },
  }),
  route({
    method: "post", path: "/api/v1/interactions/:id/notes", access: "agent", tags: ["interactions"], summary: "Add a note",
    body: z.object({ text: z.string().min(1).max(10_000) }).strict(),
    handler: async ({ env, caller, params, body }) => new Reply(201, await addNote(env.DB, caller.tenant, idParam(params), `agent:${asUser(caller).agentId}`, body.text)),
  }),

  // ---- agent actions ----
  route({
    method: "post", path: "/api/v1/interactions/:id/accept", access: "agent", tags: ["agent"], summary: "Accept an offer",
    handler: async ({ env, caller, params }) => unwrap(await agentStub(env, caller.tenant, asUser(caller).agentId).accept(idParam(params))),
  }),
  route({
    method: "post", path: "/api/v1/interactions/:id/reject", access: "agent", tags: ["agent"], summary: "Reject an offer: back to the head of its queue, not offered to you again this cycle",
    handler: async ({ env, caller, params }) => {
      unwrap(await agentStub(env, caller.tenant, asUser(caller).agentId).reject(idParam(params)));
      return { ok: true };
    },
  }),
  route({
    method: "post", path: "/api/v1/interactions/:id/done", access: "agent", tags: ["agent"], summary: "Mark done",
    handler: async ({ env, caller, params }) => {
      unwrap(await agentStub(env, caller.tenant, asUser(caller).agentId).done(idParam(params)));
      return { ok: true };
    },
  }),
  route({
    method: "post", path: "/api/v1/interactions/:id/stop", access: "agent", tags: ["agent", "supervisor"],
    summary: "Stop processing: an agent's own work in hand, or (supervisor) waiting work",
    body: z.object({ reason: z.string().min(1).max(200) }).strict(),
    handler: async ({ env, exec, caller, params, body }) => {
      const u = asUser(caller);
      const id = idParam(params);
      const row = await getInteractionRow(env.DB, u.tenant, id);
      if (await inHands(env, u.tenant, u.agentId, row)) unwrap(await agentStub(env, u.tenant, u.agentId).stopWork(id, body.reason));
      else if (isSupervisor(u)) unwrap(await queueStub(env, u.tenant, await heldByQueue(env, u.tenant, id)).stop(id, `supervisor:${u.agentId}`, { reason: body.reason }));
      else throw forbidden("you can stop only work in your hands");
      nudgeDashboard(env, exec, u.tenant);
      return { ok: true };
    },
  }),
  route({
    method: "post", path: "/api/v1/interactions/:id/transfer", access: "agent", tags: ["agent"], summary: "Transfer work in hand to a queue or an agent",
    body: z.union([z.object({ queue: Name }).strict(), z.object({ agent: Name }).strict()]),
    handler: async ({ env, caller, params, body }) => {
      const u = asUser(caller);
      if ("queue" in body) await knownQueue(env, u.tenant, body.queue);
      else await knownAgent(env, u.tenant, body.agent);
      return unwrap(await agentStub(env, u.tenant, u.agentId).transfer(idParam(params), body));
    },
  }),
  route({
    method: "post", path: "/api/v1/interactions/:id/return", access: "agent", tags: ["agent"], summary: "Return work in hand to its queue",
    handler: async ({ env, caller, params }) => unwrap(await agentStub(env, caller.tenant, asUser(caller).agentId).returnToQueue(idParam(params))),
  }),
  route({
    method: "post", path: "/api/v1/interactions/:id/park", access: "agent", tags: ["agent"], summary: "Place work in hand in your workbin or a queue's shared workbin",
    body: z.object({ workbin: z.union([z.literal("personal"), z.object({ queue: Name }).strict()]) }).strict(),
    handler: async ({ env, caller, params, body }) => {
      const u = asUser(caller);
      if (body.workbin !== "personal") await knownQueue(env, u.tenant, body.workbin.queue);
      unwrap(await agentStub(env, u.tenant, u.agentId).park(idParam(params), body.workbin));
      return { ok: true };
    },
  }),
  route({
    method: "post", path: "/api/v1/interactions/:id/unpark", access: "agent", tags: ["agent"], summary: "Take an interaction back from a workbin into your hands",
    body: z.object({ workbin: z.union([z.literal("personal"), z.object({ queue: Name }).strict()]) }).strict(),
    handler: async ({ env, caller, params, body }) => {
      const u = asUser(caller);
      if (body.workbin !== "personal") await knownQueue(env, u.tenant, body.workbin.queue);
      return unwrap(await agentStub(env, u.tenant, u.agentId).takeFromWorkbin(idParam(params), body.workbin));
    },
  }),

  // ---- supervisor actions on waiting work ----
  route({
    method: "post", path: "/api/v1/interactions/:id/move", access: "supervisor", tags: ["supervisor"], summary: "Move waiting work to another queue",
    body: z.object({ queue: Name }).strict(),
    handler: async ({ env, exec, caller, params, body }) => {
      const u = asUser(caller);
      await knownQueue(env, u.tenant, body.queue);
      const from = await heldByQueue(env, u.tenant, idParam(params));
      const moved = unwrap(await queueStub(env, u.tenant, from).moveTo(idParam(params), body.queue, `supervisor:${u.agentId}`));
      nudgeDashboard(env, exec, u.tenant);
      return moved;
    },
  }),
  route({
    method: "post", path: "/api/v1/interactions/:id/assign", access: "supervisor", tags: ["supervisor"], summary: "Offer waiting work to one agent",
    body: z.object({ agent: Name }).strict(),
    handler: async ({ env, exec, caller, params, body }) => {
      const u = asUser(caller);
      await knownAgent(env, u.tenant, body.agent);
      unwrap(await queueStub(env, u.tenant, await heldByQueue(env, u.tenant, idParam(params))).assign(idParam(params), body.agent, `supervisor:${u.agentId}`));
      nudgeDashboard(env, exec, u.tenant);
      return { ok: true };
    },
  }),
  route({
    method: "post", path: "/api/v1/interactions/:id/pull", access: "supervisor", tags: ["supervisor"], summary: "Pull waiting work into a workbin (yours unless an agent is named)",
    body: z.object({ agent: Name.optional() }).strict(),
    handler: async ({ env, exec, caller, params, body }) => {
      const u = asUser(caller);
      const to = body.agent ?? u.agentId;
      await knownAgent(env, u.tenant, to);
      unwrap(await queueStub(env, u.tenant, await heldByQueue(env, u.tenant, idParam(params))).pullTo(idParam(params), to, `supervisor:${u.agentId}`));
      nudgeDashboard(env, exec, u.tenant);
      return { ok: true, workbin: `agent:${to}` };
    },
  }),
];
