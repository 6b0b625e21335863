// Web callbacks (Web API Server): a customer asks to be called back within a window. The request
// becomes a 'callback' interaction its queue holds, scheduled, until the window opens; the customer
// can look at it and cancel it with the token they were given; the agent who calls records the
// outcome and either finishes it or schedules another attempt.
import { parsePhoneNumberFromString } from "libphonenumber-js";
import * as z from "zod";
import type { AgentStatus } from "../../../durable-objects/agent.ts";
import { agentStub, queueStub } from "../../../durable-objects/names.ts";
import { unwrap } from "../../../durable-objects/result.ts";
import type { CompiledConfig } from "../../config/compiled.ts";
import { getConfig } from "../../config/store.ts";
import { clientIp, enforceRate } from "../../forms/limit.ts";
import { sha256Hex } from "../../kernel/ids.ts";
import { routeNew, submitNew } from "../../interactions/ingest.ts";
import { identifyContact } from "../../ucs/contacts.ts";
import { addNote, createInteraction, getInteractionRow, transitionBatch, type InteractionRow } from "../../ucs/interactions.ts";
import { Reply, route, type RouteDef } from "../api.ts";
import { allowedOrigin } from "../cors.ts";
import { AppError, badRequest, conflict, forbidden, notFound } from "../../kernel/errors.ts";
import { eventStatements } from "../../ucs/events.ts";

const DAY_MS = 86_400_000;
const Tenant = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "a tenant id");
const Instant = z.iso.datetime({ offset: true }).describe("ISO 8601 with a zone, like 2030-05-01T14:00:00Z");
const Token = z.string().min(1).max(200);

const RequestBody = z
  .object({
    tenant: Tenant,
    phone: z.string().min(1).max(40).describe("Any format with the country code; stored in E.164"),
    name: z.string().trim().max(200).optional(),
    topic: z.string().trim().max(200).optional(),
    windowStart: Instant,
    windowEnd: Instant,
    idempotencyKey: z.string().min(1).max(200).regex(/^[\x20-\x7e]+$/, "printable ASCII").optional().describe("A retry with the same key answers the first request, with the same token"),
  })
  .strict();
const TokenQuery = z.object({ tenant: Tenant, token: Token });
const CancelBody = z.object({ tenant: Tenant, token: Token }).strict();
const OUTCOMES = ["reached", "no_answer", "busy", "wrong_number"] as const;
const OutcomeBody = z.object({ outcome: z.enum(OUTCOMES), note: z.string().trim().min(1).max(10_000).optional(), rescheduleAt: Instant.optional() }).strict();
const Created = z.object({ interactionId: z.string(), token: z.string(), state: z.string(), scheduledFor: z.string(), duplicate: z.boolean() });

interface CallbackRow {
  interaction_id: string; phone: string; name: string | null; topic: string | null; window_start: number; window_end: number;
  token_hash: string; attempts: number; outcome: string | null; created_at: number; updated_at: number;
}

/** The tenant's config with its callbacks section; a tenant without one (or no tenant) is a 404. */
async function callbacksOf(env: Env, tenant: string): Promise<{ cfg: CompiledConfig; cb: NonNullable<CompiledConfig["raw"]["callbacks"]> }> {
  const none = notFound("no_callbacks", `tenant '${tenant}' takes no callback requests`);
  const cfg = await getConfig(env.DB, tenant).catch((e: unknown) => {
    throw e instanceof AppError && e.status === 404 ? none : e;
  });
  if (!cfg.raw.callbacks) throw none;
  return { cfg, cb: cfg.raw.callbacks };
}

function e164(raw: string): string {
  const p = parsePhoneNumberFromString(raw);
  if (!p?.isValid()) throw badRequest("invalid_phone", `phone: '${raw}' is not a phone number (include the country code, like +14155550100)`);
  return p.number;
}

/** A retry with the same idempotencyKey must get the same token back, yet only its hash is kept:
 *  so a keyed request's token is derived (HMAC with the server's secret), an unkeyed one random. */
async function newToken(secret: string, tenant: string, key: string | undefined): Promise<string> {
  let bytes: Uint8Array;
  if (key === undefined) bytes = crypto.getRandomValues(new Uint8Array(32));
  else {
    const k = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    bytes = new Uint8Array(await crypto.subtle.sign("HMAC", k, new TextEncoder().encode(`callback-token:${tenant}:${key}`)));
  }
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The callback, if the token is its own; a wrong token answers exactly like an unknown id. */
async function withToken(env: Env, tenant: string, id: string, token: string): Promise<CallbackRow> {
  const row = await env.DB.prepare("SELECT * FROM callbacks WHERE tenant_id = ? AND interaction_id = ?").bind(tenant, id).first<CallbackRow>();
  // Comparing hashes: nothing useful leaks through timing.
  if (!row || row.token_hash !== (await sha256Hex(token))) throw notFound("unknown_callback", `no callback '${id}'`);
  return row;
}

/** The customer's words for the interaction's state. */
function customerState(i: InteractionRow, outcome: string | null): string {
  switch (i.state) {
    case "scheduled": return "scheduled";
    case "new": case "queued": return "waiting";
    case "workbin": return i.workbin?.startsWith("queue:") ? "waiting" : "in_progress";
    case "offered": case "handling": return "in_progress";
    case "done": return "done";
    case "stopped": return outcome === "cancelled" ? "cancelled" : "closed";
    default: return "closed";
  }
}

/** When a scheduled callback is next due: the latest 'scheduled' transition's dueAt. */
async function dueAt(db: D1Database, tenant: string, id: string): Promise<number | null> {
  const r = await db.prepare("SELECT reason FROM interaction_events WHERE tenant_id = ? AND interaction_id = ? AND to_state = 'scheduled' ORDER BY seq DESC LIMIT 1").bind(tenant, id).first<{ reason: string | null }>();
  const due = r?.reason ? (JSON.parse(r.reason) as { dueAt?: number }).dueAt : undefined;
  return typeof due === "number" ? due : null;
}

const iso = (ms: number) => new Date(ms).toISOString();

async function requestCallback(req: Request, env: Env, b: z.infer<typeof RequestBody>, cfg: CompiledConfig, cb: NonNullable<CompiledConfig["raw"]["callbacks"]>) {
  await enforceRate(env.DB, `callback:${b.tenant}:${clientIp(req)}`, cb.rateLimit);
  const phone = e164(b.phone);
  const now = Date.now();
  const start = Date.parse(b.windowStart), end = Date.parse(b.windowEnd);
  if (end <= start) throw badRequest("invalid_window", "windowEnd: must be after windowStart");
  if (end <= now) throw badRequest("invalid_window", "windowEnd: must be in the future");
  if (start > now + cb.maxDaysAhead * DAY_MS) throw badRequest("invalid_window", `windowStart: at most ${cb.maxDaysAhead} days ahead`);
  const wf = cfg.workflows.get(cb.workflow);
  const queue = wf ? cfg.queues.get(wf.queue) : undefined;
  if (!wf || !queue) throw badRequest("unknown_workflow", `callbacks: no workflow '${cb.workflow}'`);
  if (!queue.config.media.includes("callback")) throw badRequest("media_not_accepted", `callbacks: queue '${wf.queue}' does not take callbacks`);

  // The request itself is part of a keyed token: someone reposting a known key with other details
  // gets a different token, which the stored hash refuses below, not the first customer's.
  const token = await newToken(env.AUTH_SECRET, b.tenant, b.idempotencyKey === undefined ? undefined : `${b.idempotencyKey}|${phone}|${start}|${end}|${b.topic ?? ""}|${b.name ?? ""}`);
  const contact = await identifyContact(env.DB, b.tenant, { phone, name: b.name || undefined }, { byName: false });
  const subject = b.topic ? `Callback: ${b.topic}` : "Callback";
  const text = [`Phone: ${phone}`, b.name && `Name: ${b.name}`, b.topic && `Topic: ${b.topic}`, `Window: ${iso(start)} – ${iso(end)}`].filter(Boolean).join("\n");
  const attributes = { phone, windowStart: iso(start), windowEnd: iso(end) };
  const created = await createInteraction(env.DB, {
    tenant: b.tenant, externalId: b.idempotencyKey === undefined ? undefined : `callback:${b.idempotencyKey}`, media: "callback", channel: "web", direction: "inbound",
    subject, text, contactId: contact.id, queue: wf.queue, priority: wf.priority, categories: [], attributes, actor: "web",
  });
  // Also on a repeat: heals a first request that stopped between the two writes (same token, same hash).
  await env.DB.prepare(
    `INSERT INTO callbacks (tenant_id, interaction_id, phone, name, topic, window_start, window_end, token_hash, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  ).bind(b.tenant, created.id, phone, b.name || null, b.topic || null, start, end, await sha256Hex(token), now, now).run();
  if (!created.created) {
    const stored = await env.DB.prepare("SELECT token_hash FROM callbacks WHERE tenant_id = ? AND interaction_id = ?").bind(b.tenant, created.id).first<{ token_hash: string }>();
    if (stored && stored.token_hash !== (await sha256Hex(token))) throw conflict("idempotency_key_reused", "idempotencyKey: already used for a different callback request");
    if (created.state === "new") await submitNew(env, b.tenant, created.id, "resubmitted").catch((e: unknown) => console.error("resubmit", e));
    const first = await env.DB.prepare("SELECT window_start FROM callbacks WHERE tenant_id = ? AND interaction_id = ?").bind(b.tenant, created.id).first<{ window_start: number }>();
    return new Reply(202, { interactionId: created.id, token, state: created.state, scheduledFor: iso(first?.window_start ?? start), duplicate: true });
  }
  // Held, scheduled, in the queue until the window opens (an alarm there); a window already open routes now.
  const item = { id: created.id, media: "callback" as const, priority: wf.priority, subject, contactId: contact.id, categories: [], attributes, ...(start > now ? { dueAt: start } : {}) };
  const r = await routeNew(env, b.tenant, wf.queue, item, "web");
  return new Reply(202, { interactionId: created.id, token, state: r.state, scheduledFor: iso(Math.max(start, now)), duplicate: false });
}

async function cancel(env: Env, tenant: string, id: string, token: string) {
  await withToken(env, tenant, id, token);
  const i = await getInteractionRow(env.DB, tenant, id);
  const reason = "cancelled by the customer";
  const busy = () => conflict("in_progress", `callback '${id}' is with an agent now`);
  const heldBy = i.state === "workbin" ? (i.workbin?.startsWith("queue:") ? i.workbin.slice("queue:".length) : null) : i.queue;
  if (i.state === "new" && i.queue) {
    // D1 says 'new', but the queue object may hold it already (its own write lags): ask it first.
    const r = await queueStub(env, tenant, i.queue).stop(id, "customer", { reason });
    if (!r.ok && r.error.code === "being_routed") throw busy();
    if (!r.ok) {
      // Never reached its queue (the sweep would submit it): stopped here, in the history directly.
      const t = { tenant, id, at: Date.now(), actor: "customer", action: "stopped", from: "new" as const, to: "stopped" as const, queue: i.queue, reason: { reason } };
      await env.DB.batch(transitionBatch(env.DB, [t]));
    }
  } else if ((i.state === "scheduled" || i.state === "queued" || i.state === "workbin") && heldBy) {
    const r = await queueStub(env, tenant, heldBy).stop(id, "customer", { reason });
    // Not in the queue any more, or being offered this instant: an agent has it.
    if (!r.ok) throw r.error.code === "not_in_queue" || r.error.code === "being_routed" ? busy() : new AppError(r.error.status, r.error.code, r.error.message);
  } else if (i.state === "offered" || i.state === "handling" || i.state === "workbin") throw busy();
  else throw conflict("already_closed", `callback '${id}' is already ${i.state === "stopped" ? "cancelled or stopped" : i.state}`);
  await env.DB.prepare("UPDATE callbacks SET outcome = 'cancelled', updated_at = ? WHERE tenant_id = ? AND interaction_id = ?").bind(Date.now(), tenant, id).run();
  return { interactionId: id, state: "cancelled", outcome: "cancelled" };
}

async function recordOutcome(env: Env, tenant: string, agentId: string, id: string, b: z.infer<typeof OutcomeBody>) {
  const row = await env.DB.prepare("SELECT attempts FROM callbacks WHERE tenant_id = ? AND interaction_id = ?").bind(tenant, id).first<{ attempts: number }>();
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
    env.DB.prepare("UPDATE callbacks SET attempts = ?, outcome = ?, updated_at = ? WHERE tenant_id = ? AND interaction_id = ?").bind(attempts, b.outcome, now, tenant, id),
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

/** CORS for the customer's callback endpoints. The tenant is named in the body (or the query), which a
 *  preflight lacks: with ?tenant= its list is checked there, otherwise the actual request is (and
 *  refused with 403 before anything is stored). */
const callbackCors = (tenantOf: (ctx: { body: unknown; query: unknown }) => string) => ({
  origin: async (ctx: { req: Request; env: Env; body: unknown; query: unknown }) => allowedOrigin(ctx.req, (await callbacksOf(ctx.env, tenantOf(ctx))).cb.allowedOrigins),
  allowList: async ({ req, env }: { req: Request; env: Env }) => {
    const tenant = new URL(req.url).searchParams.get("tenant");
    return tenant ? (await callbacksOf(env, tenant)).cb.allowedOrigins : null;
  },
});
const inBody = ({ body }: { body: unknown }) => (body as { tenant: string }).tenant;
const inQuery = ({ query }: { query: unknown }) => (query as { tenant: string }).tenant;

export const callbackRoutes: RouteDef[] = [
  route({
    method: "post", path: "/api/v1/callbacks", access: "public", tags: ["callbacks"],
    summary: "Ask to be called back within a window. Held, scheduled, until windowStart; answers a token for checking and cancelling it.",
    body: RequestBody,
    responses: { 202: { description: "Accepted", schema: Created } },
    cors: callbackCors(inBody),
    handler: async ({ req, env, body }) => {
      const { cfg, cb } = await callbacksOf(env, body.tenant);
      return requestCallback(req, env, body, cfg, cb);
    },
  }),
  route({
    method: "get", path: "/api/v1/callbacks/:id", access: "public", tags: ["callbacks"], summary: "The customer's view of a callback request (state, window, outcome); a wrong token is a 404",
    query: TokenQuery,
    cors: callbackCors(inQuery),
    handler: async ({ env, params, query }) => {
      const c = await withToken(env, query.tenant, params.id!, query.token);
      const i = await getInteractionRow(env.DB, query.tenant, params.id!);
      const state = customerState(i, c.outcome);
      const next = state === "scheduled" ? await dueAt(env.DB, query.tenant, i.id) : null;
      return {
        interactionId: i.id, state, window: { start: iso(c.window_start), end: iso(c.window_end) }, topic: c.topic, outcome: c.outcome, attempts: c.attempts,
        ...(next !== null ? { scheduledFor: iso(next) } : {}),
      };
    },
  }),
  route({
    method: "post", path: "/api/v1/callbacks/:id/cancel", access: "public", tags: ["callbacks"],
    summary: "The customer cancels a callback still waiting or scheduled (409 in_progress once an agent has it, already_closed when finished); a wrong token is a 404",
    body: CancelBody,
    cors: callbackCors(inBody),
    handler: async ({ env, params, body }) => cancel(env, body.tenant, params.id!, body.token),
  }),
  route({
    method: "get", path: "/api/v1/interactions/:id/callback", access: "agent", tags: ["agent", "callbacks"],
    summary: "A callback's details for the agent who calls: number, name, topic, window, attempts and last outcome",
    handler: async ({ env, caller, params }) => {
      const c = await env.DB.prepare("SELECT * FROM callbacks WHERE tenant_id = ? AND interaction_id = ?").bind(caller.tenant, params.id!).first<CallbackRow>();
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
