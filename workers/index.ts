// The Parley Worker: the HTTP API, the scheduled sweep, and the Durable Object classes.
import { buildRouter } from "./http/router.ts";
import { finalizeApi } from "./http/finalize.ts";
import type { RouteDef } from "./http/api.ts";
import { adminRoutes } from "./http/routes/admin.ts";
import { secretRoutes } from "./http/routes/secrets.ts";
import { classifierRoutes } from "./http/routes/classifier.ts";
import { agentRoutes } from "./http/routes/agents.ts";
import { authRoutes } from "./http/routes/auth.ts";
import { callbackRoutes } from "./http/routes/callbacks.ts";
import { chatRoutes } from "./http/routes/chat-visitor.ts";
import { chatStaffRoutes } from "./http/routes/chat-staff.ts";
import { socialRoutes } from "./http/routes/social.ts";
import { eventRoutes } from "./http/routes/events.ts";
import { privacyRoutes } from "./http/routes/privacy.ts";
import { platformRoutes } from "./http/routes/platform.ts";
import { handleWebhookJobs, WEBHOOKS_QUEUE } from "./events/queue.ts";
import { benchEnv } from "./kernel/d1-count.ts";
import { webhookRoutes } from "./http/routes/webhooks.ts";
import { smsRoutes } from "./http/routes/sms.ts";
import { mm7Routes } from "./http/routes/mm7.ts";
import { contactRoutes } from "./http/routes/contacts.ts";
import { emailRoutes } from "./http/routes/email.ts";
import { formRoutes } from "./http/routes/forms.ts";
import { interactionRoutes } from "./http/routes/interactions.ts";
import { queueRoutes } from "./http/routes/queues.ts";
import { supervisorRoutes } from "./http/routes/supervisor.ts";
import { systemRoutes } from "./http/routes/system.ts";
import { sweep } from "./sweep.ts";
import { handleEmail } from "./email/handler.ts";
import { handleSendJobs } from "./outbound/deliver.ts";

export { InteractionQueue } from "../durable-objects/interaction-queue.ts";
export { Agent } from "../durable-objects/agent.ts";
export { ChatSession } from "../durable-objects/chat-session.ts";
export { Dashboard } from "../durable-objects/dashboard.ts";
export { Classifier } from "../durable-objects/classifier.ts";
export { EventPump } from "../durable-objects/event-pump.ts";

const routes: RouteDef[] = [];
routes.push(...systemRoutes(() => routes), ...authRoutes, ...interactionRoutes, ...agentRoutes, ...queueRoutes, ...supervisorRoutes, ...contactRoutes, ...adminRoutes, ...secretRoutes, ...classifierRoutes, ...emailRoutes, ...formRoutes, ...callbackRoutes, ...chatRoutes, ...chatStaffRoutes, ...smsRoutes, ...mm7Routes, ...socialRoutes, ...eventRoutes, ...webhookRoutes, ...privacyRoutes, ...platformRoutes);
const router = buildRouter(routes);

export default {
  fetch: async (req, env, ctx) => finalizeApi(await router.fetch(req, benchEnv(env, "worker"), ctx)),
  email: (message, env, _ctx) => handleEmail(message, benchEnv(env, "email")),
  queue: (batch, env, _ctx) => (batch.queue === WEBHOOKS_QUEUE ? handleWebhookJobs(batch, benchEnv(env, "consumer")) : handleSendJobs(batch, benchEnv(env, "consumer"))),
  scheduled: (_controller, env, ctx) => ctx.waitUntil(sweep(env).then((r) => console.log("sweep", JSON.stringify({ checked: r.checked.length, resubmitted: r.resubmitted.length, staleOffers: r.staleOffers, requeued: r.requeued.length, released: r.released })))),
} satisfies ExportedHandler<Env>;
