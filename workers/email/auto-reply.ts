// Automatic replies (the workflow's acknowledgement, screening auto-responses): standard responses
// rendered with their field codes, marked per RFC 3834 so other robots don't answer them.
import type { CompiledConfig } from "../config/compiled.ts";
import type { Mailbox, Workflow } from "../config/schema.ts";
import { renderTemplate, type FieldValues } from "../workflow/field-codes.ts";
import { enqueueDelivery, prepareMail, type PreparedMail } from "../outbound/message.ts";
import { hitRate } from "../ucs/rate-limit.ts";
import { splitName, type ContactInput } from "../ucs/identifiers.ts";
import { AUTO_REPLY_HEADERS } from "./loop-guard.ts";
import type { InboundMail, MailAddress } from "./parse.ts";
import { replySubject, withTag } from "./subject.ts";

export async function automaticReplies(
  env: Env,
  a: {
    cfg: CompiledConfig;
    tenant: string;
    wf: Workflow;
    mailbox: Mailbox;
    responseIds: string[];
    interactionId: string;
    threadId: string;
    threadTag: string;
    contactId: string | null;
    to: MailAddress;
    mail: InboundMail;
    messageId: string;
    contact: { firstName: string | null; lastName: string | null; email: string };
    guard: { sql: string; params: (string | number | null)[] };
  },
): Promise<PreparedMail[]> {
  const values: FieldValues = {
    contact: a.contact,
    interaction: { id: a.interactionId, subject: a.mail.subject, tag: a.threadTag, receivedAt: Date.now() },
    tenant: { name: a.cfg.raw.tenant.name },
    mailbox: { address: a.mailbox.address },
    now: Date.now(),
  };
  const out: PreparedMail[] = [];
  for (const id of a.responseIds) {
    const r = a.cfg.responses.get(id);
    if (!r) continue;
    const subject = r.subject ? `${renderTemplate(r.subject, values)} [#${a.threadTag}]` : replySubject(a.mail.subject || "(no subject)", a.threadTag);
    out.push(
      await prepareMail(env, {
        tenant: a.tenant, interactionId: a.interactionId, threadId: a.threadId, contactId: a.contactId, mailbox: a.mailbox.address,
        status: "sending", auto: true, author: null, guard: a.guard,
        mail: {
          from: { addr: a.mailbox.address, name: a.mailbox.name ?? a.cfg.raw.tenant.name },
          to: [a.to],
          subject,
          inReplyTo: a.messageId,
          references: [...a.mail.references, a.messageId].slice(-20),
          text: renderTemplate(r.text, values),
          html: r.html ? renderTemplate(r.html, values, { html: true }) : undefined,
          headers: { ...AUTO_REPLY_HEADERS },
        },
      }),
    );
  }
  return out;
}

/** The acknowledgement of a web form post, to the address the visitor gave. The per-address limit
 *  matters more here than for mail: anyone can type someone else's address into a form. */
export async function acknowledgeForm(
  env: Env,
  a: { cfg: CompiledConfig; tenant: string; wf: Workflow; interactionId: string; contactId: string | null; to: string; name: ContactInput; subject: string; tag: string; responseIds: string[] },
): Promise<void> {
  const mailbox = a.cfg.raw.mailboxes.find((m) => m.workflow === a.wf.name) ?? a.cfg.raw.mailboxes[0];
  if (!mailbox) return;
  const lim = a.cfg.raw.email.autoReplyLimit;
  const now = Date.now();
  const db = env.DB;
  const event = (action: string, reason: unknown) =>
    db.prepare("INSERT INTO interaction_events (tenant_id, interaction_id, at, actor, action, to_state, reason) VALUES (?, ?, ?, 'workflow', ?, 'new', ?)").bind(a.tenant, a.interactionId, now, action, JSON.stringify(reason));
  if (!(await hitRate(db, `auto:${a.tenant}:${a.to.toLowerCase()}`, lim.max, lim.perSeconds, now)).allowed) {
    await event("auto_reply_suppressed", { why: `more than ${lim.max} automatic replies to ${a.to} within ${lim.perSeconds} s` }).run();
    return;
  }
  const n = splitName(a.name);
  const values: FieldValues = {
    contact: { firstName: n.first ?? null, lastName: n.last ?? null, email: a.to },
    interaction: { id: a.interactionId, subject: a.subject, tag: a.tag, receivedAt: now },
    tenant: { name: a.cfg.raw.tenant.name },
    mailbox: { address: mailbox.address },
    now,
  };
  const prepared: PreparedMail[] = [];
  for (const id of a.responseIds) {
    const r = a.cfg.responses.get(id);
    if (!r) continue;
    prepared.push(
      await prepareMail(env, {
        tenant: a.tenant, interactionId: a.interactionId, threadId: a.interactionId, contactId: a.contactId, mailbox: mailbox.address,
        status: "sending", auto: true, author: null,
        mail: {
          from: { addr: mailbox.address, name: mailbox.name ?? a.cfg.raw.tenant.name },
          to: [{ addr: a.to, ...(n.full ? { name: n.full } : {}) }],
          subject: withTag(r.subject ? renderTemplate(r.subject, values) : `Re: ${a.subject}`, a.tag),
          text: renderTemplate(r.text, values),
          html: r.html ? renderTemplate(r.html, values, { html: true }) : undefined,
          headers: { ...AUTO_REPLY_HEADERS },
        },
      }),
    );
  }
  if (prepared.length === 0) return;
  await db.batch(prepared.flatMap((p) => p.statements));
  for (const p of prepared) await enqueueDelivery(env, { tenant: a.tenant, emailId: p.emailId });
}
