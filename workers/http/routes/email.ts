// E-mail Server over HTTP: raw-MIME ingest, the thread view and attachments, replies and forwards
// (drafts, attachments, send, QA review), standard responses, and the local outbox.
import type { TenantEnv } from "../../tenancy/tenant-env.ts";
import * as z from "zod";
import { getConfig } from "../../config/store.ts";
import { findMailbox, MAX_MAIL_BYTES, receiveMail, recipientFromHeaders } from "../../email/inbound.ts";
import { addAttachment, composeTemplate, createDraft, MAX_ATTACHMENT_BYTES, removeAttachment, retryFailed, reviewReply, sendDraft, updateDraft, type Actor } from "../../email/reply.ts";
import { renderTemplate } from "../../workflow/field-codes.ts";
import { threadTag } from "../../ucs/mail/threads.ts";
import { getContact } from "../../ucs/contacts.ts";
import { getInteractionRow } from "../../ucs/interactions.ts";
import { queueStub } from "../../../durable-objects/names.ts";
import { AppError, badRequest, forbidden, notFound } from "../../kernel/errors.ts";
import { readLimited } from "../../kernel/read-limited.ts";
import { assertNotOthersDraft, threadReaderOf } from "../../email/draft-access.ts";
import { threadMessages } from "../../ucs/mail/emails.ts";
import { listReplies } from "../../ucs/mail/drafts.ts";
import { storedPart } from "../../ucs/mail/parts.ts";
import { outboxMessages, outboxRawKey } from "../../ucs/mail/outbox.ts";
import { Reply, route, type Caller } from "../api.ts";

const Address = z.object({ addr: z.email().max(320), name: z.string().max(200).optional() }).strict();
const Addresses = z.array(Address).max(50);
const Draft = z
  .object({
    to: Addresses.min(1).optional(),
    cc: Addresses.optional(),
    bcc: Addresses.optional(),
    subject: z.string().min(1).max(998).optional(),
    // In characters: at up to 3 bytes each, text and HTML stay under D1's 2 MB per value.
    text: z.string().max(500_000),
    html: z.string().max(500_000).optional(),
  })
  .strict();
const Name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/);

const actorOf = (c: Caller): Actor => {
  if (c.kind !== "user") throw forbidden("this needs an agent token");
  return { agentId: c.agentId, supervisor: c.role === "supervisor" || c.role === "admin" };
};
const supervisorOrKey = (c: Caller) => {
  if (c.kind === "user" && c.role === "agent") throw forbidden("this needs the supervisor role or the read key");
};


/** The thread's messages; a read-key caller (a system, not a person) sees only what was received or
 *  sent, and an agent sees no one else's drafts. */
async function emailsOfThread(env: TenantEnv, caller: Caller, id: string) {
  const tenant = caller.tenant;
  await assertNotOthersDraft(env.DB, tenant, caller, id);
  const row = await getInteractionRow(env.DB, tenant, id);
  const { emails, parts } = await threadMessages(env.DB, tenant, row.threadId, threadReaderOf(caller));
  type P = (typeof parts)[number];
  const byEmail = new Map<string, P[]>();
  for (const p of parts) byEmail.set(p.email_id, [...(byEmail.get(p.email_id) ?? []), p]);
  return {
    threadId: row.threadId,
    messages: emails.map((e) => {
      const ps = byEmail.get(e.id as string) ?? [];
      return {
        id: e.id, interactionId: e.interaction_id, direction: e.direction, messageId: e.message_id, inReplyTo: e.in_reply_to, mailbox: e.mailbox,
        from: e.from_addr ? { addr: e.from_addr, name: e.from_name ?? undefined } : null,
        // Where answers go when it is not From (a mailing list, an assistant).
        replyTo: e.reply_to ? { addr: e.reply_to } : null,
        to: JSON.parse(e.to_addrs as string), cc: JSON.parse(e.cc_addrs as string), bcc: JSON.parse(e.bcc_addrs as string),
        subject: e.subject, date: e.date, size: e.raw_size, flags: JSON.parse(e.flags as string), status: e.status, automatic: e.auto === 1, author: e.author,
        delivery: e.direction === "outbound" ? { attempts: e.attempts, lastError: e.last_error, transport: e.transport } : undefined,
        createdAt: e.created_at,
        text: ps.find((p) => p.kind === "text")?.content ?? "",
        // Sanitized when stored; the desktop still shows it in a sandboxed frame.
        html: ps.find((p) => p.kind === "html")?.content ?? null,
        attachments: ps.filter((p) => p.kind === "attachment").map((p) => ({
          id: p.id, name: p.name, contentType: p.content_type, size: p.size, sha256: p.sha256, contentId: p.content_id, url: `/api/v1/interactions/${p.interaction_id}/parts/${p.id}/content`,
        })),
      };
    }),
  };
}

export const emailRoutes = [
  route({
    method: "post", path: "/api/v1/email/inbound", access: "ingest", tags: ["ingest", "email"],
    summary: "Receive one email as raw RFC 822 (message/rfc822) for the mailbox in ?to= (else the Delivered-To/To headers). Idempotent on Message-ID. Over 25 MiB: 413.",
    query: z.object({ to: z.string().max(320).optional() }).strict(),
    responses: { 202: { description: "Stored (and routed, or joined its thread)", schema: z.object({ interactionId: z.string(), duplicate: z.boolean(), state: z.string(), threadId: z.string(), thread: z.string() }) } },
    handler: async ({ env, req, caller, query }) => {
      const type = (req.headers.get("Content-Type") ?? "message/rfc822").split(";")[0]!.trim().toLowerCase();
      if (!["message/rfc822", "text/plain", "application/octet-stream"].includes(type)) throw new AppError(415, "unsupported_media_type", "send the raw message as message/rfc822");
      const raw = await readLimited(req, MAX_MAIL_BYTES);
      if (raw.byteLength === 0) throw badRequest("empty_message", "the body is empty; send the raw RFC 822 message");
      const cfg = await getConfig(env.DB, caller.tenant);
      const mailbox = query.to ? findMailbox(cfg, query.to) : recipientFromHeaders(cfg, raw);
      if (!mailbox) throw badRequest("unknown_mailbox", query.to ? `to: '${query.to}' is not one of this tenant's mailboxes` : "no recipient of this message is one of this tenant's mailboxes; pass ?to=");
      const r = await receiveMail(env, { tenant: caller.tenant, mailbox, raw, via: "http" });
      return new Reply(202, { interactionId: r.interactionId, duplicate: r.duplicate, state: r.state, threadId: r.threadId, thread: r.thread, appended: r.appended, flags: r.flags });
    },
  }),
  route({
    method: "get", path: "/api/v1/interactions/:id/messages", access: "read_or_agent", tags: ["email"],
    summary: "The email thread this interaction belongs to: every message in and out, with text, sanitized HTML, attachments and delivery state",
    handler: async ({ env, caller, params }) => emailsOfThread(env, caller, params.id!),
  }),
  route({
    method: "get", path: "/api/v1/interactions/:id/parts/:partId/content", access: "read_or_agent", tags: ["email"],
    summary: "An attachment's bytes (a download; images may be shown inline)",
    handler: async ({ env, caller, params }) => {
      await assertNotOthersDraft(env.DB, caller.tenant, caller, params.id!);
      const p = await storedPart(env.DB, caller.tenant, params.id!, params.partId!);
      if (!p) throw notFound("unknown_part", `no attachment '${params.partId}' on '${params.id}'`);
      const obj = await env.BLOBS.get(p.r2_key);
      if (!obj) throw notFound("part_missing", "the attachment's bytes are not stored");
      const type = p.content_type ?? "application/octet-stream";
      const inline = /^image\/(png|jpeg|gif|webp)$/i.test(type);
      return new Response(obj.body, {
        headers: {
          "Content-Type": type,
          "Content-Disposition": `${inline ? "inline" : "attachment"}; filename*=UTF-8''${encodeURIComponent(p.name ?? "attachment")}`,
          // Customer-sent bytes: never sniffed, never run as a page.
          "X-Content-Type-Options": "nosniff",
          "Content-Security-Policy": "sandbox; default-src 'none'",
          "Cache-Control": "private, max-age=3600",
        },
      });
    },
  }),
  route({
    method: "get", path: "/api/v1/interactions/:id/compose", access: "agent", tags: ["email", "agent"],
    summary: "What a reply starts from: recipients (reply-all without our mailboxes), subject with the thread tag, the original quoted",
    handler: async ({ env, caller, params }) => composeTemplate(env, caller.tenant, params.id!),
  }),
  route({
    method: "post", path: "/api/v1/interactions/:id/replies", access: "agent", tags: ["email", "agent"],
    summary: "Start a reply as a draft (recipients and subject default to the compose template; the original is quoted unless quote is false); with send: true it goes out at once (or into QA review)",
    body: Draft.extend({ quote: z.boolean().default(true), send: z.boolean().default(false), review: z.boolean().default(false) }).strict(),
    responses: { 201: { description: "Draft created (and sent when asked)" } },
    handler: async ({ env, caller, params, body }) => {
      const actor = actorOf(caller);
      const d = await createDraft(env, caller.tenant, actor, params.id!, body);
      if (!body.send) return new Reply(201, { ...d });
      const s = await sendDraft(env, caller.tenant, actor, d.id, { review: body.review });
      return new Reply(201, { ...d, ...s });
    },
  }),
  route({
    method: "post", path: "/api/v1/interactions/:id/forward", access: "agent", tags: ["email", "agent"],
    summary: "Forward the customer's message (with its attachments) to an external address; sent at once unless send is false",
    body: Draft.extend({ to: Addresses.min(1), send: z.boolean().default(true), review: z.boolean().default(false) }).strict(),
    handler: async ({ env, caller, params, body }) => {
      const actor = actorOf(caller);
      const d = await createDraft(env, caller.tenant, actor, params.id!, { ...body, forward: true });
      if (!body.send) return new Reply(201, { ...d });
      return new Reply(201, { ...d, ...(await sendDraft(env, caller.tenant, actor, d.id, { review: body.review })) });
    },
  }),
  route({
    method: "get", path: "/api/v1/replies", access: "agent", tags: ["email", "agent"],
    summary: "Your replies by state (draft by default; returned drafts carry the reviewer's note); supervisors may pass ?author=",
    query: z.object({ state: z.enum(["draft", "queued", "sending", "done", "failed"]).default("draft"), author: Name.optional() }).strict(),
    handler: async ({ env, caller, query }) => {
      const actor = actorOf(caller);
      if (query.author && query.author !== actor.agentId && !actor.supervisor) throw forbidden("only supervisors see others' replies");
      const author = query.author ?? (actor.supervisor && query.state !== "draft" ? null : actor.agentId);
      const replies = await listReplies(env.DB, caller.tenant, query.state, author);
      return { replies: replies.map((x) => ({ ...x, to_addrs: JSON.parse(x.to_addrs as string) })) };
    },
  }),
  route({
    method: "put", path: "/api/v1/replies/:id", access: "agent", tags: ["email", "agent"], summary: "Save a draft: recipients, subject, text, HTML",
    body: Draft.partial().strict(),
    handler: async ({ env, caller, params, body }) => {
      await updateDraft(env, caller.tenant, actorOf(caller), params.id!, body);
      return { ok: true };
    },
  }),
  route({
    method: "post", path: "/api/v1/replies/:id/attachments", access: "agent", tags: ["email", "agent"],
    summary: "Attach a file to a draft: the raw bytes as the body, its type as Content-Type, ?name= its file name (10 MiB each, 25 MiB per reply)",
    query: z.object({ name: z.string().min(1).max(255) }).strict(),
    handler: async ({ env, caller, params, query, req }) => {
      const bytes = await readLimited(req, MAX_ATTACHMENT_BYTES);
      if (bytes.byteLength === 0) throw badRequest("empty_file", "the attachment is empty");
      const type = (req.headers.get("Content-Type") ?? "application/octet-stream").split(";")[0]!.trim().toLowerCase();
      if (!/^[a-z0-9.+-]+\/[a-z0-9.+-]+$/.test(type)) throw badRequest("invalid_content_type", `Content-Type: '${type}' is not a MIME type`);
      return new Reply(201, await addAttachment(env, caller.tenant, actorOf(caller), params.id!, { name: query.name.replace(/[\\/\r\n"]/g, "_"), type, bytes }));
    },
  }),
  route({
    method: "delete", path: "/api/v1/replies/:id/attachments/:partId", access: "agent", tags: ["email", "agent"], summary: "Remove an attachment from a draft",
    handler: async ({ env, caller, params }) => {
      await removeAttachment(env, caller.tenant, actorOf(caller), params.id!, params.partId!);
      return { ok: true };
    },
  }),
  route({
    method: "post", path: "/api/v1/replies/:id/send", access: "agent", tags: ["email", "agent"],
    summary: "Send a draft: into QA review when the workflow says so (always, for some agents or queues, or sampled) or when review is true; else to delivery",
    body: z.object({ review: z.boolean().default(false) }).strict(),
    handler: async ({ env, caller, params, body }) => sendDraft(env, caller.tenant, actorOf(caller), params.id!, body),
  }),
  route({
    method: "post", path: "/api/v1/replies/:id/review", access: "supervisor", tags: ["email", "supervisor"],
    summary: "QA review: approve (with optional edits) so it goes out, or return it to its author with a comment",
    body: z.discriminatedUnion("action", [
      z.object({ action: z.literal("approve"), comment: z.string().max(2000).optional(), edit: Draft.partial().strict().optional() }).strict(),
      z.object({ action: z.literal("return"), comment: z.string().min(1).max(2000) }).strict(),
    ]),
    handler: async ({ env, caller, params, body }) => reviewReply(env, caller.tenant, actorOf(caller).agentId, params.id!, body),
  }),
  route({
    method: "get", path: "/api/v1/reviews", access: "supervisor", tags: ["email", "supervisor"], summary: "Replies waiting for QA review, across the review queues",
    handler: async ({ env, caller }) => {
      const cfg = await getConfig(env.DB, caller.tenant);
      const queues = [...new Set(cfg.raw.workflows.flatMap((w) => (w.review ? [w.review.queue] : [])))];
      const lists = await Promise.all(queues.map(async (q) => (await queueStub(env, caller.tenant, q).list()).map((it) => ({ queue: q, ...it }))));
      return { items: lists.flat() };
    },
  }),
  route({
    method: "post", path: "/api/v1/replies/:id/retry", access: "supervisor", tags: ["email", "supervisor"], summary: "Send a failed message again",
    handler: async ({ env, caller, params }) => {
      await retryFailed(env, caller.tenant, actorOf(caller).agentId, params.id!);
      return { ok: true };
    },
  }),
  route({
    method: "get", path: "/api/v1/responses", access: "agent", tags: ["email", "agent"], summary: "Standard responses, by category, searchable",
    query: z.object({ category: z.string().max(100).optional(), q: z.string().max(200).optional() }).strict(),
    handler: async ({ env, caller, query }) => {
      const cfg = await getConfig(env.DB, caller.tenant);
      const q = query.q?.toLowerCase();
      return {
        responses: cfg.raw.standardResponses.filter(
          (r) => (!query.category || r.category === query.category) && (!q || r.name.toLowerCase().includes(q) || r.text.toLowerCase().includes(q)),
        ),
      };
    },
  }),
  route({
    method: "post", path: "/api/v1/responses/:rid/render", access: "agent", tags: ["email", "agent"],
    summary: "A standard response with its field codes filled in for an interaction (contact, interaction, you, dates)",
    body: z.object({ interactionId: z.string().min(1).max(100) }).strict(),
    handler: async ({ env, caller, params, body }) => {
      const actor = actorOf(caller);
      const cfg = await getConfig(env.DB, caller.tenant);
      const r = cfg.responses.get(params.rid!);
      if (!r) throw notFound("unknown_response", `no standard response '${params.rid}'`);
      const row = await getInteractionRow(env.DB, caller.tenant, body.interactionId);
      const contact = row.contactId ? await getContact(env.DB, caller.tenant, row.contactId).catch(() => null) : null;
      const tag = await threadTag(env.DB, caller.tenant, row.threadId);
      const values = {
        contact: contact ? { firstName: contact.firstName, lastName: contact.lastName, email: contact.identifiers.find((i) => i.kind === "email")?.display ?? null, phone: contact.identifiers.find((i) => i.kind === "phone")?.value ?? null } : undefined,
        interaction: { id: row.id, subject: row.subject, tag, receivedAt: row.createdAt },
        agent: { fullName: cfg.agents.get(actor.agentId)?.fullName ?? null },
        tenant: { name: cfg.raw.tenant.name },
        mailbox: { address: cfg.raw.mailboxes[0]?.address },
        now: Date.now(),
      };
      return { id: r.id, subject: r.subject ? renderTemplate(r.subject, values) : null, text: renderTemplate(r.text, values), html: r.html ? renderTemplate(r.html, values, { html: true }) : null };
    },
  }),
  route({
    method: "get", path: "/api/v1/outbox", access: "read_or_agent", tags: ["email", "supervisor"],
    summary: "The local outbox (transport 'outbox'): what would have been sent. NOT DELIVERED: nothing here left this machine.",
    query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100), interactionId: z.string().max(100).optional() }).strict(),
    handler: async ({ env, caller, query }) => {
      supervisorOrKey(caller);
      const messages = await outboxMessages(env.DB, caller.tenant, query.interactionId ?? null, query.limit);
      return {
        delivered: false,
        note: "Local outbox: these messages were NOT delivered. Set email.transport to send_email or http to deliver mail.",
        messages: messages.map((m) => ({ ...m, rcpt_to: JSON.parse(m.rcpt_to as string), auto: m.auto === 1, delivered: false, raw: `/api/v1/outbox/${m.id}` })),
      };
    },
  }),
  route({
    method: "get", path: "/api/v1/outbox/:id", access: "read_or_agent", tags: ["email", "supervisor"], summary: "One outbox message as raw MIME (not delivered)",
    handler: async ({ env, caller, params }) => {
      supervisorOrKey(caller);
      const key = await outboxRawKey(env.DB, caller.tenant, params.id!);
      const obj = key ? await env.BLOBS.get(key) : null;
      if (!obj) throw notFound("unknown_message", `no outbox message '${params.id}'`);
      return new Response(obj.body, { headers: { "Content-Type": "message/rfc822", "X-Parley-Delivered": "false", "X-Content-Type-Options": "nosniff" } });
    },
  }),
];
