// Automatic replies (the workflow's acknowledgement, screening auto-responses): standard responses
// rendered with their field codes, marked per RFC 3834 so other robots don't answer them.
import type { CompiledConfig } from "../config/compiled.ts";
import type { Mailbox, Workflow } from "../config/schema.ts";
import { renderTemplate, type FieldValues } from "../workflow/field-codes.ts";
import { prepareMail, type PreparedMail } from "../outbound/message.ts";
import { AUTO_REPLY_HEADERS } from "./loop-guard.ts";
import type { InboundMail, MailAddress } from "./parse.ts";
import { replySubject } from "./subject.ts";

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
    contactId: string;
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
