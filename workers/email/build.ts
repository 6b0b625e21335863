// Outgoing mail as MIME text, assembled by mimetext. mimetext lays out the parts (alternative, related,
// mixed) and boundaries; the encodings it gets wrong for international mail are done here: subjects and
// names as RFC 2047 words folded to line length, bodies as quoted-printable UTF-8, attachments as wrapped
// base64, file names per RFC 2231. Every value that reaches a header is checked, so no caller can inject one.
// "mimetext/browser": the default entry bundles mime-types' whole database into the Worker.
import { createMimeMessage, Mailbox, type MIMEMessage } from "mimetext/browser";
import { badRequest } from "../kernel/errors.ts";
import { unsendableReason } from "./addresses.ts";

export interface MailAddress {
  addr: string;
  name?: string;
}

export interface OutgoingMail {
  from: MailAddress;
  to: MailAddress[];
  cc?: MailAddress[];
  bcc?: MailAddress[];
  replyTo?: MailAddress;
  subject: string;
  /** Without the angle brackets. */
  messageId: string;
  inReplyTo?: string;
  references?: string[];
  text: string;
  html?: string;
  attachments?: { filename: string; contentType: string; data: Uint8Array; contentId?: string; inline?: boolean }[];
  headers?: Record<string, string>;
  date?: Date;
}

const EOL = "\r\n";
const MSG_ID = /^[^\s<>]+@[^\s<>]+$/;
const CONTENT_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i;
const HEADER_NAME = /^[!-9;-~]+$/;
// Headers buildMime writes itself; letting `headers` set them would bypass its checks and encodings.
const RESERVED = new Set([
  "from", "sender", "to", "cc", "bcc", "reply-to", "subject", "message-id", "in-reply-to", "references", "date",
  "mime-version", "content-type", "content-transfer-encoding", "content-disposition", "content-id",
]);

/** An address that can go into a header and an envelope as it is (a quoted local part included), else a 400
 *  naming it: bad addresses come from mail we received or from a caller, never from our own code. */
function checkAddr(a: MailAddress): MailAddress {
  const why = unsendableReason(a.addr);
  if (why) throw badRequest("unsupported_address", `cannot send to '${a.addr}': ${why}`);
  return a;
}

/** Whether an id can go into Message-ID, In-Reply-To or References (customers' mailers send ids without '@' too). */
export const isMessageId = (id: string): boolean => MSG_ID.test(id);

function checkId(id: string, what: string): string {
  if (!MSG_ID.test(id)) throw new Error(`invalid ${what} '${id}'`);
  return id;
}

const utf8 = new TextEncoder();

function base64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** RFC 2047 "B" words for text, split on character boundaries so each word stays within 75 characters. */
function encodedWords(text: string): string[] {
  const words: string[] = [];
  let chunk: number[] = [];
  for (const ch of text) {
    const b = utf8.encode(ch);
    // 42 bytes make 56 base64 characters, a 68-character word: it fits a line after "Reply-To: ".
    if (chunk.length + b.length > 42) {
      words.push(`=?UTF-8?B?${base64(Uint8Array.from(chunk))}?=`);
      chunk = [];
    }
    chunk.push(...b);
  }
  if (chunk.length) words.push(`=?UTF-8?B?${base64(Uint8Array.from(chunk))}?=`);
  return words;
}

/** Joins tokens with folding whitespace so that no line passes 78 characters (where a token allows). */
function fold(tokens: string[], first: number): string {
  let out = "";
  let line = first;
  for (const t of tokens) {
    if (out === "" && (first + t.length <= 78 || first <= 1)) {
      out = t;
      line += t.length;
    } else if (out === "") {
      // Too long to follow the header name: start it on a continuation line.
      out = EOL + " " + t;
      line = 1 + t.length;
    } else if (line + 1 + t.length > 78) {
      out += EOL + " " + t;
      line = 1 + t.length;
    } else {
      out += " " + t;
      line += 1 + t.length;
    }
  }
  return out;
}

const PRINTABLE = /^[\x20-\x7e]*$/;

/** An unstructured header value (Subject, extra headers): as it is if plain ASCII, else encoded words. */
function unstructured(value: string, nameLength: number): string {
  // Runs of whitespace (line breaks included) become one space: folding needs words, and a line break in a
  // value would end the header.
  const v = value.replace(/\s+/g, " ").trim();
  if (PRINTABLE.test(v) && !v.includes("=?")) return fold(v.split(" "), nameLength + 2);
  return fold(encodedWords(v), nameLength + 2);
}

/** A display name: an atom phrase, a quoted string, or encoded words. */
function phrase(name: string): string[] {
  const n = name.replace(/[\r\n]+/g, " ").trim();
  if (/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]*$/.test(n)) return n.split(/ +/);
  if (PRINTABLE.test(n) && !n.includes("=?")) return [`"${n.replace(/(["\\])/g, "\\$1")}"`];
  return encodedWords(n);
}

function mailboxes(list: Mailbox[], nameLength: number): string {
  const parts = list.map((m, i) => {
    const tokens = m.name.trim() ? [...phrase(m.name), `<${m.addr}>`] : [m.addr];
    if (i < list.length - 1) tokens[tokens.length - 1] += ",";
    return tokens;
  });
  return fold(parts.flat(), nameLength + 2);
}

/** Quoted-printable (RFC 2045 §6.7) of UTF-8 text, CRLF line breaks, lines of at most 76 characters. */
function quotedPrintable(text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => {
      const bytes = utf8.encode(line);
      const out: string[] = [];
      let cur = "";
      bytes.forEach((b, i) => {
        const last = i === bytes.length - 1;
        const literal =
          (b >= 33 && b <= 126 && b !== 61) ||
          ((b === 32 || b === 9) && !last);
        // A leading "." or "From " is encoded, so dot-stuffing or mbox quoting on the way cannot alter the text.
        const guarded = i === 0 && (b === 46 || (b === 70 && line.startsWith("From ")));
        const tok = literal && !guarded ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, "0")}`;
        if (cur.length + tok.length > 75) {
          out.push(cur + "=");
          cur = "";
        }
        cur += tok;
      });
      out.push(cur);
      return out.join(EOL);
    })
    .join(EOL);
}

const wrap76 = (s: string) => s.replace(/.{76}(?=.)/g, `$&${EOL}`);

/** A file-name parameter: quoted if plain ASCII, else RFC 2231 (UTF-8, percent-encoded, continued in pieces). */
function fileParam(param: string, filename: string): string {
  const plain = /^[\x20-\x7e]*$/.test(filename) && !/["\\]/.test(filename);
  // mimetext tells inline parts from attachments by looking for those words in Content-Disposition, so they
  // never appear literally in a name (their first letter is percent-encoded instead).
  const ambiguous = /inline|attachment/.test(filename);
  if (plain && !ambiguous && filename.length <= 60) return `${param}="${filename}"`;
  // Percent-encoded per character, so a continuation never splits one character's bytes.
  const chars = Array.from(filename);
  const units = chars.map((ch, i) => {
    // Percent-encoding the first letter of those words keeps them out of the header.
    const word = chars.slice(i, i + 10).join("");
    if (word.startsWith("inline") || word.startsWith("attachment")) return `%${ch.charCodeAt(0).toString(16).toUpperCase()}`;
    if (/^[A-Za-z0-9!#$&+\-.^_`|~]$/.test(ch)) return ch;
    return Array.from(utf8.encode(ch), (b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join("");
  });
  const pieces: string[] = [""];
  for (const u of units) {
    if (pieces[pieces.length - 1]!.length + u.length > 45) pieces.push("");
    pieces[pieces.length - 1] += u;
  }
  if (pieces.length === 1) return `${param}*=UTF-8''${pieces[0]}`;
  return pieces.map((p, i) => `${param}*${i}*=${i === 0 ? "UTF-8''" : ""}${p}`).join(`;${EOL} `);
}

function setDump(msg: MIMEMessage, name: string, dump: (v: unknown) => string): void {
  const field = msg.headers.fields.find((f) => f.name === name);
  if (!field) throw new Error(`mimetext has no ${name} field`);
  field.dump = dump;
}

/** The message as RFC 5322 text with CRLF line breaks. Bcc never appears in it: blind copies are delivered by
 *  the envelope alone (envelopeRecipients), or every recipient would see them. */
export function buildMime(m: OutgoingMail): string {
  const msg = createMimeMessage();
  const asList = (v: unknown): Mailbox[] => (Array.isArray(v) ? v : [v]).filter((x): x is Mailbox => x instanceof Mailbox);
  for (const name of ["From", "Reply-To", "To", "Cc"]) setDump(msg, name, (v) => mailboxes(asList(v), name.length));
  setDump(msg, "Subject", (v) => (typeof v === "string" ? unstructured(v, "Subject".length) : ""));

  msg.setSender(checkAddr(m.from));
  if (m.to.length) msg.setTo(m.to.map(checkAddr));
  if (m.cc?.length) msg.setCc(m.cc.map(checkAddr));
  if (m.replyTo) msg.setHeader("Reply-To", new Mailbox(checkAddr(m.replyTo)));
  m.bcc?.forEach(checkAddr);
  msg.setSubject(m.subject);
  msg.setHeader("Message-ID", `<${checkId(m.messageId, "Message-ID")}>`);
  msg.setHeader("Date", (m.date ?? new Date()).toUTCString().replace("GMT", "+0000"));
  if (m.inReplyTo) msg.setHeader("In-Reply-To", `<${checkId(m.inReplyTo, "In-Reply-To id")}>`);
  if (m.references?.length) {
    msg.setHeader("References", fold(m.references.map((r) => `<${checkId(r, "References id")}>`), "References".length + 2));
  }
  for (const [name, value] of Object.entries(m.headers ?? {})) {
    if (!HEADER_NAME.test(name)) throw new Error(`invalid header name '${name}'`);
    if (RESERVED.has(name.toLowerCase())) throw new Error(`header '${name}' is set by buildMime`);
    msg.setHeader(name, unstructured(value, name.length));
  }

  // mimetext writes an extra line break after each text part inside a multipart; ending the data with a soft
  // line break ("=") absorbs it, and is dropped by decoders where nothing follows.
  msg.addMessage({ contentType: "text/plain", data: quotedPrintable(m.text) + "=", encoding: "quoted-printable" });
  if (m.html !== undefined) msg.addMessage({ contentType: "text/html", data: quotedPrintable(m.html) + "=", encoding: "quoted-printable" });
  for (const a of m.attachments ?? []) {
    if (!CONTENT_TYPE.test(a.contentType)) throw new Error(`invalid content type '${a.contentType}'`);
    if (a.contentId !== undefined) checkId(a.contentId, "Content-ID");
    const part = msg.addAttachment({
      filename: "file",
      contentType: a.contentType,
      data: wrap76(base64(a.data)),
      encoding: "base64",
      inline: a.inline ?? false,
      headers: a.contentId !== undefined ? { "Content-ID": `<${a.contentId}>` } : {},
    });
    // Parameters go on their own lines, which keeps every line short whatever the name.
    part.setHeader("Content-Type", `${a.contentType.toLowerCase()};${EOL} ${fileParam("name", a.filename)}`);
    part.setHeader("Content-Disposition", `${a.inline ? "inline" : "attachment"};${EOL} ${fileParam("filename", a.filename)}`);
  }
  return msg.asRaw();
}

/** Everyone the message is delivered to (To, Cc and Bcc), each once. */
export function envelopeRecipients(m: Pick<OutgoingMail, "to" | "cc" | "bcc">): string[] {
  const out = new Map<string, string>();
  for (const a of [...m.to, ...(m.cc ?? []), ...(m.bcc ?? [])]) {
    const key = a.addr.toLowerCase();
    if (!out.has(key)) out.set(key, a.addr);
  }
  return [...out.values()];
}

/** A new Message-ID (without brackets): "parley.<128 random bits>@domain". */
export function newMessageId(domain: string): string {
  const d = domain.trim().toLowerCase();
  if (!/^[^\s<>@]+$/.test(d)) throw new Error(`invalid domain '${domain}'`);
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `parley.${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}@${d}`;
}
