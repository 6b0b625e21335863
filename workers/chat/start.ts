// Steps 1 to 4 of the seed's chat flow: the widget's request opens a ChatSession, the interaction is
// written to the contact history and submitted to the chat workflow's queue. Idempotent on the
// widget's clientId: a retry (a lost answer, a double click) gets the same chat, while it is live and
// within RESUME_WINDOW_MS of its start, or later with the chat's own token (resume.ts).
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import type { CompiledConfig } from "../config/compiled.ts";
import type { ChatSettings } from "../config/schema.ts";
import { AppError, badRequest, notFound } from "../kernel/errors.ts";
import { routeNew } from "../interactions/ingest.ts";
import { contactLookup, type IdentifierRow } from "../ucs/contacts.ts";
import { externalIdStatement } from "../ucs/interaction-reads.ts";
import { createInteraction } from "../ucs/interactions.ts";
import { chatStub, queueStub } from "../../durable-objects/names.ts";
import { unwrap } from "../../durable-objects/result.ts";
import { isOpen } from "./hours.ts";
import { mayResume } from "./resume.ts";

export interface StartChat {
  clientId: string;
  name?: string;
  email?: string;
  phone?: string;
  subject?: string;
  fields?: Record<string, string>;
}

export type Availability = { available: true } | { available: false; reason: "closed" | "no_agents" };

export function chatSettings(cfg: CompiledConfig): ChatSettings {
  const chat = cfg.raw.chat;
  if (!chat) throw notFound("chat_not_enabled", `tenant '${cfg.raw.tenant.id}' has no website chat`);
  return chat;
}

/** Open now and somebody logged in who could take a chat in the entry queue. */
export async function availability(env: TenantEnv, cfg: CompiledConfig, now = new Date()): Promise<Availability> {
  const chat = chatSettings(cfg);
  if (!isOpen(chat.hours, now)) return { available: false, reason: "closed" };
  const wf = cfg.workflows.get(chat.workflow)!;
  const staffed = await queueStub(env, cfg.raw.tenant.id, wf.queue).staffed("chat");
  return staffed > 0 ? { available: true } : { available: false, reason: "no_agents" };
}

/** Every required pre-chat field filled in, wherever the widget put it. */
function checkPreChat(chat: ChatSettings, b: StartChat): void {
  for (const f of chat.preChatFields) {
    const v = (b as unknown as Record<string, unknown>)[f.name] ?? b.fields?.[f.name];
    if (f.required && (typeof v !== "string" || !v.trim())) throw badRequest("missing_field", `${f.name}: required`, [{ path: f.name, message: "required" }]);
  }
}

/** `heldChat`: the chat named by a valid chat token the request carried (this tenant's), if any. */
/** `rate`: the visitor's rate check, counted in the same round trip as the chat's reads. */
export async function startChat(env: TenantEnv, cfg: CompiledConfig, b: StartChat, heldChat: string | null = null, rate?: { stmt: D1PreparedStatement; enforce: (r: D1Result) => void }): Promise<{ interactionId: string; created: boolean; name: string }> {
  const tenant = cfg.raw.tenant.id;
  const chat = chatSettings(cfg);
  checkPreChat(chat, b);
  const wf = cfg.workflows.get(chat.workflow)!;
  const name = b.name?.trim() || "Visitor";
  const externalId = `chat:${b.clientId}`;
  // One round trip: the rate, a retry of this start, and the visitor's contact when they gave an address.
  // A display name never finds a contact on a public channel: anyone can type any name.
  const who = b.email || b.phone ? contactLookup(env.DB, tenant, { email: b.email, phone: b.phone, name: b.name }, { byName: false }) : null;
  const reads = await env.DB.batch<Record<string, unknown>>([...(rate ? [rate.stmt] : []), externalIdStatement(env.DB, tenant, externalId), ...(who?.stmt ? [who.stmt] : [])]);
  if (rate) rate.enforce(reads.shift()!);
  const prior = reads[0]!.results[0] as { id: string; queue: string; created_at: number } | undefined;
  if (prior) {
    // A retry of a request that failed after the insert: make sure the session is open.
    const st = unwrap(await chatStub(env, tenant, prior.id).open({ tenant, interactionId: prior.id, queue: prior.queue, contactId: null, customer: { name, email: b.email ?? null } }));
    const may = mayResume({ status: st.status, startedAt: prior.created_at, now: Date.now(), heldToken: heldChat === prior.id });
    if (!may.ok)
      throw new AppError(409, "chat_not_resumable", may.reason === "ended" ? "this chat has ended; start a new one with a new clientId" : "this clientId belongs to a chat that can be resumed only with its session token; start a new one with a new clientId");
    return { interactionId: prior.id, created: false, name };
  }
  const a = await availability(env, cfg);
  if (!a.available) throw new AppError(409, "chat_unavailable", a.reason === "closed" ? "chat is closed now; leave a message instead" : "no agent is available; leave a message instead", { reason: a.reason });
  const contact = who ? await who.resolve((reads[1]?.results ?? []) as unknown as IdentifierRow[]) : undefined;
  const attributes = Object.fromEntries(Object.entries(b.fields ?? {}).slice(0, 20));
  // The same subject in the history and on the queue item, so the agent's offer says who is waiting.
  const subject = b.subject?.trim() || `Chat with ${name}`;
  const created = await createInteraction(env.DB, {
    tenant, externalId, media: "chat", channel: "web-chat", direction: "inbound", subject,
    contactId: contact?.id, queue: wf.queue, priority: wf.priority, categories: [], attributes, actor: "customer", workflow: wf.name,
  });
  const id = created.id;
  unwrap(await chatStub(env, tenant, id).open({ tenant, interactionId: id, queue: wf.queue, contactId: contact?.id ?? null, customer: { name, email: b.email ?? null } }));
  if (created.created) await routeNew(env, tenant, wf.queue, { id, media: "chat", priority: wf.priority, subject, contactId: contact?.id ?? null, categories: [], attributes }, "customer");
  return { interactionId: id, created: created.created, name };
}
