// Web callbacks (Web API Server): a customer asks to be called back within a window. The request
// becomes a 'callback' interaction its queue holds, scheduled, until the window opens; the customer
// can look at it and cancel it with the token they were given; the agent who calls records the
// outcome and either finishes it or schedules another attempt.
import { tenantEnv, type TenantEnv } from "../../tenancy/tenant-env.ts";
import { Created, CancelBody, OutcomeBody, RequestBody, TokenQuery } from "../../callbacks/schemas.ts";
import { callbacksOf, callbackView, cancel, iso, requestCallback } from "../../callbacks/customer.ts";
import { recordOutcome } from "../../callbacks/outcome.ts";
import { forbidden, notFound } from "../../kernel/errors.ts";
import { callbackRow } from "../../ucs/callbacks.ts";
import { Reply, route, type RouteDef } from "../api.ts";
import { allowedOrigin } from "../cors.ts";

/** CORS for the customer's callback endpoints. The tenant is named in the body (or the query), which a
 *  preflight lacks: with ?tenant= its list is checked there, otherwise the actual request is (and
 *  refused with 403 before anything is stored). */
const callbackCors = (tenantOf: (ctx: { body: unknown; query: unknown }) => string) => ({
  origin: async (ctx: { req: Request; env: TenantEnv; body: unknown; query: unknown }) => allowedOrigin(ctx.req, (await callbacksOf(ctx.env, tenantOf(ctx))).cb.allowedOrigins),
  allowList: async ({ req, env }: { req: Request; env: Env }) => {
    const tenant = new URL(req.url).searchParams.get("tenant");
    return tenant ? (await callbacksOf(await tenantEnv(env, tenant), tenant)).cb.allowedOrigins : null;
  },
});
const inBody = ({ body }: { body: unknown }) => (body as { tenant: string }).tenant;
const inQuery = ({ query }: { query: unknown }) => (query as { tenant: string }).tenant;

export const callbackRoutes: RouteDef[] = [
  route({
    method: "post", path: "/api/v1/callbacks", access: "public", tags: ["callbacks"],
    tenant: ({ body }) => body.tenant,
    unknownTenant: (t) => notFound("no_callbacks", `tenant '${t}' takes no callback requests`),
    summary: "Ask to be called back within a window. Held, scheduled, until windowStart; answers a token for checking and cancelling it.",
    body: RequestBody,
    responses: { 202: { description: "Accepted", schema: Created } },
    cors: callbackCors(inBody),
    handler: async ({ req, env, body }) => {
      const { cfg, cb } = await callbacksOf(env, body.tenant);
      // Accepted: held, scheduled, in its queue until the window opens (or routed now if it is open).
      return new Reply(202, await requestCallback(req, env, body, cfg, cb));
    },
  }),
  route({
    method: "get", path: "/api/v1/callbacks/:id", access: "public", tags: ["callbacks"], summary: "The customer's view of a callback request (state, window, outcome); a wrong token is a 404",
    tenant: ({ query }) => query.tenant,
    unknownTenant: (t) => notFound("no_callbacks", `tenant '${t}' takes no callback requests`),
    query: TokenQuery,
    cors: callbackCors(inQuery),
    handler: async ({ env, params, query }) => callbackView(env, query.tenant, params.id!, query.token),
  }),
  route({
    method: "post", path: "/api/v1/callbacks/:id/cancel", access: "public", tags: ["callbacks"],
    tenant: ({ body }) => body.tenant,
    unknownTenant: (t) => notFound("no_callbacks", `tenant '${t}' takes no callback requests`),
    summary: "The customer cancels a callback still waiting or scheduled (409 in_progress once an agent has it, already_closed when finished); a wrong token is a 404",
    body: CancelBody,
    cors: callbackCors(inBody),
    handler: async ({ env, params, body }) => cancel(env, body.tenant, params.id!, body.token),
  }),
  route({
    method: "get", path: "/api/v1/interactions/:id/callback", access: "agent", tags: ["agent", "callbacks"],
    summary: "A callback's details for the agent who calls: number, name, topic, window, attempts and last outcome",
    handler: async ({ env, caller, params }) => {
      const c = await callbackRow(env.DB, caller.tenant, params.id!);
      if (!c) throw notFound("unknown_callback", `no callback '${params.id}'`);
      return { interactionId: c.interaction_id, phone: c.phone, name: c.name, topic: c.topic, window: { start: iso(c.window_start), end: iso(c.window_end) }, attempts: c.attempts, outcome: c.outcome };
    },
  }),
  route({
    method: "post", path: "/api/v1/interactions/:id/callback-outcome", access: "agent", tags: ["agent", "callbacks"],
    summary: "Record a call attempt on a callback in your hands: done, or (no_answer, busy) scheduled again at rescheduleAt",
    body: OutcomeBody,
    handler: async ({ env, caller, params, body }) => {
      if (caller.kind !== "user") throw forbidden("this needs an agent token");
      return recordOutcome(env, caller.tenant, caller.agentId, params.id!, body);
    },
  }),
];
