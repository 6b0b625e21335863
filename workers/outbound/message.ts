// Outbound mail as stored: the built MIME in R2, a row in `emails`, its Message-ID in `email_refs`
// (so the customer's answer threads back), and a delivery job on the SENDS Queue.
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import { buildMime, envelopeRecipients, isMessageId, newMessageId, type OutgoingMail } from "../email/build.ts";
import { newId } from "../kernel/ids.ts";
import { outboundMailStatements } from "../ucs/mail/emails.ts";

export interface DeliveryJob {
  tenant: string;
  emailId: string;
}

export interface PreparedMail {
  emailId: string;
  messageId: string;
  rawKey: string;
  size: number;
  statements: D1PreparedStatement[];
}

/** In-Reply-To and References without the ids a header cannot carry (a customer's id without '@'). */
export function threadingIds<T extends { inReplyTo?: string; references?: string[] }>(m: T): T {
  return { ...m, inReplyTo: m.inReplyTo && isMessageId(m.inReplyTo) ? m.inReplyTo : undefined, references: m.references?.filter(isMessageId) };
}

export const domainOf = (addr: string) => addr.slice(addr.lastIndexOf("@") + 1).toLowerCase() || "parley.invalid";

/** Builds and stores the MIME; returns the statements that record it (run them in the caller's batch). */
export async function prepareMail(
  env: TenantEnv,
  m: {
    tenant: string;
    interactionId: string;
    threadId: string;
    contactId: string | null;
    mail: Omit<OutgoingMail, "messageId"> & { messageId?: string };
    status: "draft" | "review" | "sending";
    auto: boolean;
    author: string | null;
    mailbox: string;
    /** Statements run only when this holds (a guard shared with the caller's batch). */
    guard?: { sql: string; params: (string | number | null)[] };
  },
): Promise<PreparedMail> {
  const emailId = newId("e");
  const messageId = m.mail.messageId ?? newMessageId(domainOf(m.mailbox));
  const full: OutgoingMail = { ...threadingIds(m.mail), messageId, date: m.mail.date ?? new Date() };
  const raw = buildMime(full);
  const bytes = new TextEncoder().encode(raw);
  const rawKey = `${m.tenant}/mail/out/${emailId}.eml`;
  await env.BLOBS.put(rawKey, bytes, { httpMetadata: { contentType: "message/rfc822" } });
  const now = Date.now();
  const statements = outboundMailStatements(
    env.DB,
    {
      tenant: m.tenant, id: emailId, interactionId: m.interactionId, threadId: m.threadId, messageId, inReplyTo: m.mail.inReplyTo ?? null, references: m.mail.references ?? [],
      mailbox: m.mailbox, from: m.mail.from, to: m.mail.to ?? [], cc: m.mail.cc ?? [], bcc: m.mail.bcc ?? [], subject: m.mail.subject, rawKey, rawSize: bytes.length,
      status: m.status, auto: !!m.auto, author: m.author, contactId: m.contactId, at: now,
    },
    m.guard,
  );
  return { emailId, messageId, rawKey, size: bytes.length, statements };
}

export { envelopeRecipients };

/** Puts a stored message on the delivery Queue. A failure here is healed by the sweep, which
 *  re-queues messages left in 'sending'. */
export async function enqueueDelivery(env: TenantEnv, job: DeliveryJob): Promise<void> {
  try {
    await env.SENDS.send(job, { contentType: "json" });
  } catch (err) {
    console.error(`could not queue ${job.emailId}; the sweep will`, err);
  }
}
