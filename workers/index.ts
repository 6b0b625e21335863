// The Parley Worker: the HTTP API, the scheduled sweep, and the Durable Object classes.
import { buildRouter } from "./http/router.ts";
import type { RouteDef } from "./http/api.ts";
import { adminRoutes } from "./http/routes/admin.ts";
import { agentRoutes } from "./http/routes/agents.ts";
import { authRoutes } from "./http/routes/auth.ts";
import { contactRoutes } from "./http/routes/contacts.ts";
import { interactionRoutes } from "./http/routes/interactions.ts";
import { queueRoutes } from "./http/routes/queues.ts";
import { systemRoutes } from "./http/routes/system.ts";
import { sweep } from "./sweep.ts";

export { InteractionQueue } from "../durable-objects/interaction-queue.ts";
export { Agent } from "../durable-objects/agent.ts";

const routes: RouteDef[] = [];
routes.push(...systemRoutes(() => routes), ...authRoutes, ...interactionRoutes, ...agentRoutes, ...queueRoutes, ...contactRoutes, ...adminRoutes);
const router = buildRouter(routes);

export default {
  fetch: (req, env, ctx) => router.fetch(req, env, ctx),
  scheduled: (_controller, env, ctx) => ctx.waitUntil(sweep(env).then((r) => console.log("sweep", JSON.stringify({ checked: r.checked.length, resubmitted: r.resubmitted.length, staleOffers: r.staleOffers })))),
} satisfies ExportedHandler<Env>;
