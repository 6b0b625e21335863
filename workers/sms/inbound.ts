// An SMS arriving at a contact-center number, whatever the provider: compliance keywords first (STOP,
// START, HELP: recorded and answered, no interaction), else (paging mode) one SMS interaction per
// message, its contact found by the sender's number in E.164 (read the same way on every door: sender.ts). Exactly once per provider message id:
// a provider's retry finds the first row and gets the same answer.
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import { classificationWrite, classifiedFields, classifyStep, queueTakes } from "../analyzer/step.ts";
import type { CompiledConfig } from "../config/compiled.ts";
import type { TenantConfig } from "../config/schema.ts";
import { badRequest } from "../kernel/errors.ts";
import { newId } from "../kernel/ids.ts";
import { routeNew } from "../interactions/ingest.ts";
import { contactLookup, identifyContact, type IdentifierRow } from "../ucs/contacts.ts";
import { createInteraction, type NewPart } from "../ucs/interactions.ts";
import { chatStub } from "../../durable-objects/names.ts";
import { unwrap } from "../../durable-objects/result.ts";
import { keywordOf, type Keyword } from "./keywords.ts";
import { segmentInfo } from "./segments.ts";
import { senderNumber, type Sender } from "./sender.ts";
import { activeSession, inboundInsert, inboundInsertFor, inboundSeenStatement, optIn, optOut, sessionEnd, sessionStart, type SeenRow } from "../ucs/sms.ts";

export type CenterNumber = TenantConfig["numbers"][number];

export interface InboundSms {
  provider: "twilio" | "generic";
  providerId: string;
  from: string;
  to: string;
  body: string;
  /** MMS parts already fetched into R2 (or noted as not fetched), in the order the provider gave. */
  media?: NewPart[];
}

export type InboundOutcome =
  | { kind: "keyword"; keyword: Keyword; reply: string; duplicate: boolean }
  | { kind: "interaction"; interactionId: string; duplicate: boolean };

/** What the sender hears back for each keyword. */
export function keywordReply(k: Keyword, tenantName: string): string {
  if (k === "opt_out") return `You are unsubscribed from ${tenantName} and will get no more messages. Reply START to subscribe again.`;
  if (k === "opt_in") return `You are subscribed to ${tenantName} again. Reply STOP to unsubscribe, HELP for help.`;
  return `${tenantName}: reply to this number to reach our team. Reply STOP to unsubscribe. Msg & data rates may apply.`;
}

/** The sender in E.164 when it is a phone number (read leniently, with the center number's country),
 *  else as sent: a short code, a sender id, or (MM7) an email address. */
function sender(raw: string, center: string): Sender {
  return senderNumber(raw, center) ?? { number: raw.trim().slice(0, 100), phone: false };
}

export async function receiveSms(env: TenantEnv, cfg: CompiledConfig, center: CenterNumber, sms: InboundSms): Promise<InboundOutcome> {
  const tenant = cfg.raw.tenant.id;
  if (!sms.providerId || sms.providerId.length > 100) throw badRequest("invalid_message_id", "the provider's message id is missing or too long");
  const from = sender(sms.from, center.number);
  // One round trip for what the message needs to know: whether it is a retry, and who sent it.
  const who = from.phone ? contactLookup(env.DB, tenant, { phone: from.number }, { byName: false }) : null;
  const reads = await env.DB.batch<Record<string, unknown>>([inboundSeenStatement(env.DB, tenant, sms.provider, sms.providerId), ...(who?.stmt ? [who.stmt] : [])]);
  const prior = (reads[0]!.results[0] as SeenRow | undefined) ?? null;
  if (prior?.keyword) return { kind: "keyword", keyword: prior.keyword, reply: keywordReply(prior.keyword, cfg.raw.tenant.name), duplicate: true };
  if (prior?.interaction_id) return { kind: "interaction", interactionId: prior.interaction_id, duplicate: true };

  const now = Date.now();
  const seg = segmentInfo(sms.body);
  const row = (interactionId: string | null, keyword: Keyword | null) =>
    inboundInsert(env.DB, { tenant, id: newId("s"), provider: sms.provider, providerId: sms.providerId, interactionId, center: center.number, customer: from.number, body: sms.body, encoding: seg.encoding, segments: seg.segments, keyword, at: now });

  const keyword = keywordOf(sms.body);
  if (keyword) {
    const change =
      keyword === "opt_out"
        ? optOut(env.DB, tenant, center.number, from.number, now)
        : keyword === "opt_in"
          ? optIn(env.DB, tenant, center.number, from.number)
          : null;
    await env.DB.batch(change ? [row(null, keyword), change] : [row(null, keyword)]);
    return { kind: "keyword", keyword, reply: keywordReply(keyword, cfg.raw.tenant.name), duplicate: false };
  }

  const wf = cfg.workflows.get(center.workflow);
  if (!wf) throw badRequest("unknown_workflow", `number ${center.number}: no workflow '${center.workflow}'`);
  if (center.mode === "session") return sessionInbound(env, cfg, center, sms, from, row, wf);
  const contact = who ? await who.resolve((reads[1]?.results ?? []) as unknown as IdentifierRow[]) : undefined;
  // A message with media is MMS where the queue takes MMS; else it is worked as SMS with its parts.
  const media = sms.media?.length && cfg.queues.get(wf.queue)?.config.media.includes("mms") ? "mms" : "sms";
  const classified = await classifyStep(env, tenant, cfg, wf, null, sms.body);
  const { queue, priority, categories, attributes } = classifiedFields(classified, { queue: wf.queue, priority: wf.priority, categories: [], attributes: { center: center.number, customer: from.number } }, queueTakes(cfg, media));
  const externalId = `sms:${sms.provider}:${sms.providerId}`;
  // The message's own row goes in the interaction's batch: one round trip writes both.
  const created = await createInteraction(env.DB, {
    tenant, externalId, media, channel: sms.media?.length ? "mms" : "sms", direction: "inbound", subject: `${media.toUpperCase()} from ${from.number}`, text: sms.body,
    contactId: contact?.id, queue, priority, categories, attributes, actor: `sms:${sms.provider}`, workflow: wf.name, parts: sms.media,
    also: [inboundInsertFor(env.DB, { tenant, id: newId("s"), provider: sms.provider, providerId: sms.providerId, center: center.number, customer: from.number, body: sms.body, encoding: seg.encoding, segments: seg.segments, keyword: null, at: now }, externalId)],
  });
  if (classified && created.created) await classificationWrite(env.DB, tenant, created.id, classified, Date.now()).run();
  if (created.created)
    await routeNew(env, tenant, queue, { id: created.id, media, priority, subject: `${media.toUpperCase()} from ${from.number}`, contactId: contact?.id ?? null, categories, attributes }, `sms:${sms.provider}`);
  return { kind: "interaction", interactionId: created.id, duplicate: !created.created };
}

/** Session mode: the pair's active conversation takes the message as the customer's chat message;
 *  with none, a new one starts (a chat interaction on the SMS channel, its ChatSession, the pair's
 *  record). Agents work it in the chat view; what they say goes back as SMS. */
async function sessionInbound(
  env: TenantEnv,
  cfg: CompiledConfig,
  center: CenterNumber,
  sms: InboundSms,
  from: Sender,
  row: (interactionId: string | null, keyword: Keyword | null) => D1PreparedStatement,
  wf: NonNullable<ReturnType<CompiledConfig["workflows"]["get"]>>,
): Promise<InboundOutcome> {
  const tenant = cfg.raw.tenant.id;
  const text = [sms.body.trim(), sms.media?.length ? `(${sms.media.length} media part${sms.media.length === 1 ? "" : "s"})` : ""].filter(Boolean).join(" ") || "(empty message)";
  const clientId = `${sms.provider}:${sms.providerId}`.slice(0, 100);
  const active = await activeSession(env.DB, tenant, center.number, from.number);
  if (active) {
    const r = await chatStub(env, tenant, active).post("customer", { clientId, text });
    if (r.ok) {
      await row(active, null).run();
      return { kind: "interaction", interactionId: active, duplicate: r.value.duplicate };
    }
    // Ended a moment ago (the agent or the timeout): the pair starts over.
    await sessionEnd(env.DB, tenant, active, Date.now()).run();
  }
  const contact = from.phone ? await identifyContact(env.DB, tenant, { phone: from.number }, { byName: false }) : undefined;
  // The conversation's first message is what it is about: it is classified as it opens.
  const classified = await classifyStep(env, tenant, cfg, wf, null, sms.body);
  const { queue, priority, categories, attributes } = classifiedFields(classified, { queue: wf.queue, priority: wf.priority, categories: [], attributes: { center: center.number, customer: from.number } }, queueTakes(cfg, "chat"));
  const created = await createInteraction(env.DB, {
    tenant, externalId: `sms:${sms.provider}:${sms.providerId}`, media: "chat", channel: "sms", direction: "inbound", subject: `SMS conversation with ${from.number}`,
    contactId: contact?.id, queue, priority, categories, attributes, actor: `sms:${sms.provider}`, workflow: wf.name, parts: sms.media,
  });
  const id = created.id;
  unwrap(await chatStub(env, tenant, id).open({ tenant, interactionId: id, queue, contactId: contact?.id ?? null, customer: { name: from.number, email: null }, sms: { center: center.number, customer: from.number, idleSeconds: center.idleTimeoutSeconds } }));
  await env.DB.batch([
    sessionStart(env.DB, tenant, id, center.number, from.number, Date.now()),
    row(id, null),
    ...(classified && created.created ? [classificationWrite(env.DB, tenant, id, classified, Date.now())] : []),
  ]);
  unwrap(await chatStub(env, tenant, id).post("customer", { clientId, text }));
  if (created.created) await routeNew(env, tenant, queue, { id, media: "chat", priority, subject: `SMS conversation with ${from.number}`, contactId: contact?.id ?? null, categories, attributes }, `sms:${sms.provider}`);
  return { kind: "interaction", interactionId: id, duplicate: !created.created };
}
