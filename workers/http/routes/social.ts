// Social and messaging channels (docs/social.md): the providers' webhooks (WhatsApp Cloud API,
// Messenger and Instagram, Telegram), and the agent's side: the approved templates, sending one, and
// an interaction's messages with their delivery states.
import * as z from "zod";
import { chatStub } from "../../../durable-objects/names.ts";
import { unwrap } from "../../../durable-objects/result.ts";
import { getConfig } from "../../config/store.ts";
import { badRequest, notFound } from "../../kernel/errors.ts";
import { metaHandshake, metaWebhook, telegramWebhook } from "../../social/webhook.ts";
import { getContact } from "../../ucs/contacts.ts";
import { getInteractionRow } from "../../ucs/interactions.ts";
import { messagesOf } from "../../ucs/social.ts";
import { renderTemplate, type FieldValues } from "../../workflow/field-codes.ts";
import { asUser, route, type RouteDef } from "../api.ts";

const SOCIAL = new Set(["whatsapp", "messenger", "instagram", "telegram"]);

/** A template's body with its parameters in place: what the agent and the transcript see. */
export const templatePreview = (text: string, params: readonly string[]) => text.replace(/\{\{(\d+)\}\}/g, (_, n: string) => params[Number(n) - 1] ?? "");

export const socialRoutes: RouteDef[] = [
  route({
    method: "get", path: "/api/v1/social/whatsapp", access: "public", tags: ["social"],
    summary: "WhatsApp Cloud API's subscription handshake: hub.challenge back when hub.verify_token is an account's (403 otherwise)",
    handler: ({ req, env }) => metaHandshake(env, "whatsapp", new URL(req.url)),
  }),
  route({
    method: "post", path: "/api/v1/social/whatsapp", access: "public", tags: ["social"],
    summary: "WhatsApp Cloud API's webhook (X-Hub-Signature-256 with the app secret): messages, statuses and errors, each to its tenant by phone number id",
    handler: ({ req, env, exec }) => metaWebhook(env, "whatsapp", req, exec),
  }),
  route({
    method: "get", path: "/api/v1/social/meta", access: "public", tags: ["social"],
    summary: "Messenger's and Instagram's subscription handshake",
    handler: ({ req, env }) => metaHandshake(env, "meta", new URL(req.url)),
  }),
  route({
    method: "post", path: "/api/v1/social/meta", access: "public", tags: ["social"],
    summary: "Messenger's and Instagram's webhook (X-Hub-Signature-256): messages, echoes, reactions, edits, delivery and read, each to its tenant by page or Instagram id",
    handler: ({ req, env, exec }) => metaWebhook(env, "meta", req, exec),
  }),
  route({
    method: "post", path: "/api/v1/social/telegram/:botId", access: "public", tags: ["social"],
    summary: "A Telegram bot's webhook (X-Telegram-Bot-Api-Secret-Token): one Update, exactly once by update_id",
    handler: ({ req, env, params, exec }) => telegramWebhook(env, params.botId!, req, exec),
  }),
  route({
    method: "get", path: "/api/v1/social/templates", access: "agent", tags: ["social", "agent"],
    summary: "The tenant's approved WhatsApp templates: name, language, body with {{n}} placeholders, and the field code of each",
    handler: async ({ env, caller }) => ({ templates: (await getConfig(env.DB, asUser(caller).tenant)).raw.social?.templates ?? [] }),
  }),
  route({
    method: "post", path: "/api/v1/chats/:id/template", access: "agent", tags: ["social", "agent"],
    summary: "Sends an approved template in a WhatsApp conversation (the one message allowed outside the 24-hour window); its field codes are filled from the contact",
    body: z.object({ name: z.string().min(1).max(512), language: z.string().max(10).optional(), clientId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/) }).strict(),
    handler: async ({ env, caller, params, body }) => {
      const u = asUser(caller);
      const row = await getInteractionRow(env.DB, u.tenant, params.id!);
      if (row.channel !== "whatsapp") throw badRequest("no_templates", `interaction '${row.id}' is on ${row.channel}: templates are sent on WhatsApp only`);
      const cfg = await getConfig(env.DB, u.tenant);
      const t = cfg.raw.social?.templates.find((x) => x.name === body.name && (!body.language || x.language === body.language));
      if (!t) throw notFound("unknown_template", `no approved template '${body.name}'${body.language ? ` in ${body.language}` : ""}`);
      const c = row.contactId ? await getContact(env.DB, u.tenant, row.contactId) : null;
      const values: FieldValues = {
        contact: c ? { firstName: c.firstName, lastName: c.lastName, phone: c.identifiers.find((i) => i.kind === "phone")?.value ?? null } : undefined,
        interaction: { id: row.id, subject: row.subject, receivedAt: row.createdAt }, agent: { fullName: cfg.agents.get(u.agentId)?.fullName ?? null },
        tenant: { name: cfg.raw.tenant.name }, now: Date.now(),
      };
      const paramsOut = t.params.map((p) => renderTemplate(p, values).slice(0, 1024));
      return unwrap(await chatStub(env, u.tenant, row.id).sendTemplate(`agent:${u.agentId}`, { clientId: body.clientId, name: t.name, language: t.language, params: paramsOut, preview: templatePreview(t.text, paramsOut) }));
    },
  }),
  route({
    method: "get", path: "/api/v1/interactions/:id/social", access: "agent", tags: ["social", "agent"],
    summary: "A social conversation's messages in and out, in the provider's order, with kinds, flags and delivery states",
    handler: async ({ env, caller, params }) => {
      const u = asUser(caller);
      const row = await getInteractionRow(env.DB, u.tenant, params.id!);
      if (!SOCIAL.has(row.channel)) throw badRequest("not_social", `interaction '${row.id}' is on ${row.channel}, not a social channel`);
      const messages = (await messagesOf(env.DB, u.tenant, row.id)).map((m) => ({
        id: m.id, direction: m.direction, kind: m.kind, body: m.body, providerId: m.provider_id, providerAt: m.provider_at, state: m.state, flagged: m.flagged, error: m.error, createdAt: m.created_at,
      }));
      return { channel: row.channel, messages };
    },
  }),
];
