// Staff side of a chat: see it with the customer's history, invite a colleague (consult or
// conference), join as a supervisor (monitor, coach, barge-in), switch mode, leave, end.
import type { TenantEnv } from "../../tenancy/tenant-env.ts";
import * as z from "zod";
import { agentStub, chatStub } from "../../../durable-objects/names.ts";
import { unwrap } from "../../../durable-objects/result.ts";
import { INVITE_MODES, MODES, SUPERVISOR_MODES, type Mode } from "../../chat/visibility.ts";
import { getConfig } from "../../config/store.ts";
import { getContact } from "../../ucs/contacts.ts";
import { contactHistory, getInteractionRow } from "../../ucs/interactions.ts";
import { asUser, route, type RouteDef } from "../api.ts";
import { badRequest, conflict, forbidden } from "../../kernel/errors.ts";

const isSupervisor = (c: { role: string }) => c.role === "supervisor" || c.role === "admin";

async function chatRow(env: TenantEnv, tenant: string, id: string) {
  const row = await getInteractionRow(env.DB, tenant, id);
  if (row.media !== "chat") throw badRequest("not_a_chat", `interaction '${id}' is ${row.media}, not a chat`);
  return row;
}

/** The agent's own object says whether the chat is in their hands; D1 learns of it a moment later. */
const handles = (env: TenantEnv, tenant: string, agentId: string, id: string) => agentStub(env, tenant, agentId).handles(id);

async function nameOf(env: TenantEnv, tenant: string, agentId: string): Promise<string> {
  return (await getConfig(env.DB, tenant)).agents.get(agentId)?.fullName ?? agentId;
}

export const chatStaffRoutes: RouteDef[] = [
  route({
    method: "get", path: "/api/v1/chats/:id", access: "agent", tags: ["chat", "agent"],
    summary: "A chat: status, queue position, participants, and the customer with their past interactions",
    handler: async ({ env, caller, params }) => {
      const u = asUser(caller);
      const row = await chatRow(env, u.tenant, params.id!);
      const state = unwrap(await chatStub(env, u.tenant, row.id).state());
      const contact = row.contactId ? await getContact(env.DB, u.tenant, row.contactId) : null;
      const past = contact ? (await contactHistory(env.DB, u.tenant, contact.mergedInto ?? contact.id, 20)).filter((i) => i.id !== row.id) : [];
      return { ...state, interaction: row, contact, pastInteractions: past };
    },
  }),
  route({
    method: "post", path: "/api/v1/chats/:id/invite", access: "agent", tags: ["chat", "agent"],
    summary: "The handling agent invites a colleague: consult (agents only hear each other) or conference (the customer too)",
    body: z.object({ agent: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/), mode: z.enum(INVITE_MODES) }).strict(),
    handler: async ({ env, caller, params, body }) => {
      const u = asUser(caller);
      const row = await chatRow(env, u.tenant, params.id!);
      const cfg = await getConfig(env.DB, u.tenant);
      if (!cfg.agents.has(body.agent)) throw badRequest("unknown_agent", `agent: no agent '${body.agent}'`);
      unwrap(await chatStub(env, u.tenant, row.id).invite(`agent:${u.agentId}`, body.agent, body.mode, { by: await nameOf(env, u.tenant, u.agentId), agent: await nameOf(env, u.tenant, body.agent) }));
      return { ok: true };
    },
  }),
  route({
    method: "post", path: "/api/v1/chats/:id/join", access: "agent", tags: ["chat", "agent", "supervisor"],
    summary: "Join a chat: the handling agent (primary), an invited agent (in the invited mode), or a supervisor (monitor, coach, barge)",
    body: z.object({ mode: z.enum(MODES).optional() }).strict(),
    handler: async ({ env, caller, params, body }) => {
      const u = asUser(caller);
      const row = await chatRow(env, u.tenant, params.id!);
      let mode: Mode;
      if ((body.mode === undefined || body.mode === "primary") && (await handles(env, u.tenant, u.agentId, row.id))) mode = "primary";
      else if (body.mode && (SUPERVISOR_MODES as readonly string[]).includes(body.mode)) {
        if (!isSupervisor(u)) throw forbidden(`${body.mode}: supervisors only`);
        mode = body.mode;
      } else if (body.mode === "consult" || body.mode === "conference") mode = body.mode;
      else throw badRequest("invalid_mode", "mode: consult or conference when invited; monitor, coach or barge for supervisors");
      return unwrap(await chatStub(env, u.tenant, row.id).join({ id: `agent:${u.agentId}`, mode, name: await nameOf(env, u.tenant, u.agentId) }));
    },
  }),
  route({
    method: "post", path: "/api/v1/chats/:id/mode", access: "supervisor", tags: ["chat", "supervisor"], summary: "Switch between monitor, coach and barge-in",
    body: z.object({ mode: z.enum(SUPERVISOR_MODES) }).strict(),
    handler: async ({ env, caller, params, body }) => {
      const u = asUser(caller);
      const row = await chatRow(env, u.tenant, params.id!);
      return unwrap(await chatStub(env, u.tenant, row.id).setMode(`agent:${u.agentId}`, body.mode));
    },
  }),
  route({
    method: "post", path: "/api/v1/chats/:id/leave", access: "agent", tags: ["chat", "agent"], summary: "Leave the chat (the handling agent transfers or ends instead)",
    handler: async ({ env, caller, params }) => {
      const u = asUser(caller);
      const row = await chatRow(env, u.tenant, params.id!);
      if (await handles(env, u.tenant, u.agentId, row.id)) throw conflict("handling", "you handle this chat: transfer it or end it");
      unwrap(await chatStub(env, u.tenant, row.id).leave(`agent:${u.agentId}`));
      return { ok: true };
    },
  }),
  route({
    method: "post", path: "/api/v1/chats/:id/end", access: "agent", tags: ["chat", "agent", "supervisor"], summary: "End the chat: the handling agent or a supervisor",
    handler: async ({ env, caller, params }) => {
      const u = asUser(caller);
      const row = await chatRow(env, u.tenant, params.id!);
      const handling = await handles(env, u.tenant, u.agentId, row.id);
      if (!handling && !isSupervisor(u)) throw forbidden("only the agent handling this chat or a supervisor can end it");
      return unwrap(await chatStub(env, u.tenant, row.id).end(`agent:${u.agentId}`, handling ? "agent" : "supervisor", await nameOf(env, u.tenant, u.agentId)));
    },
  }),
];
