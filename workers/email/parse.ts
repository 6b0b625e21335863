// MIME → what Parley keeps of a received message. Pure apart from postal-mime: no bindings.
import PostalMime, { type Address, type Email } from "postal-mime";
import { normalizeMessageId, parseMessageIdList } from "./addresses.ts";

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
  returnPath: string | null;
  subject: string;
  date: number | null;
  text: string;
  html: string | null;
  headers: [string, string][];
  attachments: InboundAttachment[];
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

const mailbox = (addr: string, name: string): MailAddress => (name ? { addr: addr.trim(), name: name.trim() } : { addr: addr.trim() });

/** Plain text from HTML, for search and quoting when a message has no text part. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style|head)\b[\s\S]*?<\/\1\s*>/gi, " ")
    .replace(/<br\s*\/?>|<\/(p|div|tr|li|h[1-6]|blockquote)>/gi, "\n")
    .replace(/<[^>]*>/g, " ")
    .replace(/&nbsp;/gi, " ")
    .replace(/&lt;/gi, "<")
    .replace(/&gt;/gi, ">")
    .replace(/&quot;/gi, '"')
    .replace(/&#39;|&apos;/gi, "'")
    .replace(/&amp;/gi, "&")
    .replace(/[ \t]+/g, " ")
    .replace(/\s*\n\s*/g, "\n")
    .trim();
}

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
  if (!from) flags.push("no_sender");
  const parsedDate = e.date ? Date.parse(e.date) : NaN;
  const html = e.html?.trim() ? e.html : null;
  const text = e.text?.trim() ? e.text : html ? htmlToText(html) : "";
  return {
    messageId, inReplyTo, references, replyRefs, from,
    to: flatten(e.to), cc: flatten(e.cc), replyTo: flatten(e.replyTo)[0] ?? null,
    returnPath: e.returnPath ?? headers.find(([k]) => k.toLowerCase() === "return-path")?.[1] ?? null,
    subject: (e.subject ?? "").slice(0, 998),
    date: Number.isFinite(parsedDate) ? parsedDate : null,
    text, html, headers,
    attachments: e.attachments.map((a, i) => ({
      filename: (a.filename ?? "").trim() || `attachment-${i + 1}${a.mimeType === "message/rfc822" ? ".eml" : ""}`,
      contentType: a.mimeType || "application/octet-stream",
      content: bytes(a.content),
      contentId: normalizeMessageId(a.contentId),
      inline: a.disposition === "inline" || (a.related === true && !!a.contentId),
    })),
    flags,
  };
}

/** Parses a raw message. Never throws: a message postal-mime can't read comes back flagged, with
 *  the raw bytes' text as its body, so it is still stored and routed. */
export async function parseMail(raw: Uint8Array): Promise<InboundMail> {
  try {
    return mapMail(await PostalMime.parse(raw, { attachmentEncoding: "arraybuffer" }));
  } catch (err) {
    const text = new TextDecoder("utf-8", { fatal: false, ignoreBOM: false }).decode(raw.subarray(0, 256 * 1024));
    return {
      messageId: null, inReplyTo: null, references: [], replyRefs: [], from: null, to: [], cc: [], replyTo: null, returnPath: null,
      subject: "", date: null, text, html: null, headers: [], attachments: [],
      flags: ["parse_failed", `parse_error: ${String(err instanceof Error ? err.message : err).slice(0, 200)}`, "no_message_id"],
    };
  }
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
