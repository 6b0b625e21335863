// SMS webhooks. Twilio: urlencoded fields signed with X-Twilio-Signature over our public URL, answered
// with TwiML. A forged signature is a 403, a malformed request a 400, a retry of a message already
// taken the same answer again.
import { assertOpen, type TenantEnv } from "../../tenancy/tenant-env.ts";
import { verifiedWithSecret } from "../../sms/secret.ts";
import { numberOwner } from "../../sms/numbers.ts";
import * as z from "zod";
import { agentStub } from "../../../durable-objects/names.ts";
import { getConfig } from "../../config/store.ts";
import type { CompiledConfig } from "../../config/compiled.ts";
import { receiveSms, type CenterNumber } from "../../sms/inbound.ts";
import { fetchMedia, mediaRefs } from "../../sms/media.ts";
import { isOptedOut, MAX_SMS_CHARS, queueSms } from "../../sms/outbound.ts";
import { identifyContact } from "../../ucs/contacts.ts";
import { normalizePhone } from "../../ucs/identifiers.ts";
import { segmentInfo } from "../../sms/segments.ts";
import { createInteraction, getInteractionRow, transitionBatch } from "../../ucs/interactions.ts";
import { twiml } from "../../sms/twiml.ts";
import { checkTwilioSignature, type FormParams } from "../../sms/twilio-signature.ts";
import { checkGenericSignature } from "../../sms/generic-signature.ts";
import { senderNumber } from "../../sms/sender.ts";
import { Reply, asUser, route, type RouteDef } from "../api.ts";
import { AppError, badRequest, conflict, notFound } from "../../kernel/errors.ts";
import { readLimited } from "../../kernel/read-limited.ts";
import { providerMessageSeen, sentByProviderId, smsDeliveryStatus, smsOfInteraction } from "../../ucs/sms.ts";

/** Twilio's webhooks are small: the message (1,600 characters at most) and up to 10 media URLs. */
const MAX_WEBHOOK_BYTES = 64 * 1024;
const E164 = /^\+[1-9]\d{6,14}$/;

async function formOf(req: Request): Promise<FormParams> {
  if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers.get("Content-Type") ?? "")) throw new AppError(415, "unsupported_media_type", "send the webhook as application/x-www-form-urlencoded");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(await readLimited(req, MAX_WEBHOOK_BYTES));
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw badRequest("invalid_encoding", "the body is not valid UTF-8");
  }
  return [...new URLSearchParams(text)];
}

/** The one answer to a webhook that is not proven ours, whether the number is unknown, of another
 *  provider, has no secret, or the signature is wrong: the answers must not tell which numbers exist. */
const unverified = (header: string) => new AppError(403, "invalid_signature", `${header} does not match this request`);

/** The Twilio number a signed webhook is for, its tenant's config, and the fields, or the reason not. */
async function signedTwilio(req: Request, platform: Env, params: FormParams, to: string): Promise<{ cfg: CompiledConfig; center: CenterNumber; token: string; env: TenantEnv }> {
  if (!E164.test(to)) throw badRequest("invalid_number", `To: '${to}' is not an E.164 number`);
  const owner = await numberOwner(platform, to);
  if (!owner) throw unverified("X-Twilio-Signature");
  const { cfg, center, env } = owner;
  if (center.provider !== "twilio") throw unverified("X-Twilio-Signature");
  // Twilio signs the URL it was configured with: our public one.
  const url = new URL(req.url);
  const signedUrl = `${new URL(env.PUBLIC_URL).origin}${url.pathname}${url.search}`;
  // The owning tenant's token only: another tenant's, or a platform-wide one, signs nothing here.
  const token = await verifiedWithSecret(env, cfg, center, (t) => checkTwilioSignature(t, signedUrl, params, req.headers.get("X-Twilio-Signature")));
  if (!token) throw unverified("X-Twilio-Signature");
  const account = params.find(([n]) => n === "AccountSid")?.[1];
  if (center.accountSid && account !== center.accountSid) throw new AppError(403, "wrong_account", "the message is from another Twilio account");
  assertOpen(env);
  return { cfg, center, token, env };
}

const GenericSms = z.object({ id: z.string().min(1).max(100), from: z.string().min(1).max(40), to: z.string().regex(E164, "an E.164 number"), text: z.string().max(MAX_SMS_CHARS) }).strict();
const Text = z.object({ text: z.string().min(1).max(MAX_SMS_CHARS) }).strict();
/** An agent's reply; the desktop's clientId makes a repeated request (a double click, a retry) text once. */
const AgentSms = Text.extend({ clientId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/).optional() }).strict();

export const smsRoutes: RouteDef[] = [
  route({
    method: "post", path: "/api/v1/sms/twilio", access: "public", tags: ["sms"],
    summary: "Twilio's inbound SMS webhook (urlencoded, X-Twilio-Signature): STOP/START/HELP answered, anything else an SMS interaction; TwiML back",
    handler: async ({ req, env: platform }) => {
      const params = await formOf(req);
      const get = (k: string) => params.find(([n]) => n === k)?.[1];
      const sid = get("MessageSid") ?? get("SmsSid");
      const from = get("From");
      const to = get("To");
      const missing = [!sid && "MessageSid", !from && "From", !to && "To"].filter(Boolean);
      if (missing.length) throw badRequest("missing_field", `${missing.join(", ")}: required`);
      const { cfg, center, token, env } = await signedTwilio(req, platform, params, to!);
      // Every media part, fetched before the interaction is written (its parts go in the same transaction).
      const refs = mediaRefs(get);
      const seen = refs.length ? await providerMessageSeen(env.DB, "twilio", sid!, cfg.raw.tenant.id) : false;
      const media = refs.length && !seen ? await fetchMedia(env, cfg.raw.tenant.id, sid!, refs, { user: center.accountSid ?? get("AccountSid") ?? "", password: token }) : undefined;
      const out = await receiveSms(env, cfg, center, { provider: "twilio", providerId: sid!, from: from!, to: to!, body: get("Body") ?? "", media });
      return twiml(out.kind === "keyword" ? [out.reply] : []);
    },
  }),
  route({
    method: "post", path: "/api/v1/sms/generic", access: "public", tags: ["sms"],
    summary:
      "The generic SMS adapter: JSON { id, from, to, text } signed with X-Parley-Timestamp and X-Parley-Signature (sha256=HMAC-SHA256 of '{timestamp}.{body}' with the number's secret). " +
      "Answers { interactionId } or { keyword, reply } (the reply is for the provider to send)",
    handler: async ({ req, env: platform }) => {
      if (!/^application\/json\b/i.test(req.headers.get("Content-Type") ?? "")) throw new AppError(415, "unsupported_media_type", "send the message as application/json");
      const raw = await readLimited(req, MAX_WEBHOOK_BYTES);
      let data: unknown;
      try {
        data = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(raw));
      } catch {
        throw badRequest("invalid_json", "the body is not UTF-8 JSON");
      }
      const parsed = GenericSms.safeParse(data);
      if (!parsed.success) {
        const i = parsed.error.issues[0]!;
        throw badRequest("invalid_request", `${i.path.join(".") || "(body)"}: ${i.message}`);
      }
      const m = parsed.data;
      const owner = await numberOwner(platform, m.to);
      if (!owner) throw unverified("X-Parley-Signature");
      const { cfg, center, env } = owner;
      if (center.provider !== "generic") throw unverified("X-Parley-Signature");
      let stale = false;
      const secret = await verifiedWithSecret(env, cfg, center, async (sec) => {
        const ok = await checkGenericSignature(sec, req.headers.get("X-Parley-Timestamp"), req.headers.get("X-Parley-Signature"), raw);
        stale = ok === "stale";
        return ok === "ok" || stale;
      });
      if (!secret) throw unverified("X-Parley-Signature");
      if (stale) throw new AppError(403, "stale_signature", "X-Parley-Timestamp is more than five minutes away from now");
      assertOpen(env);
      // Authenticated: now the sender is checked (and read as E.164 with the number's country).
      const from = senderNumber(m.from, center.number);
      if (!from) throw badRequest("invalid_request", `from: '${m.from}' is not a phone number, a short code or an alphanumeric sender id`);
      const out = await receiveSms(env, cfg, center, { provider: "generic", providerId: m.id, from: from.number, to: m.to, body: m.text });
      return out.kind === "keyword" ? { keyword: out.keyword, reply: out.reply, duplicate: out.duplicate } : { interactionId: out.interactionId, duplicate: out.duplicate };
    },
  }),
  route({
    method: "post", path: "/api/v1/sms/twilio/status", access: "public", tags: ["sms"],
    summary: "Twilio's status callback for a message we sent (signed): queued, sent, delivered, undelivered, failed",
    handler: async ({ req, env: platform }) => {
      const params = await formOf(req);
      const get = (k: string) => params.find(([n]) => n === k)?.[1];
      const sid = get("MessageSid") ?? get("SmsSid");
      const status = get("MessageStatus") ?? get("SmsStatus");
      const from = get("From");
      if (!sid || !status || !from) throw badRequest("missing_field", `${[!sid && "MessageSid", !status && "MessageStatus", !from && "From"].filter(Boolean).join(", ")}: required`);
      if (!/^[a-z_]{1,20}$/.test(status)) throw badRequest("invalid_status", `MessageStatus: '${status}' is not a status`);
      // Our number sent it: the callback is signed with that number's account.
      const { cfg, env } = await signedTwilio(req, platform, params, from);
      const code = get("ErrorCode");
      // A late "sent" must not undo "delivered": statuses only move forward.
      const ORDER = ["sending", "accepted", "queued", "sending_provider", "sent", "delivered", "undelivered", "failed", "read"];
      const rank = (s: string) => Math.max(0, ORDER.indexOf(s));
      const row = await sentByProviderId(env.DB, cfg.raw.tenant.id, "twilio", sid!);
      if (!row) throw notFound("unknown_message", `no message ${sid} sent from ${from}`);
      if (rank(status) >= rank(row.status))
        await smsDeliveryStatus(env.DB, cfg.raw.tenant.id, row.id, status, code ? `Twilio error ${code}` : null, Date.now()).run();
      return new Response(null, { status: 204 });
    },
  }),
  route({
    method: "post", path: "/api/v1/sms", access: "ingest_or_agent", tags: ["sms", "agent", "ingest"],
    summary: "Paging outbound: send an SMS to a number from one of the tenant's numbers; it becomes an outbound SMS interaction (409 opted_out after STOP)",
    body: z.object({ to: z.string().min(3).max(40), from: z.string().regex(E164, "an E.164 number").optional(), text: z.string().min(1).max(MAX_SMS_CHARS), externalId: z.string().min(1).max(200).optional() }).strict(),
    responses: { 202: { description: "Recorded and queued for sending" } },
    handler: async ({ env, caller, body }) => {
      const cfg = await getConfig(env.DB, caller.tenant);
      const center = body.from ? cfg.raw.numbers.find((n) => n.number === body.from) : cfg.raw.numbers[0];
      if (!center) throw badRequest("unknown_number", body.from ? `from: ${body.from} is not one of this tenant's numbers` : "this tenant has no numbers to send from");
      const wf = cfg.workflows.get(center.workflow)!;
      const to = normalizePhone(body.to);
      const actor = caller.kind === "user" ? `agent:${caller.agentId}` : "ingest";
      // Refused before anything is recorded.
      if (await isOptedOut(env.DB, caller.tenant, center.number, to)) throw conflict("opted_out", `${to} replied STOP to ${center.number}: no messages until they reply START`);
      const contact = await identifyContact(env.DB, caller.tenant, { phone: to }, { byName: false });
      const created = await createInteraction(env.DB, {
        tenant: caller.tenant, externalId: body.externalId ? `sms-out:${body.externalId}` : undefined, media: "sms", channel: "sms", direction: "outbound", subject: `SMS to ${to}`, text: body.text,
        contactId: contact.id, queue: wf.queue, priority: 0, categories: [], attributes: { center: center.number, customer: to }, actor,
      });
      if (!created.created) return new Reply(200, { interactionId: created.id, duplicate: true });
      const sent = await queueSms(env, cfg, { interactionId: created.id, center, to, body: body.text, author: actor });
      // Sent by a person or a system, not routed: the interaction is done once the message is on its way.
      await env.DB.batch(transitionBatch(env.DB, [{ tenant: caller.tenant, id: created.id, at: Date.now(), actor, action: "sms_outbound", from: "new", to: "done", queue: wf.queue, reason: { smsId: sent.smsId } }]));
      return new Reply(202, { interactionId: created.id, duplicate: false, ...sent });
    },
  }),
  route({
    method: "post", path: "/api/v1/sms/segments", access: "agent", tags: ["sms", "agent"],
    summary: "How a text goes out as SMS: GSM-7 or UCS-2, its parts, the room left (for the live counter)",
    body: z.object({ text: z.string().max(MAX_SMS_CHARS * 2) }).strict(),
    handler: async ({ body }) => segmentInfo(body.text),
  }),
  route({
    method: "get", path: "/api/v1/interactions/:id/sms", access: "agent", tags: ["sms", "agent"],
    summary: "The SMS messages of an interaction, in and out (the newest 500), oldest first, with delivery state",
    handler: async ({ env, caller, params }) => {
      const row = await getInteractionRow(env.DB, caller.tenant, params.id!);
      const messages = await smsOfInteraction(env.DB, caller.tenant, row.id);
      return { messages: messages.map((m) => ({ id: m.id, direction: m.direction, center: m.center, customer: m.customer, text: m.body, encoding: m.encoding, segments: m.segments, status: m.status, error: m.error, createdAt: m.created_at })) };
    },
  }),
  route({
    method: "post", path: "/api/v1/interactions/:id/sms", access: "agent", tags: ["sms", "agent"],
    summary: "Reply by SMS to the customer of an SMS interaction in your hands (409 opted_out after STOP); the same clientId again sends nothing more",
    body: AgentSms,
    responses: { 202: { description: "Stored and queued for sending" } },
    handler: async ({ env, caller, params, body }) => {
      const u = asUser(caller);
      const row = await getInteractionRow(env.DB, u.tenant, params.id!);
      if (row.media !== "sms") throw badRequest("not_sms", `interaction '${row.id}' is ${row.media}, not SMS`);
      if (!(await agentStub(env, u.tenant, u.agentId).handles(row.id))) throw conflict("not_in_hand", `accept '${row.id}' before replying`);
      const cfg = await getConfig(env.DB, u.tenant);
      const center = cfg.raw.numbers.find((n) => n.number === row.attributes.center);
      const customer = row.attributes.customer;
      if (!center || typeof customer !== "string") throw conflict("no_number", "this interaction has no contact-center number or customer number to reply with");
      const smsId = body.clientId ? `reply:${row.id}:${u.agentId}:${body.clientId}` : undefined;
      return new Reply(202, await queueSms(env, cfg, { interactionId: row.id, center, to: customer, body: body.text, author: `agent:${u.agentId}`, ...(smsId ? { smsId } : {}) }));
    },
  }),
];
