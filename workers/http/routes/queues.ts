// Queues for supervisors: contents, shared workbins, and live statistics (the real-time Stat Server).
import type { TenantEnv } from "../../tenancy/tenant-env.ts";
import { queueStub } from "../../../durable-objects/names.ts";
import { getConfig } from "../../config/store.ts";
import { liveStats } from "../../stats/live.ts";
import { route, type Caller } from "../api.ts";
import { notFound } from "../../kernel/errors.ts";

async function queueOf(env: TenantEnv, c: Caller, name: string) {
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
    handler: ({ env, caller }) => liveStats(env, caller.tenant),
  }),
];
