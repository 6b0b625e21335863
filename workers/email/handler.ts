// Email Routing's email() handler: the recipient picks the tenant and mailbox; the message goes
// through the same path as the HTTP ingest. Too big or unknown: rejected at SMTP time (the sender
// gets a bounce). A failure of ours throws, so the sending server retries later; a retry is
// harmless (one interaction per Message-ID).
import { mailboxForAddress, MAX_MAIL_BYTES, receiveMail } from "./inbound.ts";
import { readStreamLimited } from "../kernel/read-limited.ts";
import { AppError } from "../kernel/errors.ts";

export async function handleEmail(message: ForwardableEmailMessage, env: Env): Promise<void> {
  if (message.rawSize > MAX_MAIL_BYTES) {
    message.setReject(`Message too large: ${message.rawSize} bytes; the limit is ${MAX_MAIL_BYTES}`);
    return;
  }
  // A suspended tenant's mail is refused at SMTP time with the reason (the sender gets a bounce, and
  // nothing is stored); a move in progress holds it until the tenant is on its new shard.
  const route = await mailboxForAddress(env, message.to).catch((e: unknown) => (e instanceof AppError && e.status < 500 ? e : Promise.reject(e)));
  if (route instanceof AppError) {
    message.setReject(route.message);
    return;
  }
  if (!route) {
    message.setReject(`No mailbox ${message.to} here`);
    return;
  }
  // rawSize is checked above; the stream is still read to the limit only, in case it says otherwise.
  const raw = await readStreamLimited(message.raw, MAX_MAIL_BYTES);
  if (!raw) {
    message.setReject(`Message too large: the limit is ${MAX_MAIL_BYTES} bytes`);
    return;
  }
  const mailbox = route.mailbox;
  const r = await receiveMail(route.env, { tenant: route.tenant, mailbox, raw, envelopeFrom: message.from, via: "email" });
  console.log("email", JSON.stringify({ tenant: route.tenant, to: mailbox.address, interactionId: r.interactionId, duplicate: r.duplicate, thread: r.thread }));
}
