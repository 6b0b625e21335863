// Queues for supervisors: contents, shared workbins, and live statistics (the real-time Stat Server).
import { agentStub, queueStub } from "../../../durable-objects/names.ts";
import { getConfig } from "../../config/store.ts";
import { presenceOf, totalLoad } from "../../routing/agent-state.ts";
import { route, type Caller } from "../api.ts";
import { notFound } from "../errors.ts";

async function queueOf(env: Env, c: Caller, name: string) {
  const cfg = await getConfig(env.DB, c.tenant);
  if (!cfg.queues.has(name)) throw notFound("unknown_queue", `no queue '${name}'`);
  return queueStub(env, c.tenant, name);
}

export const queueRoutes = [
  route({
    method: "get", path: "/api/v1/queues", access: "agent", tags: ["supervisor"], summary: "The tenant's queues and their media",
    handler: async ({ env, caller }) => {
      const cfg = await getConfig(env.DB, caller.tenant);
      return { queues: [...cfg.queues.values()].map((q) => ({ name: q.config.name, description: q.config.description, media: q.config.media, routes: q.targets !== undefined })) };
    },
  }),
  route({
    method: "get", path: "/api/v1/queues/:queue/interactions", access: "supervisor", tags: ["supervisor"], summary: "A queue's contents in view order",
    handler: async ({ env, caller, params }) => ({ queue: params.queue, items: await (await queueOf(env, caller, params.queue!)).list() }),
  }),
  route({
    method: "get", path: "/api/v1/queues/:queue/workbin", access: "agent", tags: ["agent", "supervisor"], summary: "A queue's shared workbin",
    handler: async ({ env, caller, params }) => ({ queue: params.queue, items: await (await queueOf(env, caller, params.queue!)).listWorkbin() }),
  }),
  route({
    method: "get", path: "/api/v1/stats", access: "supervisor", tags: ["supervisor"],
    summary: "Live statistics: per queue waiting, oldest wait, entered, distributed, abandoned, average wait and handle time, service level; per agent state and load",
    handler: async ({ env, caller }) => {
      const cfg = await getConfig(env.DB, caller.tenant);
      const [queues, agents] = await Promise.all([
        Promise.all([...cfg.queues.keys()].map((q) => queueStub(env, caller.tenant, q).stats())),
        Promise.all(
          [...cfg.agents.values()].map(async (a) => {
            // An agent removed from the config a moment ago (its object already refuses): shown as logged out.
            const s = await agentStub(env, caller.tenant, a.id).snapshot().catch(() => null);
            if (!s) return { id: a.id, fullName: a.fullName, state: "logged_out" as const, ready: {}, reasons: {}, afterWork: false, load: {}, totalLoad: 0, capacity: a.capacity, maxTotal: a.maxTotal ?? null, idleSince: null };
            return { id: a.id, fullName: a.fullName, state: presenceOf(s), ready: s.ready, reasons: s.reasons, afterWork: s.afterWork, load: s.load, totalLoad: totalLoad(s), capacity: s.capacity, maxTotal: s.maxTotal ?? null, idleSince: s.idleSince };
          }),
        ),
      ]);
      return { at: Date.now(), queues, agents };
    },
  }),
];
