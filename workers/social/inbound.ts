// One inbound message on a social channel, whatever the provider: recorded once per provider id,
// its media fetched into R2 before it is shown (or marked pending and retried), then placed in the
// customer's open conversation (a ChatSession) by the provider's time, or a new conversation opened
// in the same thread: contact found (a WhatsApp number is the same contact as SMS), classified,
// acknowledged inside the window, routed. A retry of a message that failed half-way completes it.
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import { classificationWrite, classifiedFields, classifyStep, queueTakes } from "../analyzer/step.ts";
import type { CompiledConfig } from "../config/compiled.ts";
import { newId } from "../kernel/ids.ts";
import { routeNew } from "../interactions/ingest.ts";
import { e164 } from "../kernel/phone.ts";
import { getContact, identifyContact } from "../ucs/contacts.ts";
import { createInteraction } from "../ucs/interactions.ts";
import type { QueueItem } from "../../durable-objects/types.ts";
import { renderTemplate, type FieldValues } from "../workflow/field-codes.ts";
import { chatStub } from "../../durable-objects/names.ts";
import { unwrap } from "../../durable-objects/result.ts";
import type { MessageExtra } from "../protocol/chat.ts";
import { apiBase, CHANNEL_NAMES, type AccountConfig } from "./accounts.ts";
import { outboundUrlProblem } from "../outbound/url-policy.ts";
import { tenantSecret } from "../secrets/store.ts";
import { fetchOne, MEDIA_LIFETIME_MS, queueMediaRetry } from "./media.ts";
import { queueSocial, recordSkipped, type SocialTarget } from "./outbound.ts";
import { deliveryRank, type Delivery, type EchoMessage, type InboundMessage, type StatusUpdate } from "./types.ts";
import { showDelivery } from "./outbound.ts";
import { automaticPlan, windowOf } from "./window.ts";
import { claimThread, outboundInsert, outboundStatus, sentUpTo, inboundPosted, mediaInsert, mediaOf, messageByProviderId, recordInbound, thread, threadEnd, threadInbound, type ThreadRow } from "../ucs/social.ts";

export interface InboundOutcome {
  interactionId: string | null;
  duplicate: boolean;
}

/** The text of the message a reaction or an edit is about, when it is ours to know. */
async function aboutText(db: D1Database, tenant: string, m: InboundMessage): Promise<string | undefined> {
  if (!m.about) return undefined;
  const row = (await messageByProviderId(db, tenant, m.channel, "in", m.about)) ?? (await messageByProviderId(db, tenant, m.channel, "out", m.about));
  return row ? row.body.slice(0, 200) : undefined;
}

/** A Messenger or Instagram customer's name, from the Graph API with the page token (webhooks carry
 *  only their id); best effort, briefly: the conversation opens without it if the API is slow. */
async function profileName(env: TenantEnv, tenant: string, a: AccountConfig, user: string): Promise<string | null> {
  if (a.channel !== "messenger" && a.channel !== "instagram") return null;
  if (outboundUrlProblem(apiBase(a), { devHost: env.DEV_OUTBOUND_HOST })) return null;
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), 3000);
  try {
    const token = await tenantSecret(env, tenant, a.cfg.token);
    if (!token) return null;
    const fields = a.channel === "messenger" ? "first_name,last_name" : "name,username";
    const res = await fetch(`${apiBase(a)}/${encodeURIComponent(user)}?fields=${fields}`, { headers: { Authorization: `Bearer ${token}` }, signal: stop.signal });
    if (!res.ok) return null;
    const p = (await res.json()) as { first_name?: unknown; last_name?: unknown; name?: unknown; username?: unknown };
    const name = [p.first_name, p.last_name].filter((x): x is string => typeof x === "string").join(" ") || (typeof p.name === "string" ? p.name : typeof p.username === "string" ? p.username : "");
    return name.trim().slice(0, 200) || null;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/** A new conversation in the thread (its first, or the next after one that ended). */
/** A conversation that takes the message; a new one carries what it is routed with. */
interface Conversation {
  id: string;
  created: boolean;
  route?: { queue: string; item: QueueItem };
}

async function openConversation(env: TenantEnv, cfg: CompiledConfig, a: AccountConfig, m: InboundMessage, t: ThreadRow | null): Promise<Conversation> {
  const tenant = cfg.raw.tenant.id;
  const wf = cfg.workflows.get(a.cfg.workflow);
  if (!wf) throw new Error(`${a.channel} ${a.id}: no workflow '${a.cfg.workflow}'`);
  const phone = m.channel === "whatsapp" ? e164(m.user) : null;
  m.userName ??= await profileName(env, tenant, a, m.user);
  const contactId = t?.contact_id ?? (await identifyContact(env.DB, tenant, phone ? { phone, name: m.userName ?? undefined } : { name: m.userName ?? undefined }, { byName: false })).id;
  const name = m.userName ?? (phone ?? `${CHANNEL_NAMES[m.channel]} user`);
  const subject = `${CHANNEL_NAMES[m.channel]} conversation with ${name}`;
  const conversationNo = (t?.conversations ?? 0) + 1;
  // The first message says what the conversation is about.
  const classified = m.text ? await classifyStep(env, tenant, cfg, wf, null, m.text) : null;
  const { queue, priority, categories, attributes } = classifiedFields(classified, { queue: wf.queue, priority: wf.priority, categories: [], attributes: { channel: m.channel, account: a.id, user: m.user } }, queueTakes(cfg, "chat"));
  // One interaction per thread and conversation number: two first messages at once make one.
  const created = await createInteraction(env.DB, {
    tenant, externalId: `social:${m.channel}:${a.id}:${m.user}:${conversationNo}`, media: "chat", channel: m.channel, direction: "inbound", subject,
    contactId, queue, priority, categories, attributes, actor: `social:${m.channel}`, workflow: wf.name,
  });
  const holder = await claimThread(env.DB, tenant, m.channel, a.id, m.user, created.id, conversationNo, contactId, Date.now());
  if (holder !== created.id) return { id: holder, created: false };
  unwrap(
    await chatStub(env, tenant, created.id).open({
      tenant, interactionId: created.id, queue, contactId, customer: { name, email: null },
      social: { channel: m.channel, account: a.id, user: m.user, idleSeconds: a.cfg.idleTimeoutSeconds, lastInboundAt: null },
    }),
  );
  if (created.created && classified) await classificationWrite(env.DB, tenant, created.id, classified, Date.now()).run();
  return { id: created.id, created: created.created, route: { queue, item: { id: created.id, media: "chat", priority, subject, contactId, categories, attributes } } };
}

/** The workflow's acknowledgement, as an automatic message: in the window as text, else the fallback template, else skipped with why. */
async function acknowledge(env: TenantEnv, cfg: CompiledConfig, a: AccountConfig, m: InboundMessage, interactionId: string, contact: string | null): Promise<void> {
  const wf = cfg.workflows.get(a.cfg.workflow);
  const r = wf?.acknowledge ? cfg.responses.get(wf.acknowledge) : undefined;
  if (!r) return;
  const tenant = cfg.raw.tenant.id;
  const target: SocialTarget = { tenant, interactionId, channel: m.channel, account: a.id, user: m.user };
  const c = contact ? await getContact(env.DB, tenant, contact) : null;
  const values: FieldValues = { contact: c ? { firstName: c.firstName, lastName: c.lastName } : undefined, interaction: { id: interactionId, receivedAt: m.at }, tenant: { name: cfg.raw.tenant.name }, now: Date.now() };
  const text = renderTemplate(r.text, values);
  const plan = automaticPlan(m.channel, windowOf(m.channel, m.at, Date.now()), cfg.raw.social?.fallbackTemplate);
  if ("skip" in plan) return recordSkipped(env, target, text, plan.skip, "workflow");
  const id = `ack-${interactionId}`;
  if (plan.send === "text") await queueSocial(env, target, { id, clientId: null, author: "workflow", body: text, outbound: { kind: "text", text } });
  else {
    const t = cfg.raw.social!.templates.find((x) => x.name === plan.template)!;
    await queueSocial(env, target, { id, clientId: null, author: "workflow", body: t.text, outbound: { kind: "template", name: t.name, language: t.language, params: t.params.map((p) => renderTemplate(p, values)) } });
  }
}

/** `exec`: the request's context; with it, marking the message done is not waited for (see below). */
export async function receiveMessage(env: TenantEnv, cfg: CompiledConfig, a: AccountConfig, m: InboundMessage, exec?: ExecutionContext): Promise<InboundOutcome> {
  const tenant = cfg.raw.tenant.id;
  const now = Date.now();
  const rec = await recordInbound(env.DB, { tenant, id: newId("sm"), channel: m.channel, account: a.id, user: m.user, providerId: m.providerId, kind: m.kind, body: m.text.slice(0, 10_000), providerAt: m.at, flagged: m.flagged ?? null, raw: m.raw ?? null, at: now });
  // Done before: the provider's retry gets the same answer and nothing more.
  if (rec.row.state === "posted") return { interactionId: rec.row.interaction_id, duplicate: true };
  const id = rec.row.id;
  // An update with no customer in it (a channel post, a poll): stored raw and flagged, nothing to show.
  if (m.user === "0") {
    await inboundPosted(env.DB, tenant, id, null, now).run();
    return { interactionId: null, duplicate: !rec.created };
  }
  if (m.media.length) await env.DB.batch(m.media.map((x, i) => mediaInsert(env.DB, tenant, id, i, { ref: x.ref, contentType: x.contentType, name: x.name, expiresAt: m.at + MEDIA_LIFETIME_MS[m.channel] })));
  const about = await aboutText(env.DB, tenant, m);
  const base: MessageExtra = { ...(m.kind !== "text" ? { kind: m.kind } : {}), ...(m.flagged ? { flagged: m.flagged } : {}), ...(about ? { about } : {}) };
  const text = m.text || (m.media.length ? "" : `(${m.kind})`);
  // The thread's open conversation takes it; one that ended a moment ago (the agent, the idle timer)
  // makes way for a new one in the same thread.
  let conv: Conversation | null = null;
  const open = rec.thread?.interaction_id;
  if (open) {
    const r = text ? await chatStub(env, tenant, open).socialInbound({ clientId: id, at: m.at, text, file: null, extra: base }) : await chatStub(env, tenant, open).state();
    const ended = r.ok ? "status" in r.value && r.value.status === "ended" : r.error.code === "chat_ended" || r.error.code === "no_chat";
    if (!r.ok && !ended) throw new Error(`chat ${open}: ${r.error.message}`);
    if (ended) await threadEnd(env.DB, tenant, open, Date.now()).run();
    else conv = { id: open, created: false };
  }
  if (!conv) {
    conv = await openConversation(env, cfg, a, m, rec.thread ? { ...rec.thread, interaction_id: null } : null);
    if (text) unwrap(await chatStub(env, tenant, conv.id).socialInbound({ clientId: id, at: m.at, text, file: null, extra: base }));
  }
  const chat = chatStub(env, tenant, conv.id);
  // The media before the answer, so the agent sees the message with it (or marked pending, never without a word).
  for (const row of m.media.length ? await mediaOf(env.DB, tenant, id) : []) {
    const out = await fetchOne(env, tenant, conv.id, a, row);
    const file = out.state === "stored" ? { key: out.key, type: out.type, size: out.size } : null;
    const extra: MessageExtra = { ...base, ...(out.state !== "stored" ? { media: out.state } : {}) };
    unwrap(await chat.socialInbound({ clientId: `${id}.${row.idx}`, at: m.at, text: row.name, file, extra }));
    if (out.state === "pending") await queueMediaRetry(env, tenant, id, row.idx, out.nextAt);
  }
  // 'posted' only spares a provider's retry the work: every step above is idempotent (the chat keys
  // each message by its id, a stored media item is not fetched again), so the answer need not wait for it.
  const posted = env.DB.batch([threadInbound(env.DB, tenant, m.channel, a.id, m.user, m.at, now), inboundPosted(env.DB, tenant, id, conv.id, now)]);
  if (exec && !conv.created) exec.waitUntil(posted.catch((e: unknown) => console.error(`social ${id}: not marked posted (a retry completes it)`, e)));
  else await posted;
  if (conv.created && conv.route) {
    await routeNew(env, tenant, conv.route.queue, conv.route.item, `social:${m.channel}`);
    await acknowledge(env, cfg, a, m, conv.id, conv.route.item.contactId).catch((e: unknown) => console.error(`social ${id}: acknowledgement`, e));
  }
  return { interactionId: conv.id, duplicate: !rec.created };
}

/** A message the business sent from the provider's own inbox: shown once in the open conversation, and recorded. */
export async function receiveEcho(env: TenantEnv, cfg: CompiledConfig, a: AccountConfig, e: EchoMessage): Promise<InboundOutcome> {
  const tenant = cfg.raw.tenant.id;
  const seen = await messageByProviderId(env.DB, tenant, e.channel, "out", e.providerId);
  if (seen) return { interactionId: seen.interaction_id, duplicate: true };
  const t = await thread(env.DB, tenant, e.channel, a.id, e.user);
  const id = newId("so");
  const now = Date.now();
  const r = await outboundInsert(env.DB, { tenant, id, channel: e.channel, account: a.id, user: e.user, interactionId: t?.interaction_id ?? null, clientId: id, kind: "text", body: e.text.slice(0, 10_000), payload: "{}", state: "sent", providerId: e.providerId, at: now }).run();
  if ((r.meta.changes ?? 0) === 0 || !t?.interaction_id) return { interactionId: t?.interaction_id ?? null, duplicate: (r.meta.changes ?? 0) === 0 };
  await chatStub(env, tenant, t.interaction_id).socialEcho({ clientId: id, at: e.at, text: e.text, name: `${CHANNEL_NAMES[e.channel]} inbox` });
  return { interactionId: t.interaction_id, duplicate: false };
}

/** A delivery status: onto our outbound message (or, for Meta's watermarks, every one sent up to it), only forward, and into the agent's view. */
export async function receiveStatus(env: TenantEnv, cfg: CompiledConfig, a: AccountConfig, s: StatusUpdate): Promise<number> {
  const tenant = cfg.raw.tenant.id;
  const rows = s.providerId
    ? [await messageByProviderId(env.DB, tenant, s.channel, "out", s.providerId)].filter((r) => r !== null)
    : s.upTo !== undefined
      ? await sentUpTo(env.DB, tenant, s.channel, a.id, s.user, s.upTo)
      : [];
  let moved = 0;
  for (const row of rows) {
    const cur = row.state as Delivery;
    if (cur in deliveryRank && deliveryRank[s.status] <= deliveryRank[cur]) continue;
    await outboundStatus(env.DB, tenant, row.id, s.status, s.error ?? null, Date.now()).run();
    await showDelivery(env, tenant, row.interaction_id, row.client_id, s.status, s.error);
    moved++;
  }
  return moved;
}
