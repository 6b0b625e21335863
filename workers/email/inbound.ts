// The E-mail Server's inbound path, one for both doors (Email Routing's email() and the raw-MIME
// HTTP ingest): keep the raw bytes, parse, identify the sender, thread, screen, store every part,
// then route, and acknowledge where allowed. Durable before acknowledged: the raw message is in R2
// and the message in D1 before the caller hears 202 (or the MTA a success).
import { tenantEnv, type TenantEnv } from "../tenancy/tenant-env.ts";
import { findOnShards } from "../tenancy/locate.ts";
import { getConfig } from "../config/store.ts";
import type { CompiledConfig } from "../config/compiled.ts";
import type { Mailbox } from "../config/schema.ts";
import { AppError, badRequest } from "../kernel/errors.ts";
import { newId } from "../kernel/ids.ts";
import { contactLookup, type IdentifierRow } from "../ucs/contacts.ts";
import { splitName } from "../ucs/identifiers.ts";
import { guardedInteractionStatements, type InteractionState } from "../ucs/interactions.ts";
import { interactionStamp } from "../ucs/interaction-reads.ts";
import { hitRate } from "../ucs/rate-limit.ts";
import { screen, type ScreenOutcome } from "../workflow/screen.ts";
import { classificationWrite, classifiedFields, classifyStep, queueTakes } from "../analyzer/step.ts";
import { routeNew } from "../interactions/ingest.ts";
import { agentStub, queueStub } from "../../durable-objects/names.ts";
import { baseAddress } from "./addresses.ts";
import { automaticReason } from "./loop-guard.ts";
import { capUtf8, parseMail, unparsed, type InboundMail } from "./parse.ts";
import { sanitizeHtml } from "./sanitize.ts";
import { ATTACHMENT_PUT_CONCURRENCY, MAX_ADDRESS_CHARS, MAX_RECIPIENT_HEADER_BYTES } from "./limits.ts";
import { mapLimit } from "./pool.ts";
import { extractTag, normalizeSubject } from "./subject.ts";
import { latestInThread, OPEN_STATES, tagCandidates, threadLookup, type LatestInThread, type ThreadVia } from "./threading.ts";
import { automaticReplies } from "./auto-reply.ts";
import { enqueueDelivery } from "../outbound/message.ts";
import { bytesSha256 } from "../kernel/hash.ts";
import { eventStatements } from "../ucs/events.ts";
import { emailRowGuard, inboundEmailInsert, inboundHolder, inboundSeen, type SeenRow } from "../ucs/mail/emails.ts";
import { inboundPartInsert, type MailPart } from "../ucs/mail/parts.ts";
import { searchEntry } from "../ucs/search.ts";
import { refStatement, threadUpsert } from "../ucs/mail/threads.ts";
import { mailboxTenant } from "../ucs/mail/mailbox-routes.ts";
import { TtlCache } from "../kernel/ttl-cache.ts";

export const MAX_MAIL_BYTES = 25 * 1024 * 1024;
/** Text and HTML kept in D1 per message, in UTF-8 bytes. */
const MAX_PART_BYTES = 1_000_000;

export interface InboundResult {
  interactionId: string;
  duplicate: boolean;
  state: InteractionState;
  threadId: string;
  thread: ThreadVia;
  /** True when the message joined an interaction still open rather than opening one. */
  appended: boolean;
  flags: string[];
}

/** An address's tenant, kept for 30 s per isolate: the email() door saves its round trip. */
const addressTenants = new TtlCache<string>(30_000);

const mapNull = (tenant: string | null) => (tenant ? { tenant } : null);

/** The tenant and mailbox a recipient address belongs to (email(): no key, only the address), with
 *  the tenant's env. The address is found on whichever shard holds it (tenancy/locate.ts); a cached
 *  tenant whose config no longer has the mailbox (moved to another tenant) is looked up again. A
 *  suspended tenant throws its 403. */
export async function mailboxForAddress(env: Env, address: string): Promise<{ tenant: string; mailbox: Mailbox; env: TenantEnv } | null> {
  const base = baseAddress(address);
  if (!base) return null;
  const cached = addressTenants.get(base);
  for (const fresh of cached === undefined ? [true] : [false, true]) {
    const tenant = fresh ? (await findOnShards(env, async (db) => mapNull(await mailboxTenant(db, base))))?.tenant : cached!;
    if (!tenant) return null;
    const te = await tenantEnv(env, tenant);
    const mailbox = findMailbox(await getConfig(te.DB, tenant), base);
    if (mailbox) {
      addressTenants.set(base, tenant);
      return { tenant, mailbox, env: te };
    }
  }
  return null;
}

export function findMailbox(cfg: CompiledConfig, address: string): Mailbox | null {
  const base = baseAddress(address);
  return base ? (cfg.mailboxes.get(base) ?? null) : null;
}

const RECIPIENT_HEADERS = ["delivered-to", "x-original-to", "to", "cc"];

/** The recipient of a message posted without ?to=: the first of Delivered-To, X-Original-To, To, Cc that is one
 *  of our mailboxes. Reads at most MAX_RECIPIENT_HEADER_BYTES of the header block, in one linear pass: values are
 *  split on the characters that cannot be in an address, and only tokens with an "@" are looked at. */
export function recipientFromHeaders(cfg: CompiledConfig, raw: Uint8Array): Mailbox | null {
  const text = new TextDecoder("utf-8", { fatal: false, ignoreBOM: false }).decode(raw.subarray(0, MAX_RECIPIENT_HEADER_BYTES));
  const blank = /\r?\n\r?\n/.exec(text);
  const head = blank ? text.slice(0, blank.index) : text;
  const values = new Map<string, string[]>(RECIPIENT_HEADERS.map((n) => [n, []]));
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const at = line.indexOf(":");
    if (at > 0) values.get(line.slice(0, at).trim().toLowerCase())?.push(line.slice(at + 1));
  }
  for (const name of RECIPIENT_HEADERS) {
    for (const value of values.get(name)!) {
      for (const token of value.split(/[\s<>,;"]+/)) {
        if (token.length > MAX_ADDRESS_CHARS || token.indexOf("@") <= 0) continue;
        const mb = findMailbox(cfg, token);
        if (mb) return mb;
      }
    }
  }
  return null;
}

export async function receiveMail(env: TenantEnv, input: { tenant: string; mailbox: Mailbox; raw: Uint8Array; envelopeFrom?: string | null; via: "email" | "http" }): Promise<InboundResult> {
  const { tenant, mailbox, raw } = input;
  if (raw.byteLength > MAX_MAIL_BYTES) throw badRequest("too_large", `the message is ${raw.byteLength} bytes; the limit is ${MAX_MAIL_BYTES}`);
  const cfg = await getConfig(env.DB, tenant);
  const wf = cfg.workflows.get(mailbox.workflow);
  if (!wf) throw badRequest("unknown_workflow", `mailbox ${mailbox.address}: no workflow '${mailbox.workflow}'`);

  // Raw bytes first, content-addressed: a redelivery writes the same object.
  const sha = await bytesSha256(raw);
  const rawKey = `${tenant}/mail/in/${sha}.eml`;
  const [mail] = await Promise.all([parseMail(raw), env.BLOBS.put(rawKey, raw, { httpMetadata: { contentType: "message/rfc822" } })]);
  try {
    return await storeMail(env, input, cfg, wf, mail, sha, rawKey);
  } catch (err) {
    // The raw bytes are in R2: a failure of ours on the way (a part that breaks a library, say) must not cost the
    // message. It is stored once more as its raw text, flagged, and routed like any other.
    console.error("storing the parsed message failed; storing it unprocessed", err);
    const why = String(err instanceof AppError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : err).slice(0, 200);
    const keep = { messageId: mail.messageId, from: mail.from, replyTo: mail.replyTo, sender: mail.sender, subject: mail.subject, date: mail.date };
    return storeMail(env, input, cfg, wf, unparsed(raw, [...mail.flags.filter((f) => f !== "no_message_id"), "processing_failed", `processing_error: ${why}`], keep), sha, rawKey);
  }
}

async function storeMail(
  env: TenantEnv,
  input: { tenant: string; mailbox: Mailbox; raw: Uint8Array; envelopeFrom?: string | null; via: "email" | "http" },
  cfg: CompiledConfig,
  wf: NonNullable<ReturnType<CompiledConfig["workflows"]["get"]>>,
  mail: InboundMail,
  sha: string,
  rawKey: string,
): Promise<InboundResult> {
  const { tenant, mailbox, raw } = input;
  const messageId = mail.messageId ?? `sha256.${sha}@parley`;

  // One round trip for every read before the decision: seen before? who sent it? which thread?
  const now = Date.now();
  const flags = [...mail.flags];
  // The contact is the author: From (Sender only where From is missing). Reply-To is where answers go; on
  // mailing-list mail it is the list, which must not gather every member into one contact.
  const author = mail.from ?? mail.sender ?? (input.envelopeFrom ? { addr: input.envelopeFrom } : null);
  const answerTo = mail.replyTo ?? author;
  let lookup: ReturnType<typeof contactLookup> | null = null;
  if (author) {
    try {
      lookup = contactLookup(env.DB, tenant, { email: author.addr.slice(0, 320), name: author.name?.slice(0, 200) }, { byName: false });
    } catch {
      // An address our identifier rules refuse: keep the message, flagged, with no contact.
      flags.push("invalid_sender");
    }
  }
  const tag = extractTag(mail.subject);
  const subjectNorm = normalizeSubject(mail.subject);
  const thread = threadLookup(env.DB, {
    tenant, replyRefs: mail.replyRefs, inReplyTo: mail.inReplyTo, tag, subjectNorm, senderEmail: lookup ? author!.addr.trim().toLowerCase() : null,
    subjectDays: cfg.raw.email.threadBySubjectDays, now,
  });
  const tags = tagCandidates(env.DB, tenant);
  const reads = await env.DB.batch([
    tags.stmt,
    inboundSeen(env.DB, tenant, messageId),
    ...(lookup?.stmt ? [lookup.stmt] : []),
    ...thread.stmts,
  ]);
  const freeTag = tags.pick(reads.shift()!);
  const seen = reads[0]!.results[0] as SeenRow | undefined;
  if (seen) return { interactionId: seen.interaction_id, duplicate: true, state: seen.state, threadId: seen.thread_id, thread: "new", appended: false, flags: mail.flags };
  const at = lookup?.stmt ? 2 : 1;
  // No usable sender (a broken message): no contact, rather than a new empty one per message.
  const contact = lookup ? await lookup.resolve((reads[1]?.results ?? []) as unknown as IdentifierRow[]) : { id: null };
  const decision = thread.decide(reads.slice(at), contact.id);
  const latest = decision.threadId ? await latestInThread(env.DB, tenant, decision.threadId) : null;
  const appendTo = latest && OPEN_STATES.has(latest.state) && (await stillOpen(env, tenant, latest)) ? latest : null;
  const interactionId = appendTo?.id ?? newId("i");
  const threadId = decision.threadId ?? interactionId;
  const emailId = newId("e");
  const threadTag = latest?.tag ?? freeTag;

  // Screening runs on work entering the workflow, not on a message joining open work.
  const screened: ScreenOutcome | null = appendTo
    ? null
    : screen(wf.screen.map((n) => cfg.rules.get(n)!).filter(Boolean), {
        subject: mail.subject, body: mail.text, from: mail.from?.addr ?? "", to: [...mail.to, ...mail.cc].map((a) => a.addr), headers: mail.headers,
      });
  // The automatic reply goes to Reply-To when there is one: that address must not be a robot either.
  const loop =
    automaticReason({ headers: mail.headers, from: mail.from?.addr ?? null, returnPath: mail.returnPath }) ??
    (mail.replyTo ? automaticReason({ headers: [], from: mail.replyTo.addr }) : null);
  if (loop) flags.push("automatic");
  if (screened?.spam !== undefined) flags.push("spam");

  const parts = await storeParts(env, tenant, interactionId, mail, flags);
  // Classification (Content Analyzer) on new work that screening did not call spam; a screening rule's
  // explicit queue or priority wins over the classifier's.
  const classified = !appendTo && screened?.spam === undefined ? await classifyStep(env, tenant, cfg, wf, mail.subject, mail.text) : null;
  const fields = classifiedFields(classified, { queue: wf.queue, priority: wf.priority, categories: screened?.categories ?? [], attributes: screened?.attributes ?? {} }, queueTakes(cfg, "email"));
  const queue = screened?.queue ?? fields.queue;
  const priority = screened?.priority ?? fields.priority;
  const categories = fields.categories;
  const attributes = {
    ...fields.attributes,
    ...(decision.via !== "new" ? { thread: decision.via } : {}),
    // Shown with the work, so the agent knows to open the raw message for the rest.
    ...(mail.attachmentCount > mail.attachments.length ? { attachments_truncated: `${mail.attachments.length} of ${mail.flags.includes("parts_truncated") ? "more than " : ""}${mail.attachmentCount} attachments stored; the rest are in the raw message` } : {}),
    ...(mail.replyTo && author && mail.replyTo.addr.toLowerCase() !== author.addr.toLowerCase() ? { reply_to: mail.replyTo.addr.slice(0, 320) } : {}),
  };

  // Every statement after the first runs only if our emails row went in: the unique index on
  // (tenant, Message-ID) makes a concurrent redelivery a no-op, atomically (a D1 batch is one transaction).
  const db = env.DB;
  const guard = emailRowGuard(tenant, emailId);
  const st: D1PreparedStatement[] = [
    inboundEmailInsert(db, {
      tenant, id: emailId, interactionId, threadId, messageId, inReplyTo: mail.inReplyTo, references: mail.references, mailbox: mailbox.address, fromAddr: author?.addr ?? null,
      fromName: author?.name ?? null, to: mail.to, cc: mail.cc, replyTo: mail.replyTo?.addr ?? null, subject: mail.subject || null, date: mail.date, rawKey, rawSize: raw.byteLength,
      headers: mail.headers, flags, at: now,
    }),
  ];
  const spam = screened?.spam;
  if (!appendTo) {
    // A new interaction, through the one writer of interactions; under the message's guard, so a
    // redelivery (or a concurrent one) writes nothing.
    st.push(
      ...guardedInteractionStatements(
        db,
        {
          tenant, externalId: `email:${messageId}`.slice(0, 300), media: "email", channel: "email", direction: "inbound", subject: mail.subject || undefined, threadId,
          parentId: latest?.id, contactId: contact.id ?? undefined, queue, priority, categories, attributes, actor: `email:${input.via}`, workflow: wf.name,
        },
        {
          id: interactionId, at: now, guard,
          reason: { mailbox: mailbox.address, from: author?.addr ?? null, replyTo: mail.replyTo?.addr, messageId, thread: decision.via, screening: screened?.matched.length ? screened.matched : undefined, classify: classified?.decision.trace, flags: flags.length ? flags : undefined },
          ...(spam !== undefined ? { stopped: { actor: "workflow", reason: { why: spam, rules: screened?.matched } } } : {}),
        },
      ),
    );
  } else {
    st.push(
      ...eventStatements(db, [{
        tenant, interaction: interactionId, at: now, actor: `email:${input.via}`, action: "message_added", from: appendTo.state, to: appendTo.state, queue: appendTo.queue, agent: appendTo.agentId, reason: { emailId, messageId, thread: decision.via },
      }], guard),
    );
  }
  if (classified) st.push(classificationWrite(db, tenant, interactionId, classified, now, guard));
  const seq0 = now % 1_000_000_000; // parts of later messages sort after earlier ones
  parts.forEach((p, i) => st.push(inboundPartInsert(db, { tenant, interactionId, emailId, seq: seq0 * 100 + i, at: now }, p, guard)));
  const ref = (messageId: string) => refStatement(db, { tenant, messageId, threadId, contactId: contact.id, interactionId, at: now }, guard);
  st.push(
    searchEntry(db, { tenant, interactionId, contactId: contact.id, body: [mail.subject, capUtf8(mail.text, 200_000).text].filter(Boolean).join("\n") }, guard),
    ref(messageId),
    ...decision.foreignRefs.map(ref),
    threadUpsert(db, { tenant, threadId, tag: threadTag, contactId: contact.id, subjectNorm, mailbox: mailbox.address, at: now }, guard),
  );

  // Automatic replies (acknowledgement, screening auto-responses): only to a person, never to
  // another robot, and at most N per sender per period.
  const autoIds = !appendTo && spam === undefined ? [...new Set([...(wf.acknowledge ? [wf.acknowledge] : []), ...(screened?.autoRespond ?? []), ...(classified?.decision.autoRespond ? [classified.decision.autoRespond] : [])])] : [];
  const jobs: string[] = [];
  let autoSkipped: string | null = null;
  if (autoIds.length && answerTo) {
    autoSkipped = loop;
    if (!autoSkipped) {
      const lim = cfg.raw.email.autoReplyLimit;
      const r = await hitRate(env.DB, `auto:${tenant}:${answerTo.addr.toLowerCase()}`, lim.max, lim.perSeconds, now);
      if (!r.allowed) autoSkipped = `more than ${lim.max} automatic replies to ${answerTo.addr} within ${lim.perSeconds} s`;
    }
    if (!autoSkipped) {
      const name = splitName({ name: author?.name });
      // A reply we cannot build (an address mimetext refuses, say) must not cost the customer's message.
      const prepared = await automaticReplies(env, {
        cfg, tenant, mailbox, responseIds: autoIds, interactionId, threadId, threadTag, contactId: contact.id, to: answerTo, mail, messageId,
        contact: { firstName: name.first ?? null, lastName: name.last ?? null, email: author?.addr ?? answerTo.addr }, guard,
      }).catch((err: unknown) => {
        autoSkipped = `the automatic reply could not be built: ${String(err instanceof Error ? err.message : err).slice(0, 200)}`;
        return [];
      });
      for (const p of prepared) {
        st.push(...p.statements);
        jobs.push(p.emailId);
      }
    }
    if (autoSkipped)
      st.push(
        ...eventStatements(db, [{ tenant, interaction: interactionId, at: now, actor: "workflow", action: "auto_reply_suppressed", to: appendTo ? appendTo.state : spam !== undefined ? "stopped" : "new", queue, reason: { why: autoSkipped } }], guard),
      );
  }
  st.push(inboundHolder(db, tenant, messageId));
  const results = await db.batch<{ interaction_id: string; thread_id: string }>(st);
  const winner = results[results.length - 1]!.results[0];
  if (!winner) throw new Error("email row vanished after insert");
  if (winner.interaction_id !== interactionId) {
    const state = (await interactionStamp(db, tenant, winner.interaction_id))?.state ?? null;
    return { interactionId: winner.interaction_id, duplicate: true, state: state ?? "new", threadId: winner.thread_id, thread: "new", appended: false, flags };
  }
  for (const id of jobs) await enqueueDelivery(env, { tenant, emailId: id });

  if (appendTo) {
    // The agent working it hears at once; waiting work simply carries the new message.
    if (appendTo.agentId && (appendTo.state === "handling" || appendTo.state === "offered"))
      await agentStub(env, tenant, appendTo.agentId).notify({ type: "message_added", interactionId, emailId }).catch((e: unknown) => console.error("notify", e));
    return { interactionId, duplicate: false, state: appendTo.state, threadId, thread: decision.via, appended: true, flags };
  }
  if (spam !== undefined) return { interactionId, duplicate: false, state: "stopped", threadId, thread: decision.via, appended: false, flags };

  // A reply to finished work goes to the agent who handled it first, if that agent takes it within the wait.
  const previous = latest?.agentId && cfg.agents.has(latest.agentId) ? latest.agentId : null;
  const wait = cfg.raw.email.previousAgentWaitSeconds;
  const r = await routeNew(env, tenant, queue, {
    id: interactionId, media: "email", priority, subject: mail.subject || null, contactId: contact.id, categories, attributes,
    ...(previous && wait > 0 ? { pinnedAgent: previous, pinUntil: now + wait * 1000 } : {}),
  }, "email");
  return { interactionId, duplicate: false, state: r.state, threadId, thread: decision.via, appended: false, flags };
}

/** D1 shows the newest interaction of the thread open; its holder (written asynchronously) has the
 *  last word, so a message is not added to work an agent has just finished. */
async function stillOpen(env: TenantEnv, tenant: string, l: LatestInThread): Promise<boolean> {
  try {
    if ((l.state === "offered" || l.state === "handling") && l.agentId) return await agentStub(env, tenant, l.agentId).holds(l.id);
    if ((l.state === "queued" || l.state === "new") && l.queue) return l.state === "new" || (await queueStub(env, tenant, l.queue).holds(l.id));
  } catch (err) {
    console.error("stillOpen", err);
  }
  return true;
}

/** Text, sanitized HTML and attachments: attachment bytes to R2 (content-addressed, a few puts at a time),
 *  inline images rewritten to the part's URL so the desktop can show them. HTML the sanitizer cannot take
 *  (too deep, too many elements, or a failure of HTMLRewriter) is not shown: the text stays, the message is
 *  flagged html_not_rendered, and the HTML is in the raw message. */
async function storeParts(env: TenantEnv, tenant: string, interactionId: string, mail: InboundMail, flags: string[]): Promise<MailPart[]> {
  const parts: MailPart[] = [];
  // The whole message stays in R2; the parts kept in D1 are capped (a D1 value holds at most 2 MB).
  const text = capUtf8(mail.text, MAX_PART_BYTES);
  if (text.cut) flags.push("text_truncated");
  if (text.text) parts.push({ id: newId("p"), kind: "text", content: text.text });
  const atts = await mapLimit(mail.attachments, ATTACHMENT_PUT_CONCURRENCY, async (a) => {
    const sha = await bytesSha256(a.content);
    const key = `${tenant}/att/${sha}`;
    await env.BLOBS.put(key, a.content, { httpMetadata: { contentType: a.contentType } });
    return { id: newId("p"), kind: "attachment" as const, r2Key: key, contentType: a.contentType, name: a.filename.slice(0, 255), size: a.content.byteLength, sha256: sha, contentId: a.contentId };
  });
  if (mail.html) {
    const byCid = new Map(atts.filter((a) => a.contentId).map((a) => [a.contentId!.toLowerCase(), a.id]));
    const source = capUtf8(mail.html, MAX_PART_BYTES);
    try {
      const clean = await sanitizeHtml(source.text, {
        cid: (cid) => {
          const part = byCid.get(cid.toLowerCase());
          return part ? `/api/v1/interactions/${interactionId}/parts/${part}/content` : null;
        },
      });
      const html = capUtf8(clean, MAX_PART_BYTES);
      if (html.cut || source.cut) flags.push("html_truncated");
      parts.push({ id: newId("p"), kind: "html", content: html.text, contentType: "text/html" });
    } catch (err) {
      flags.push("html_not_rendered", `html_error: ${String(err instanceof Error ? err.message : err).slice(0, 200)}`);
      if (!text.text) parts.push({ id: newId("p"), kind: "text", content: "(The HTML of this message could not be shown; it is kept in the raw message.)" });
    }
  }
  parts.push(...atts);
  return parts;
}
