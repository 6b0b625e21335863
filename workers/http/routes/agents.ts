// The agent's own presence and workbin (me), and supervisors' view of agents.
import type { TenantEnv } from "../../tenancy/tenant-env.ts";
import * as z from "zod";
import type { AgentStatus } from "../../../durable-objects/agent.ts";
import { agentStub } from "../../../durable-objects/names.ts";
import { unwrap } from "../../../durable-objects/result.ts";
import { Media } from "../../config/schema.ts";
import { getConfig } from "../../config/store.ts";
import { heldHeaders } from "../../auth/revocation.ts";
import { asUser, route, type Caller } from "../api.ts";
import { forbidden, notFound } from "../../kernel/errors.ts";

const self = (env: TenantEnv, c: Caller) => {
  if (c.kind !== "user") throw forbidden("this needs an agent token");
  return agentStub(env, c.tenant, c.agentId);
};

async function agentOf(env: TenantEnv, c: Caller, agentId: string) {
  const cfg = await getConfig(env.DB, c.tenant);
  if (!cfg.agents.has(agentId)) throw notFound("unknown_agent", `no agent '${agentId}'`);
  return agentStub(env, c.tenant, agentId);
}

export const agentRoutes = [
  route({
    method: "get", path: "/api/v1/me", access: "agent", tags: ["agent"], summary: "Your presence, offers, work in hand and workbin size",
    handler: async ({ env, caller }) => unwrap(await self(env, caller).status()),
  }),
  route({
    method: "post", path: "/api/v1/me/login", access: "agent", tags: ["agent"], summary: "Log in to routing (optionally ready on every media at once)",
    body: z.object({ ready: z.boolean().optional() }).strict(),
    handler: async ({ env, caller, body }) => unwrap(await self(env, caller).login(body)),
  }),
  route({
    method: "post", path: "/api/v1/me/logout", access: "agent", tags: ["agent"], summary: "Log out of routing; pending offers go back to their queues",
    handler: async ({ env, caller }) => unwrap(await self(env, caller).logout()),
  }),
  route({
    method: "post", path: "/api/v1/me/ready", access: "agent", tags: ["agent"], summary: "Ready or not ready, on some media or all, with a reason code when not ready",
    body: z.object({ ready: z.boolean(), media: z.array(Media).min(1).optional(), reason: z.string().min(1).max(50).optional() }).strict(),
    handler: async ({ env, caller, body }) => unwrap(await self(env, caller).setReady(body.ready, { media: body.media, reason: body.reason })),
  }),
  route({
    method: "post", path: "/api/v1/me/after-work", access: "agent", tags: ["agent"], summary: "Enter or leave after-call work (no offers meanwhile)",
    body: z.object({ on: z.boolean() }).strict(),
    handler: async ({ env, caller, body }) => unwrap(await self(env, caller).setAfterWork(body.on)),
  }),
  route({
    method: "get", path: "/api/v1/me/workbin", access: "agent", tags: ["agent"], summary: "Your personal workbin",
    handler: async ({ env, caller }) => ({ items: await self(env, caller).listWorkbin() }),
  }),
  route({
    method: "get", path: "/api/v1/me/ws", access: "agent", tags: ["agent"],
    summary: "WebSocket (token in ?token=): offers, revoked offers, work and state changes as JSON messages",
    upgrade: "websocket",
    handler: async ({ env, caller }) => {
      // Not the token: who holds it, its version and until when, so the object closes the socket when
      // the token lapses or is revoked.
      return self(env, caller).fetch(new Request("https://agent/ws", { headers: { Upgrade: "websocket", ...heldHeaders(asUser(caller)) } }));
    },
  }),
  route({
    method: "get", path: "/api/v1/me/directory", access: "agent", tags: ["agent"],
    summary: "What the desktop offers to choose from: not-ready reason codes, colleagues (transfer, consult) and queues",
    handler: async ({ env, caller }) => {
      const cfg = await getConfig(env.DB, caller.tenant);
      return {
        tenant: { id: cfg.raw.tenant.id, name: cfg.raw.tenant.name },
        reasons: cfg.raw.settings.notReadyReasons ?? [],
        agents: [...cfg.agents.values()].map((a) => ({ id: a.id, fullName: a.fullName, role: a.role })),
        queues: [...cfg.queues.values()].map((q) => ({ name: q.config.name, description: q.config.description ?? null, media: q.config.media })),
      };
    },
  }),
  route({
    method: "get", path: "/api/v1/agents", access: "supervisor", tags: ["supervisor"], summary: "Every agent's presence and load",
    handler: async ({ env, caller }) => {
      const cfg = await getConfig(env.DB, caller.tenant);
      const agents = await Promise.all([...cfg.agents.values()].map(async (a) => ({ id: a.id, fullName: a.fullName, role: a.role, ...(unwrap(await agentStub(env, caller.tenant, a.id).status()) as AgentStatus) })));
      return { agents };
    },
  }),
  route({
    method: "get", path: "/api/v1/agents/:agentId", access: "supervisor", tags: ["supervisor"], summary: "One agent's presence, offers and work",
    handler: async ({ env, caller, params }) => unwrap(await (await agentOf(env, caller, params.agentId!)).status()),
  }),
  route({
    method: "get", path: "/api/v1/agents/:agentId/workbin", access: "supervisor", tags: ["supervisor"], summary: "One agent's personal workbin",
    handler: async ({ env, caller, params }) => ({ items: await (await agentOf(env, caller, params.agentId!)).listWorkbin() }),
  }),
  route({
    method: "post", path: "/api/v1/agents/:agentId/logout", access: "supervisor", tags: ["supervisor"], summary: "Log an agent out of routing",
    handler: async ({ env, caller, params }) => unwrap(await (await agentOf(env, caller, params.agentId!)).logout()),
  }),
];
