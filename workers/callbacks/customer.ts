// The customer's side of a web callback: asking to be called back within a window (a 'callback'
// interaction its queue holds, scheduled, until the window opens), looking at it and cancelling it
// with the token they were given.
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import * as z from "zod";
import { queueStub } from "../../durable-objects/names.ts";
import type { CompiledConfig } from "../config/compiled.ts";
import { getConfig } from "../config/store.ts";
import { clientIp, enforceRate } from "../forms/limit.ts";
import { sha256Hex } from "../kernel/ids.ts";
import { AppError, badRequest, conflict, fail, notFound } from "../kernel/errors.ts";
import { e164 } from "../kernel/phone.ts";
import { routeNew, submitNew } from "../interactions/ingest.ts";
import { callbackCancelled, callbackInsert, callbackRow, type CallbackRow } from "../ucs/callbacks.ts";
import { identifyContact } from "../ucs/contacts.ts";
import { scheduledDueAt } from "../ucs/event-reads.ts";
import { createInteraction, getInteractionRow, transitionBatch, type InteractionRow } from "../ucs/interactions.ts";
import { DAY_MS, type RequestBody } from "./schemas.ts";

/** The tenant's config with its callbacks section; a tenant without one (or no tenant) is a 404. */
export async function callbacksOf(env: TenantEnv, tenant: string): Promise<{ cfg: CompiledConfig; cb: NonNullable<CompiledConfig["raw"]["callbacks"]> }> {
  const none = notFound("no_callbacks", `tenant '${tenant}' takes no callback requests`);
  const cfg = await getConfig(env.DB, tenant).catch((e: unknown) => {
    throw e instanceof AppError && e.status === 404 ? none : e;
  });
  if (!cfg.raw.callbacks) throw none;
  return { cfg, cb: cfg.raw.callbacks };
}

const phoneOf = (raw: string): string => e164(raw) ?? fail(badRequest("invalid_phone", `phone: '${raw}' is not a phone number (include the country code, like +14155550100)`));

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
async function withToken(env: TenantEnv, tenant: string, id: string, token: string): Promise<CallbackRow> {
  const row = await callbackRow(env.DB, tenant, id);
  // Comparing hashes: nothing useful leaks through timing.
  if (!row || row.token_hash !== (await sha256Hex(token))) throw notFound("unknown_callback", `no callback '${id}'`);
  return row;
}

/** The customer's words for the interaction's state. */
export function customerState(i: InteractionRow, outcome: string | null): string {
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

export const iso = (ms: number) => new Date(ms).toISOString();

export async function requestCallback(req: Request, env: TenantEnv, b: z.infer<typeof RequestBody>, cfg: CompiledConfig, cb: NonNullable<CompiledConfig["raw"]["callbacks"]>) {
  await enforceRate(env.DB, `callback:${b.tenant}:${clientIp(req)}`, cb.rateLimit);
  const phone = phoneOf(b.phone);
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
  await callbackInsert(env.DB, { tenant: b.tenant, interactionId: created.id, phone, name: b.name || null, topic: b.topic || null, start, end, tokenHash: await sha256Hex(token), at: now }).run();
  if (!created.created) {
    const stored = await callbackRow(env.DB, b.tenant, created.id);
    if (stored && stored.token_hash !== (await sha256Hex(token))) throw conflict("idempotency_key_reused", "idempotencyKey: already used for a different callback request");
    if (created.state === "new") await submitNew(env, b.tenant, created.id, "resubmitted").catch((e: unknown) => console.error("resubmit", e));
    return { interactionId: created.id, token, state: created.state, scheduledFor: iso(stored?.window_start ?? start), duplicate: true };
  }
  // Held, scheduled, in the queue until the window opens (an alarm there); a window already open routes now.
  const item = { id: created.id, media: "callback" as const, priority: wf.priority, subject, contactId: contact.id, categories: [], attributes, ...(start > now ? { dueAt: start } : {}) };
  const r = await routeNew(env, b.tenant, wf.queue, item, "web");
  return { interactionId: created.id, token, state: r.state, scheduledFor: iso(Math.max(start, now)), duplicate: false };
}

export async function cancel(env: TenantEnv, tenant: string, id: string, token: string) {
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
  await callbackCancelled(env.DB, tenant, id, Date.now()).run();
  return { interactionId: id, state: "cancelled", outcome: "cancelled" };
}

/** The customer's view of their request: its state in their words, the window, the outcome. */
export async function callbackView(env: TenantEnv, tenant: string, id: string, token: string) {
  const c = await withToken(env, tenant, id, token);
  const i = await getInteractionRow(env.DB, tenant, id);
  const state = customerState(i, c.outcome);
  const next = state === "scheduled" ? await scheduledDueAt(env.DB, tenant, i.id) : null;
  return {
    interactionId: i.id, state, window: { start: iso(c.window_start), end: iso(c.window_end) }, topic: c.topic, outcome: c.outcome, attempts: c.attempts,
    ...(next !== null ? { scheduledFor: iso(next) } : {}),
  };
}
