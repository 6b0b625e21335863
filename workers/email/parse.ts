// MIME → what Parley keeps of a received message. Pure apart from postal-mime: no bindings.
import PostalMime, { type Address, type Email } from "postal-mime";
import { faithfulAddress, normalizeMessageId, parseMessageIdList } from "./addresses.ts";
import { htmlToText } from "./html-scan.ts";
import { MAX_ATTACHMENTS_STORED, MAX_MIME_BOUNDARY_LINES, MAX_MIME_DEPTH, MAX_MIME_HEADER_BYTES, MAX_RECIPIENTS_STORED, MAX_RFC822_DEPTH } from "./limits.ts";

export { htmlToText };

export interface MailAddress {
  addr: string;
  name?: string;
}

export interface InboundAttachment {
  filename: string;
  contentType: string;
  content: Uint8Array;
  /** Without <>; set for parts the HTML shows inline (cid:). */
  contentId: string | null;
  inline: boolean;
}

export interface InboundMail {
  messageId: string | null;
  /** In-Reply-To first, then References newest to oldest: the order threading tries them. */
  replyRefs: string[];
  references: string[];
  inReplyTo: string | null;
  from: MailAddress | null;
  to: MailAddress[];
  cc: MailAddress[];
  replyTo: MailAddress | null;
  /** The Sender header: who sent it on the author's behalf (identifies the contact only when From is missing). */
  sender: MailAddress | null;
  returnPath: string | null;
  subject: string;
  date: number | null;
  text: string;
  html: string | null;
  headers: [string, string][];
  /** At most MAX_ATTACHMENTS_STORED; the rest stay in the raw message. */
  attachments: InboundAttachment[];
  /** How many attachments the message has in all. */
  attachmentCount: number;
  /** What went wrong on the way, kept with the message: parse_failed, no_message_id, ... */
  flags: string[];
}

const MAX_HEADERS = 200;
const MAX_HEADER_VALUE = 4000;

function flatten(list: Address[] | Address | undefined): MailAddress[] {
  const out: MailAddress[] = [];
  for (const a of list === undefined ? [] : Array.isArray(list) ? list : [list]) {
    if (a.group) for (const m of a.group) out.push(mailbox(m.address, m.name));
    else if (a.address) out.push(mailbox(a.address, a.name));
  }
  return out.filter((m) => m.addr.includes("@"));
}

// postal-mime drops the quotes of a quoted local part; they are put back, so a reply goes where the sender meant.
const mailbox = (addr: string, name: string): MailAddress => (name ? { addr: faithfulAddress(addr), name: name.trim() } : { addr: faithfulAddress(addr) });

const bytes = (c: ArrayBuffer | Uint8Array | string): Uint8Array => (typeof c === "string" ? new TextEncoder().encode(c) : c instanceof Uint8Array ? c : new Uint8Array(c));

export function mapMail(e: Email): InboundMail {
  const flags: string[] = [];
  const headers: [string, string][] = e.headers.slice(0, MAX_HEADERS).map((h) => [h.originalKey || h.key, h.value.slice(0, MAX_HEADER_VALUE)]);
  if (e.headers.length > MAX_HEADERS) flags.push("headers_truncated");
  const messageId = normalizeMessageId(e.messageId);
  if (!messageId) flags.push("no_message_id");
  const inReplyTo = parseMessageIdList(e.inReplyTo)[0] ?? null;
  const references = parseMessageIdList(e.references);
  const replyRefs = [...new Set([...(inReplyTo ? [inReplyTo] : []), ...[...references].reverse()])];
  const from = flatten(e.from)[0] ?? null;
  if (e.attachments.length > MAX_ATTACHMENTS_STORED) flags.push("attachments_truncated");
  const to = flatten(e.to);
  const cc = flatten(e.cc);
  if (to.length > MAX_RECIPIENTS_STORED || cc.length > MAX_RECIPIENTS_STORED) flags.push("recipients_truncated");
  if (!from) flags.push("no_sender");
  const parsedDate = e.date ? Date.parse(e.date) : NaN;
  const html = e.html?.trim() ? e.html : null;
  const text = e.text?.trim() ? e.text : html ? htmlToText(html) : "";
  return {
    messageId, inReplyTo, references, replyRefs, from,
    to: to.slice(0, MAX_RECIPIENTS_STORED), cc: cc.slice(0, MAX_RECIPIENTS_STORED), replyTo: flatten(e.replyTo)[0] ?? null, sender: flatten(e.sender)[0] ?? null,
    returnPath: e.returnPath ?? headers.find(([k]) => k.toLowerCase() === "return-path")?.[1] ?? null,
    subject: (e.subject ?? "").slice(0, 998),
    date: Number.isFinite(parsedDate) ? parsedDate : null,
    text, html, headers,
    attachmentCount: e.attachments.length,
    attachments: e.attachments.slice(0, MAX_ATTACHMENTS_STORED).map((a, i) => ({
      filename: (a.filename ?? "").trim() || `attachment-${i + 1}${a.mimeType === "message/rfc822" ? ".eml" : ""}`,
      contentType: a.mimeType || "application/octet-stream",
      content: bytes(a.content),
      contentId: normalizeMessageId(a.contentId),
      inline: a.disposition === "inline" || (a.related === true && !!a.contentId),
    })),
    flags,
  };
}

const PARSE_LIMITS = { maxNestingDepth: MAX_MIME_DEPTH, maxHeadersSize: MAX_MIME_HEADER_BYTES, maxRfc822NestingDepth: MAX_RFC822_DEPTH };

/** The raw message cut before its (max+1)th line that starts with "--" (a possible MIME boundary), or
 *  null when it has no more than `max` of them. One pass over the bytes. */
export function cutAtBoundaryLimit(raw: Uint8Array, max = MAX_MIME_BOUNDARY_LINES): Uint8Array | null {
  let seen = 0;
  for (let i = 0; i + 2 < raw.length; i++) {
    if ((i === 0 || raw[i - 1] === 0x0a) && raw[i] === 0x2d && raw[i + 1] === 0x2d && ++seen > max) return raw.subarray(0, i);
  }
  return null;
}

/** Parses a raw message. Never throws: a message postal-mime can't read (or that passes a limit) comes
 *  back flagged, with the raw bytes' text as its body, so it is still stored and routed. */
export async function parseMail(raw: Uint8Array): Promise<InboundMail> {
  try {
    const cut = cutAtBoundaryLimit(raw);
    const mail = mapMail(await PostalMime.parse(cut ?? raw, { attachmentEncoding: "arraybuffer", ...PARSE_LIMITS }));
    return cut ? { ...mail, flags: [...mail.flags, "parts_truncated"] } : mail;
  } catch (err) {
    const why = String(err instanceof Error ? err.message : err);
    const limit = /nesting depth/i.test(why) ? ["mime_too_deep"] : /header size/i.test(why) ? ["headers_too_large"] : [];
    return unparsed(raw, ["parse_failed", ...limit, `parse_error: ${why.slice(0, 200)}`]);
  }
}

/** A message kept as its raw text (its first 256 KiB), for when it could not be read or processed. */
export function unparsed(raw: Uint8Array, flags: string[], keep?: Pick<InboundMail, "messageId" | "from" | "replyTo" | "sender" | "subject" | "date">): InboundMail {
  const text = new TextDecoder("utf-8", { fatal: false, ignoreBOM: false }).decode(raw.subarray(0, 256 * 1024));
  return {
    messageId: null, inReplyTo: null, references: [], replyRefs: [], from: null, to: [], cc: [], replyTo: null, sender: null, returnPath: null,
    subject: "", date: null, text, html: null, headers: [], attachments: [], attachmentCount: 0, ...keep,
    flags: [...flags, ...(keep?.messageId ? [] : ["no_message_id"])],
  };
}

/** At most `max` bytes of UTF-8, cut on a character boundary. D1 refuses a value over 2 MB, and a
 *  character may take up to 3 bytes, so limits on text go by bytes, not by string length. */
export function capUtf8(s: string, max: number): { text: string; cut: boolean } {
  if (s.length * 3 <= max) return { text: s, cut: false };
  const bytes = new TextEncoder().encode(s);
  if (bytes.length <= max) return { text: s, cut: false };
  // A lenient decode of the prefix drops at most one split character at the end (as U+FFFD): removed.
  return { text: new TextDecoder("utf-8", { fatal: false, ignoreBOM: true }).decode(bytes.subarray(0, max)).replace(/\uFFFD$/, ""), cut: true };
}
