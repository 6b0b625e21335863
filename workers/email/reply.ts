// Agents' replies and forwards: a draft (an outbound email interaction in state 'draft', owned by its
// author), then send: straight to delivery, or first to the workflow's QA review queue, where a
// reviewer approves it (possibly edited) or returns it to its author with a comment.
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import type { CompiledConfig } from "../config/compiled.ts";
import { getConfig } from "../config/store.ts";
import type { Mailbox } from "../config/schema.ts";
import { badRequest, conflict, forbidden, notFound, tooLarge } from "../kernel/errors.ts";
import { newId } from "../kernel/ids.ts";
import { inHands } from "../interactions/in-hand.ts";
import { addNote, getInteractionRow, transitionBatch, type InteractionRow } from "../ucs/interactions.ts";
import { reviewDecision } from "../workflow/review.ts";
import { agentStub, queueStub } from "../../durable-objects/names.ts";
import { unwrap } from "../../durable-objects/result.ts";
import { buildMime, newMessageId, type OutgoingMail } from "./build.ts";
import { bytesSha256 } from "../kernel/hash.ts";
import type { MailAddress } from "./parse.ts";
import { sanitizeHtml } from "./sanitize.ts";
import { displaySubject, withTag } from "./subject.ts";
import { baseAddress, unsendableReason } from "./addresses.ts";
import { domainOf, enqueueDelivery, threadingIds } from "../outbound/message.ts";
import { eventStatements } from "../ucs/events.ts";
import { lastInbound, type EmailRow } from "../ucs/mail/emails.ts";
import { draftEdits, draftEmailInsert, draftInteractionInsert, handBackTo, replyEmail, retryDelivery, statusUpdate, storedRaw } from "../ucs/mail/drafts.ts";
import { attachedBytes, attachmentInsert, attachmentsOf, bodyParts, bodyPartsDelete, partsToBuild, removeAttachmentPart, type StoredAttachment } from "../ucs/mail/parts.ts";
import { refStatement, threadTag } from "../ucs/mail/threads.ts";
import { contactEmailRow } from "../ucs/mail/contact-address.ts";

export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
export const MAX_REPLY_BYTES = 25 * 1024 * 1024;

export interface DraftInput {
  to?: MailAddress[];
  cc?: MailAddress[];
  bcc?: MailAddress[];
  subject?: string;
  text: string;
  html?: string;
}

export interface Actor {
  agentId: string;
  supervisor: boolean;
}

const addrs = (json: string): MailAddress[] => JSON.parse(json) as MailAddress[];

/** The mailbox replies in this work go out from: the one the customer wrote to, else the workflow's, else the tenant's first. */
function mailboxFor(cfg: CompiledConfig, row: InteractionRow, received: string | null): Mailbox {
  const m = (received && cfg.mailboxes.get(received.toLowerCase())) || cfg.raw.mailboxes.find((x) => x.workflow === row.workflow) || cfg.raw.mailboxes[0];
  if (!m) throw conflict("no_mailbox", "this tenant has no mailbox to send from (config: mailboxes)");
  return m;
}

async function contactEmail(db: D1Database, tenant: string, contactId: string | null): Promise<MailAddress | null> {
  if (!contactId) return null;
  const r = await contactEmailRow(db, tenant, contactId);
  if (!r) return null;
  const name = [r.first_name, r.last_name].filter(Boolean).join(" ");
  return name ? { addr: r.display ?? r.value, name } : { addr: r.display ?? r.value };
}

/** The original, quoted (its first 100,000 characters: the whole of it stays in the thread). */
export const quote = (text: string, from: string, date: number | null) =>
  `On ${new Date(date ?? Date.now()).toUTCString()}, ${from} wrote:\n${text.slice(0, 100_000).split(/\r?\n/).map((l) => `> ${l}`).join("\n")}`;

/** What a reply to this interaction starts from: recipients, subject with the thread tag, the original quoted. */
export async function composeTemplate(env: TenantEnv, tenant: string, id: string) {
  const { orig: _orig, ...t } = await templateFor(env, tenant, await getInteractionRow(env.DB, tenant, id));
  return t;
}

/** The compose template for a loaded interaction, with the message it answers (for forwards). */
async function templateFor(env: TenantEnv, tenant: string, row: InteractionRow) {
  const id = row.id;
  if (row.direction !== "inbound") throw badRequest("not_inbound", `interaction '${id}' is a ${row.direction} message; reply to what the customer sent`);
  const cfg = await getConfig(env.DB, tenant);
  const [orig, tag, contact] = await Promise.all([lastInbound(env.DB, tenant, id), threadTag(env.DB, tenant, row.threadId), contactEmail(env.DB, tenant, row.contactId)]);
  const mailbox = mailboxFor(cfg, row, orig?.mailbox ?? null);
  // Reply-To first: it is where the sender asked for answers (the contact is the author, From).
  const replyTo: MailAddress | null = orig?.reply_to
    ? { addr: orig.reply_to }
    : orig?.from_addr
      ? orig.from_name ? { addr: orig.from_addr, name: orig.from_name } : { addr: orig.from_addr }
      : contact;
  if (!replyTo) throw conflict("no_address", "neither the message nor the contact has an email address to reply to");
  const own = new Set(cfg.raw.mailboxes.map((m) => m.address.toLowerCase()));
  const ours = (a: MailAddress) => own.has(baseAddress(a.addr) ?? a.addr.toLowerCase());
  // Reply-all keeps the other people the customer wrote to, never our own mailboxes (plus-addressed ones included).
  const cc = orig ? [...addrs(orig.to_addrs), ...addrs(orig.cc_addrs)].filter((a) => !ours(a) && a.addr.toLowerCase() !== replyTo.addr.toLowerCase()) : [];
  const base = displaySubject(orig?.subject ?? row.subject ?? "") || "Your message";
  const subject = tag ? withTag(`Re: ${base}`, tag) : `Re: ${base}`;
  const refs = orig ? [...(JSON.parse(orig.refs) as string[]), orig.message_id].slice(-20) : [];
  return {
    interactionId: id, threadId: row.threadId, tag, mailbox: mailbox.address, to: [replyTo], cc, subject,
    inReplyTo: orig?.message_id ?? null, references: refs,
    orig,
    quoted: orig?.text ? quote(orig.text, orig.from_name ? `${orig.from_name} <${orig.from_addr}>` : (orig.from_addr ?? "the customer"), orig.date ?? orig.created_at) : "",
  };
}

async function mayWorkOn(env: TenantEnv, tenant: string, row: InteractionRow, actor: Actor): Promise<void> {
  if (actor.supervisor) return;
  if (!(await inHands(env, tenant, actor.agentId, row))) throw forbidden(`interaction '${row.id}' is not in your hands`);
}

/** Starts a reply (or a forward) as a draft. */
export async function createDraft(
  env: TenantEnv,
  tenant: string,
  actor: Actor,
  parentId: string,
  input: DraftInput & { quote?: boolean; forward?: boolean },
): Promise<{ id: string; emailId: string; state: "draft" }> {
  const parent = await getInteractionRow(env.DB, tenant, parentId);
  await mayWorkOn(env, tenant, parent, actor);
  if (parent.media !== "email") throw badRequest("not_email", `interaction '${parentId}' is ${parent.media}; only email is answered by email`);
  const t = await templateFor(env, tenant, parent);
  const cfg = await getConfig(env.DB, tenant);
  const mailbox = cfg.mailboxes.get(t.mailbox.toLowerCase())!;
  let to: MailAddress[];
  let subject: string;
  let text = input.text;
  const extraParts: StoredAttachment[] = [];
  if (input.forward) {
    if (!input.to?.length) throw badRequest("invalid_request", "to: a forward needs at least one recipient");
    to = input.to;
    const base = displaySubject(parent.subject ?? "");
    subject = input.subject ?? (t.tag ? withTag(`Fwd: ${base}`, t.tag) : `Fwd: ${base}`);
    const orig = t.orig;
    text += `\n\n---------- Forwarded message ----------\nFrom: ${orig?.from_name ? `${orig.from_name} <${orig.from_addr}>` : (orig?.from_addr ?? "")}\nDate: ${new Date(orig?.date ?? parent.createdAt).toUTCString()}\nSubject: ${orig?.subject ?? parent.subject ?? ""}\n\n${(orig?.text ?? "").slice(0, 100_000)}`;
    if (orig) extraParts.push(...(await attachmentsOf(env.DB, tenant, orig.id)));
  } else {
    to = input.to ?? t.to;
    subject = input.subject ?? t.subject;
    if (input.quote !== false && t.quoted) text += `\n\n${t.quoted}`;
  }
  if (t.tag) subject = withTag(subject, t.tag);
  const cc = input.cc ?? (input.forward ? [] : t.cc);
  // Recipients taken from the customer's mail may be ones we cannot send to (a domain literal): a 400 that names
  // the address, so the agent can give the recipients instead.
  for (const a of [...to, ...cc, ...(input.bcc ?? [])]) {
    const why = unsendableReason(a.addr);
    if (why) throw badRequest("unsupported_address", `cannot send to '${a.addr}': ${why}; give the recipients in to and cc`);
  }
  const id = newId("i");
  const emailId = newId("e");
  const now = Date.now();
  const db = env.DB;
  const html = input.html ? await sanitizeHtml(input.html) : null;
  const rows = {
    tenant, id, emailId, parentId, threadId: parent.threadId, contactId: input.forward ? null : parent.contactId, workflow: parent.workflow, author: actor.agentId,
    forward: !!input.forward, messageId: newMessageId(domainOf(mailbox.address)), inReplyTo: input.forward ? null : t.inReplyTo, references: input.forward ? [] : t.references,
    mailbox: mailbox.address, fromName: mailbox.name ?? cfg.raw.tenant.name, to, cc, bcc: input.bcc ?? [], subject, at: now,
  };
  const st = [
    draftInteractionInsert(db, rows),
    ...eventStatements(db, [{ tenant, interaction: id, at: now, actor: `agent:${actor.agentId}`, action: "drafted", to: "draft", agent: actor.agentId, reason: { replyTo: parentId, forward: !!input.forward } }]),
    draftEmailInsert(db, rows),
    ...bodyParts(db, tenant, id, emailId, text, html, now),
    ...extraParts.map((p, i) => attachmentInsert(db, { ...p, tenant, id: newId("p"), interactionId: id, emailId, seq: 10 + i, at: now })),
  ];
  await db.batch(st);
  return { id, emailId, state: "draft" };
}

async function draftOf(env: TenantEnv, tenant: string, id: string): Promise<{ row: InteractionRow; email: EmailRow }> {
  const row = await getInteractionRow(env.DB, tenant, id);
  const email = await replyEmail(env.DB, tenant, id);
  if (row.direction !== "outbound" || !email) throw notFound("not_a_reply", `interaction '${id}' is not a reply`);
  return { row, email };
}

function ownDraft(d: { row: InteractionRow; email: EmailRow }, actor: Actor) {
  // The message's status is written here, synchronously; the interaction's state follows through the objects.
  if (d.email.status !== "draft") throw conflict("not_a_draft", `reply '${d.row.id}' is ${d.email.status === "review" ? "in review" : d.email.status}; only drafts can change`);
  if (d.email.author !== actor.agentId && !actor.supervisor) throw forbidden("this draft is someone else's");
}

/** Replaces a draft's recipients, subject and body (attachments stay). */
export async function updateDraft(env: TenantEnv, tenant: string, actor: Actor, id: string, input: Partial<DraftInput>): Promise<void> {
  const d = await draftOf(env, tenant, id);
  ownDraft(d, actor);
  await writeEdits(env, tenant, d, input);
}

async function writeEdits(env: TenantEnv, tenant: string, d: { row: InteractionRow; email: EmailRow }, input: Partial<DraftInput>): Promise<void> {
  const db = env.DB;
  const now = Date.now();
  const tag = await threadTag(db, tenant, d.row.threadId);
  const subject = input.subject !== undefined ? (tag ? withTag(input.subject, tag) : input.subject) : d.email.subject;
  const st = draftEdits(db, {
    tenant, emailId: d.email.id, interactionId: d.row.id, to: input.to ?? addrs(d.email.to_addrs), cc: input.cc ?? addrs(d.email.cc_addrs), bcc: input.bcc ?? addrs(d.email.bcc_addrs), subject, at: now,
  });
  if (input.text !== undefined) {
    const html = input.html ? await sanitizeHtml(input.html) : null;
    st.push(bodyPartsDelete(db, tenant, d.email.id), ...bodyParts(db, tenant, d.row.id, d.email.id, input.text, html, now));
  }
  await db.batch(st);
}

/** Adds an attachment to a draft: the bytes to R2 (content-addressed), a part row. */
export async function addAttachment(env: TenantEnv, tenant: string, actor: Actor, id: string, file: { name: string; type: string; bytes: Uint8Array }) {
  const d = await draftOf(env, tenant, id);
  ownDraft(d, actor);
  if (file.bytes.byteLength > MAX_ATTACHMENT_BYTES) throw tooLarge(`an attachment may be at most ${MAX_ATTACHMENT_BYTES} bytes`);
  if ((await attachedBytes(env.DB, tenant, d.email.id)) + file.bytes.byteLength > MAX_REPLY_BYTES) throw tooLarge(`a reply may carry at most ${MAX_REPLY_BYTES} bytes of attachments`);
  const sha = await bytesSha256(file.bytes);
  const key = `${tenant}/att/${sha}`;
  await env.BLOBS.put(key, file.bytes, { httpMetadata: { contentType: file.type } });
  const partId = newId("p");
  await attachmentInsert(env.DB, { tenant, id: partId, interactionId: id, emailId: d.email.id, seq: 100, r2_key: key, content_type: file.type, name: file.name, size: file.bytes.byteLength, sha256: sha, at: Date.now() }).run();
  return { partId, name: file.name, contentType: file.type, size: file.bytes.byteLength, sha256: sha };
}

export async function removeAttachment(env: TenantEnv, tenant: string, actor: Actor, id: string, partId: string): Promise<void> {
  const d = await draftOf(env, tenant, id);
  ownDraft(d, actor);
  if (!(await removeAttachmentPart(env.DB, tenant, d.email.id, partId))) throw notFound("unknown_part", `no attachment '${partId}' on this draft`);
}

/** Builds the MIME from the draft's current content and stores it in R2; returns the statements recording it. */
async function buildStored(env: TenantEnv, tenant: string, d: { row: InteractionRow; email: EmailRow }, status: "review" | "sending" | "reviewing", expect: "claimed" | "reviewing") {
  const db = env.DB;
  const parts = await partsToBuild(db, tenant, d.email.id);
  const text = parts.find((p) => p.kind === "text")?.content ?? "";
  const html = parts.find((p) => p.kind === "html")?.content ?? undefined;
  const attachments: NonNullable<OutgoingMail["attachments"]> = [];
  for (const p of parts.filter((x) => x.kind === "attachment" && x.r2_key)) {
    const obj = await env.BLOBS.get(p.r2_key!);
    if (!obj) throw conflict("attachment_missing", `attachment '${p.name}' is no longer stored`);
    attachments.push({ filename: p.name ?? "attachment", contentType: p.content_type ?? "application/octet-stream", data: new Uint8Array(await obj.arrayBuffer()), contentId: p.content_id ?? undefined });
  }
  const to = addrs(d.email.to_addrs);
  if (to.length === 0) throw badRequest("invalid_request", "to: a reply needs at least one recipient");
  const mail: OutgoingMail = {
    from: { addr: d.email.from_addr ?? d.email.mailbox ?? "", name: d.email.from_name ?? undefined },
    to, cc: addrs(d.email.cc_addrs), bcc: addrs(d.email.bcc_addrs), subject: d.email.subject ?? "", messageId: d.email.message_id,
    inReplyTo: d.email.in_reply_to ?? undefined, references: JSON.parse(d.email.refs) as string[], text, html, attachments, date: new Date(),
  };
  const bytes = new TextEncoder().encode(buildMime(threadingIds(mail)));
  const rawKey = `${tenant}/mail/out/${d.email.id}.eml`;
  await env.BLOBS.put(rawKey, bytes, { httpMetadata: { contentType: "message/rfc822" } });
  const now = Date.now();
  return [
    // Only while this caller holds the message (claimed to send, or taken for review).
    storedRaw(db, tenant, d.email.id, { rawKey, size: bytes.length, status, expect, at: now }),
    // The customer's answer to this message threads back here.
    refStatement(db, { tenant, messageId: d.email.message_id, threadId: d.row.threadId, contactId: d.row.contactId, interactionId: d.row.id, at: now }),
  ];
}

/** Sends a draft: into QA review when the workflow (or the author) asks for it, else to delivery. */
export async function sendDraft(env: TenantEnv, tenant: string, actor: Actor, id: string, opts: { review?: boolean } = {}): Promise<{ state: "queued" | "sending"; review: boolean; why: string; queue?: string }> {
  const d = await draftOf(env, tenant, id);
  ownDraft(d, actor);
  // Claim the draft: of two sends at once, one goes ahead and the other is refused.
  const claim = await statusUpdate(env.DB, tenant, d.email.id, "claimed", { from: "draft", at: Date.now() }).run();
  if (!claim.meta.changes) throw conflict("not_a_draft", `reply '${id}' is already on its way`);
  try {
    return await doSend(env, tenant, actor, d, opts);
  } catch (err) {
    await statusUpdate(env.DB, tenant, d.email.id, "draft", { from: "claimed" }).run();
    throw err;
  }
}

function reviewQueueOf(cfg: CompiledConfig, workflow: string | null): string | undefined {
  const wf = workflow ? cfg.workflows.get(workflow) : undefined;
  return wf?.review?.queue ?? cfg.raw.workflows.find((w) => w.review)?.review?.queue;
}

async function doSend(env: TenantEnv, tenant: string, actor: Actor, d: { row: InteractionRow; email: EmailRow }, opts: { review?: boolean }): Promise<{ state: "queued" | "sending"; review: boolean; why: string; queue?: string }> {
  const id = d.row.id;
  const cfg = await getConfig(env.DB, tenant);
  const wf = d.row.workflow ? cfg.workflows.get(d.row.workflow) : undefined;
  const parent = d.row.parentId ? await getInteractionRow(env.DB, tenant, d.row.parentId).catch(() => null) : null;
  const draw = crypto.getRandomValues(new Uint32Array(1))[0]! / 2 ** 32 * 100;
  const decision = reviewDecision(wf?.review, { author: d.email.author ?? actor.agentId, queue: parent?.queue ?? null, requested: opts.review === true, draw });
  const reviewQueue = reviewQueueOf(cfg, d.row.workflow);
  if (decision.review && !reviewQueue) throw conflict("no_review_queue", "review was requested but no workflow names a review queue");
  const now = Date.now();
  if (decision.review) {
    await env.DB.batch(await buildStored(env, tenant, d, "review", "claimed"));
    try {
      unwrap(await queueStub(env, tenant, reviewQueue!).submit(
        { id, media: "email", priority: 0, subject: d.email.subject, contactId: d.row.contactId, categories: [], attributes: { author: d.email.author ?? actor.agentId, review: decision.why } },
        { actor: `agent:${actor.agentId}`, action: "review_requested", reason: { why: decision.why } },
      ));
    } catch (err) {
      await statusUpdate(env.DB, tenant, d.email.id, "claimed").run();
      throw err;
    }
    return { state: "queued", review: true, why: decision.why, queue: reviewQueue };
  }
  await env.DB.batch([
    ...(await buildStored(env, tenant, d, "sending", "claimed")),
    ...transitionBatch(env.DB, [{ tenant, id, at: now, actor: `agent:${actor.agentId}`, action: "sent", from: "draft", to: "sending", agent: null, reason: { review: decision.why } }]),
  ]);
  await enqueueDelivery(env, { tenant, emailId: d.email.id });
  return { state: "sending", review: false, why: decision.why };
}

/** QA review of a reply waiting in a review queue: approve (optionally edited first) or return it to its author. */
export async function reviewReply(
  env: TenantEnv,
  tenant: string,
  reviewer: string,
  id: string,
  r: { action: "approve" | "return"; comment?: string; edit?: Partial<DraftInput> },
): Promise<{ state: "sending" | "draft" }> {
  const d = await draftOf(env, tenant, id);
  const queue = reviewQueueOf(await getConfig(env.DB, tenant), d.row.workflow);
  if (d.email.status !== "review" || !queue) throw conflict("not_in_review", `reply '${id}' is ${d.email.status}, not waiting for review`);
  const q = queueStub(env, tenant, queue);
  if (!(await q.holds(id))) throw conflict("not_in_review", `reply '${id}' is not waiting in '${queue}'`);
  const actor = `supervisor:${reviewer}`;
  if (r.action === "return" && !r.comment) throw badRequest("invalid_request", "comment: say what the author should change");
  // Take the message for this review: of two reviewers at once, one acts and the other gets a 409.
  const claim = await statusUpdate(env.DB, tenant, d.email.id, "reviewing", { from: "review", at: Date.now() }).run();
  if (!claim.meta.changes) throw conflict("not_in_review", `reply '${id}' is being reviewed by someone else`);
  try {
    return await decide(env, tenant, reviewer, actor, q, d, r);
  } catch (err) {
    await statusUpdate(env.DB, tenant, d.email.id, "review", { from: "reviewing" }).run();
    throw err;
  }
}

async function decide(
  env: TenantEnv,
  tenant: string,
  reviewer: string,
  actor: string,
  q: ReturnType<typeof queueStub>,
  d: { row: InteractionRow; email: EmailRow },
  r: { action: "approve" | "return"; comment?: string; edit?: Partial<DraftInput> },
): Promise<{ state: "sending" | "draft" }> {
  const id = d.row.id;
  if (r.action === "return") {
    unwrap(await q.complete(id, actor, "returned_to_author", "draft", { comment: r.comment }));
    await env.DB.batch([
      statusUpdate(env.DB, tenant, d.email.id, "draft", { from: "reviewing", at: Date.now() }),
      handBackTo(env.DB, tenant, id, d.email.author),
    ]);
    await addNote(env.DB, tenant, id, actor, `Returned for changes: ${r.comment}`);
    if (d.email.author)
      await agentStub(env, tenant, d.email.author).notify({ type: "draft_returned", interactionId: id, comment: r.comment, by: reviewer }).catch((e: unknown) => console.error("notify", e));
    return { state: "draft" };
  }
  const edited = r.edit !== undefined && Object.keys(r.edit).length > 0;
  if (edited) {
    await writeEdits(env, tenant, d, r.edit!);
    const fresh = await draftOf(env, tenant, id);
    await env.DB.batch(await buildStored(env, tenant, fresh, "reviewing", "reviewing"));
    await addNote(env.DB, tenant, id, actor, r.comment ? `Edited in review: ${r.comment}` : "Edited in review");
  }
  unwrap(await q.complete(id, actor, edited ? "edited_and_approved" : "approved", "sending", r.comment ? { comment: r.comment } : undefined));
  await statusUpdate(env.DB, tenant, d.email.id, "sending", { from: "reviewing", at: Date.now() }).run();
  await enqueueDelivery(env, { tenant, emailId: d.email.id });
  return { state: "sending" };
}

/** A supervisor sends a failed message again. */
export async function retryFailed(env: TenantEnv, tenant: string, supervisor: string, id: string): Promise<void> {
  const d = await draftOf(env, tenant, id);
  if (d.row.state !== "failed") throw conflict("not_failed", `reply '${id}' is ${d.row.state}`);
  await env.DB.batch([
    retryDelivery(env.DB, tenant, d.email.id, Date.now()),
    ...transitionBatch(env.DB, [{ tenant, id, at: Date.now(), actor: `supervisor:${supervisor}`, action: "retry", from: "failed", to: "sending" }]),
  ]);
  await enqueueDelivery(env, { tenant, emailId: d.email.id });
}
