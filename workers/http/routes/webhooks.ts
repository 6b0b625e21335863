// Webhook endpoints (Standard Webhooks), for admins: add one (its secret shown once), list, change,
// remove, rotate the secret with an overlap, read the delivery history, and replay a range of events
// with their original webhook-ids.
import type { TenantEnv } from "../../tenancy/tenant-env.ts";
import * as z from "zod";
import { eventPumpStub } from "../../../durable-objects/names.ts";
import { badRequest, conflict, fail, notFound } from "../../kernel/errors.ts";
import { newId } from "../../kernel/ids.ts";
import { outboundUrlProblem, MAX_URL_CHARS } from "../../outbound/url-policy.ts";
import { setTenantSecret, tenantSecret } from "../../secrets/store.ts";
import { parseTypes } from "../../events/cloudevents.ts";
import { previousSecretName, secretName } from "../../events/deliver.ts";
import { enqueueDeliveries } from "../../events/queue.ts";
import { newWebhookSecret } from "../../events/standard-webhooks.ts";
import { lastSequence } from "../../ucs/event-log.ts";
import { deliveryHistory, openDeliveries, replayRange, endpoint, endpointDelete, endpointInsert, endpoints, endpointUpdate, type EndpointRow } from "../../ucs/webhooks.ts";
import { asUser, Reply, route, type RouteDef } from "../api.ts";

/** A rotated-out secret keeps signing (alongside the new one) this long. */
const ROTATION_OVERLAP_MS = 24 * 3600_000;
const MAX_ENDPOINTS = 20;

const view = (e: EndpointRow) => ({
  id: e.id, url: e.url, types: (JSON.parse(e.types) as string[]).map((t) => (t.endsWith(".") ? `${t}*` : t)), ordered: e.ordered === 1, state: e.state, disabledReason: e.disabled_reason,
  failingSince: e.failing_since, previousSecretUntil: e.previous_until, cursor: e.cursor, createdAt: e.created_at,
});

function checkedUrl(env: TenantEnv, url: string): string {
  const problem = outboundUrlProblem(url, { devHost: env.DEV_OUTBOUND_HOST });
  if (problem) throw badRequest("invalid_url", `url: ${problem}`);
  return url;
}

function checkedTypes(types: string[] | undefined): string[] {
  if (!types?.length) return [];
  const t = parseTypes(types.join(","));
  if (!t) throw badRequest("invalid_type", "types: event types like parley.interaction.accepted, or families like parley.message.*");
  return t;
}

async function wake(env: TenantEnv, tenant: string, req: Request): Promise<void> {
  await eventPumpStub(env, tenant).start(tenant, new URL(env.PUBLIC_URL || req.url).origin);
}

async function found(env: TenantEnv, tenant: string, id: string): Promise<EndpointRow> {
  return (await endpoint(env.DB, tenant, id)) ?? fail(notFound("unknown_endpoint", `no webhook endpoint '${id}'`));
}

/** `ordered`: each subject's events (an interaction's, a contact's) delivered one after another. */
const Body = z.object({ url: z.string().min(8).max(MAX_URL_CHARS), types: z.array(z.string().max(100)).max(20).optional(), ordered: z.boolean().optional() }).strict();

export const webhookRoutes: RouteDef[] = [
  route({
    method: "post", path: "/api/v1/admin/webhooks", access: "admin", tags: ["events", "admin"],
    summary: "Adds a webhook endpoint (https, a public name; an event type filter; `ordered` for in-order delivery per subject): events from now on are delivered, signed to Standard Webhooks. Its secret is shown this once",
    body: Body, responses: { 201: { description: "The endpoint and its secret (shown only now)" } },
    handler: async ({ req, env, caller, body }) => {
      const u = asUser(caller);
      const url = checkedUrl(env, body.url);
      const types = checkedTypes(body.types);
      if ((await endpoints(env.DB, u.tenant)).length >= MAX_ENDPOINTS) throw conflict("too_many_endpoints", `at most ${MAX_ENDPOINTS} endpoints per tenant`);
      const id = newId("wh");
      const secret = newWebhookSecret();
      if ((await setTenantSecret(env, u.tenant, secretName(id), secret)) === null) throw conflict("too_many_secrets", "the tenant keeps too many secrets to add an endpoint's");
      await endpointInsert(env.DB, u.tenant, { id, url, types, ordered: body.ordered ?? false, cursor: await lastSequence(env.DB, u.tenant), at: Date.now() }).run();
      await wake(env, u.tenant, req);
      return new Reply(201, { ...view((await endpoint(env.DB, u.tenant, id))!), secret });
    },
  }),
  route({
    method: "get", path: "/api/v1/admin/webhooks", access: "admin", tags: ["events", "admin"],
    summary: "The tenant's webhook endpoints (never their secrets)",
    handler: async ({ env, caller }) => ({ endpoints: (await endpoints(env.DB, asUser(caller).tenant)).map(view) }),
  }),
  route({
    method: "put", path: "/api/v1/admin/webhooks/:id", access: "admin", tags: ["events", "admin"],
    summary: "Changes an endpoint's URL, types or ordering, or enables a disabled one again ({ enabled: true }: its pending deliveries go out)",
    body: Body.partial().extend({ enabled: z.boolean().optional() }).strict(),
    handler: async ({ req, env, caller, params, body }) => {
      const u = asUser(caller);
      const ep = await found(env, u.tenant, params.id!);
      const set: Parameters<typeof endpointUpdate>[3] = {};
      if (body.url !== undefined) set.url = checkedUrl(env, body.url);
      if (body.types !== undefined) set.types = JSON.stringify(checkedTypes(body.types));
      if (body.ordered !== undefined) set.ordered = body.ordered ? 1 : 0;
      if (body.enabled === true) Object.assign(set, { state: "enabled", disabled_reason: null, failing_since: null });
      if (body.enabled === false) Object.assign(set, { state: "disabled", disabled_reason: "disabled by an admin" });
      if (Object.keys(set).length) await endpointUpdate(env.DB, u.tenant, ep.id, set, Date.now()).run();
      // The pump reads its endpoints afresh.
      await wake(env, u.tenant, req);
      if (body.enabled === true) {
        await enqueueDeliveries(env, u.tenant, ep.id, await openDeliveries(env.DB, u.tenant, ep.id), new URL(env.PUBLIC_URL || req.url).origin);
      }
      return view((await endpoint(env.DB, u.tenant, ep.id))!);
    },
  }),
  route({
    method: "delete", path: "/api/v1/admin/webhooks/:id", access: "admin", tags: ["events", "admin"],
    summary: "Removes an endpoint and its delivery history",
    handler: async ({ req, env, caller, params }) => {
      const u = asUser(caller);
      await found(env, u.tenant, params.id!);
      await env.DB.batch(endpointDelete(env.DB, u.tenant, params.id!, [secretName(params.id!), previousSecretName(params.id!)]));
      await wake(env, u.tenant, req);
      return { ok: true };
    },
  }),
  route({
    method: "post", path: "/api/v1/admin/webhooks/:id/rotate", access: "admin", tags: ["events", "admin"],
    summary: "A new secret (shown once); the old one signs too for 24 hours, so receivers can switch without a gap",
    handler: async ({ env, caller, params }) => {
      const u = asUser(caller);
      const ep = await found(env, u.tenant, params.id!);
      const old = await tenantSecret(env, u.tenant, secretName(ep.id));
      if (old) await setTenantSecret(env, u.tenant, previousSecretName(ep.id), old);
      const secret = newWebhookSecret();
      await setTenantSecret(env, u.tenant, secretName(ep.id), secret);
      await endpointUpdate(env.DB, u.tenant, ep.id, { previous_until: Date.now() + ROTATION_OVERLAP_MS }, Date.now()).run();
      return { ...view((await endpoint(env.DB, u.tenant, ep.id))!), secret };
    },
  }),
  route({
    method: "get", path: "/api/v1/admin/webhooks/:id/deliveries", access: "admin", tags: ["events", "admin"],
    summary: "An endpoint's deliveries, newest first: state, attempts, the receiver's last status, the error, latency, the next try",
    query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100), state: z.enum(["pending", "delivered", "retrying", "failed"]).optional() }).strict(),
    handler: async ({ env, caller, params, query }) => {
      const u = asUser(caller);
      await found(env, u.tenant, params.id!);
      const rows = await deliveryHistory(env.DB, u.tenant, params.id!, query.limit, query.state);
      return { deliveries: rows.map((d) => ({ sequence: d.seq, state: d.state, attempts: d.attempts, status: d.last_status, error: d.last_error, latencyMs: d.latency_ms, nextAt: d.next_at, at: d.updated_at })) };
    },
  }),
  route({
    method: "post", path: "/api/v1/admin/webhooks/:id/replay", access: "admin", tags: ["events", "admin"],
    summary: "Sends again the deliveries of a range of events ({ from, to } sequences, at most 1,000), each with its original webhook-id and a fresh timestamp",
    body: z.object({ from: z.number().int().min(1), to: z.number().int().min(1) }).strict(),
    handler: async ({ req, env, caller, params, body }) => {
      const u = asUser(caller);
      const ep = await found(env, u.tenant, params.id!);
      if (body.to < body.from || body.to - body.from >= 1000) throw badRequest("invalid_range", "from ≤ to, at most 1,000 events");
      const seqs = await replayRange(env.DB, u.tenant, ep.id, body.from, body.to, Date.now());
      await enqueueDeliveries(env, u.tenant, ep.id, seqs, new URL(env.PUBLIC_URL || req.url).origin);
      return { replaying: seqs.length };
    },
  }),
];
