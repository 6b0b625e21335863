// Automatic replies (the workflow's acknowledgement, screening auto-responses): standard responses
// rendered with their field codes, marked per RFC 3834 so other robots don't answer them.
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import type { CompiledConfig } from "../config/compiled.ts";
import type { Mailbox, Workflow } from "../config/schema.ts";
import { renderTemplate, type FieldValues } from "../workflow/field-codes.ts";
import { enqueueDelivery, prepareMail, type PreparedMail } from "../outbound/message.ts";
import { hitRate } from "../ucs/rate-limit.ts";
import { splitName, type ContactInput } from "../ucs/identifiers.ts";
import { AUTO_REPLY_HEADERS } from "./loop-guard.ts";
import type { InboundMail, MailAddress } from "./parse.ts";
import { replySubject, withTag } from "./subject.ts";
import { eventStatements } from "../ucs/events.ts";

/** The messages for one automatic reply (one per standard response), stored and ready to queue:
 *  field codes rendered, the thread tag in the subject, RFC 3834 headers. Shared by mail and forms. */
interface AutoReplyArgs {
  cfg: CompiledConfig;
  tenant: string;
  mailbox: Mailbox;
  responseIds: string[];
  interactionId: string;
  threadId: string;
  threadTag: string;
  contactId: string | null;
  to: MailAddress;
  /** The subject the customer used. */
  subject: string;
  contact: { firstName: string | null; lastName: string | null; email: string };
  inReplyTo?: string;
  references?: string[];
  guard?: { sql: string; params: (string | number | null)[] };
}

async function prepareAutoReplies(
  env: TenantEnv,
  a: AutoReplyArgs,
): Promise<PreparedMail[]> {
  const now = Date.now();
  const values: FieldValues = {
    contact: a.contact,
    interaction: { id: a.interactionId, subject: a.subject, tag: a.threadTag, receivedAt: now },
    tenant: { name: a.cfg.raw.tenant.name },
    mailbox: { address: a.mailbox.address },
    now,
  };
  const out: PreparedMail[] = [];
  for (const id of a.responseIds) {
    const r = a.cfg.responses.get(id);
    if (!r) continue;
    out.push(
      await prepareMail(env, {
        tenant: a.tenant, interactionId: a.interactionId, threadId: a.threadId, contactId: a.contactId, mailbox: a.mailbox.address,
        status: "sending", auto: true, author: null, guard: a.guard,
        mail: {
          from: { addr: a.mailbox.address, name: a.mailbox.name ?? a.cfg.raw.tenant.name },
          to: [a.to],
          subject: r.subject ? withTag(renderTemplate(r.subject, values), a.threadTag) : replySubject(a.subject || "(no subject)", a.threadTag),
          inReplyTo: a.inReplyTo,
          references: a.references,
          text: renderTemplate(r.text, values),
          html: r.html ? renderTemplate(r.html, values, { html: true }) : undefined,
          headers: { ...AUTO_REPLY_HEADERS },
        },
      }),
    );
  }
  return out;
}

/** Automatic replies to a received message, threaded to it; statements for the caller's guarded batch. */
export function automaticReplies(
  env: TenantEnv,
  a: Omit<AutoReplyArgs, "subject" | "inReplyTo" | "references" | "guard"> & { mail: InboundMail; messageId: string; guard: NonNullable<AutoReplyArgs["guard"]> },
): Promise<PreparedMail[]> {
  return prepareAutoReplies(env, { ...a, subject: a.mail.subject, inReplyTo: a.messageId, references: [...a.mail.references, a.messageId].slice(-20) });
}

/** The acknowledgement of a web form post, to the address the visitor gave. The per-address limit
 *  matters more here than for mail: anyone can type someone else's address into a form. */
export async function acknowledgeForm(
  env: TenantEnv,
  a: { cfg: CompiledConfig; tenant: string; wf: Workflow; interactionId: string; contactId: string | null; to: string; name: ContactInput; subject: string; tag: string; responseIds: string[] },
): Promise<void> {
  const mailbox = a.cfg.raw.mailboxes.find((m) => m.workflow === a.wf.name) ?? a.cfg.raw.mailboxes[0];
  if (!mailbox) return;
  const lim = a.cfg.raw.email.autoReplyLimit;
  const now = Date.now();
  if (!(await hitRate(env.DB, `auto:${a.tenant}:${a.to.toLowerCase()}`, lim.max, lim.perSeconds, now)).allowed) {
    await env.DB.batch(eventStatements(env.DB, [{ tenant: a.tenant, interaction: a.interactionId, at: now, actor: "workflow", action: "auto_reply_suppressed", to: "new", reason: { why: `more than ${lim.max} automatic replies to ${a.to} within ${lim.perSeconds} s` } }]));
    return;
  }
  const n = splitName(a.name);
  const prepared = await prepareAutoReplies(env, {
    cfg: a.cfg, tenant: a.tenant, mailbox, responseIds: a.responseIds, interactionId: a.interactionId, threadId: a.interactionId, threadTag: a.tag,
    contactId: a.contactId, to: { addr: a.to, ...(n.full ? { name: n.full } : {}) }, subject: a.subject,
    contact: { firstName: n.first ?? null, lastName: n.last ?? null, email: a.to },
  });
  if (prepared.length === 0) return;
  await env.DB.batch(prepared.flatMap((p) => p.statements));
  for (const p of prepared) await enqueueDelivery(env, { tenant: a.tenant, emailId: p.emailId });
}
