// MM7 (3GPP TS 23.140) DeliverReq, as a VASP receives it from an MMS relay: a SOAP 1.1 envelope and
// the message's content in one multipart/related body. Pure: no bindings.
//
// Relays send sloppy XML and MIME, so everything here is lenient on purpose: elements are matched by
// local name (any prefix, declared or not, any case; see xml.ts), namespace URIs are whatever
// REL-5/REL-6 variant comes, a missing boundary is found in the body, a missing `start` means the
// first part, transfer encodings and charsets are decoded as best they can be. A message fails
// ("can't be understood") when it has no DeliverReq, no sender or no recipient, or its envelope is
// over an XML limit. Hostile input is bounded: the XML limits (xml.ts), MAX_MM7_PARTS parts decoded,
// MAX_MM7_MIME_DEPTH nesting, and every pass linear in the body. The envelope is read on its own
// (parseEnvelope) so the route can authenticate the relay before the content is decoded.

import { attr, childEl, findAll, findEl, is, MAX_MM7_XML_BYTES, namespaceOf, parseXml, textOf, XmlLimitError, XmlSyntaxError, type XmlEl } from "./xml.ts";

export { findEl, MAX_MM7_XML_BYTES, MAX_MM7_XML_DEPTH, MAX_MM7_XML_ELEMENTS, parseXml, textOf, XmlLimitError, type XmlEl } from "./xml.ts";

/** MIME parts decoded per message, nested ones counted by their leaves; the rest are counted and
 *  noted, not read. A phone's MMS has a handful. */
export const MAX_MM7_PARTS = 40;
/** Nested multiparts read (a DeliverReq's content is one multipart inside the SOAP one). */
export const MAX_MM7_MIME_DEPTH = 4;
/** Recipients of a DeliverReq looked up as our numbers (each is a lookup made before authentication). */
export const MAX_MM7_RECIPIENTS = 10;

export const SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/";
export const DEFAULT_MM7_NS = "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4";
export const DEFAULT_MM7_VERSION = "6.8.0";

/** Request status codes of TS 23.140 (MM7 Status/StatusCode) this side uses. */
export const MM7_STATUS = {
  1000: "Success",
  2000: "Client error",
  2002: "Address Error",
  2003: "Address Not Found",
  2004: "Multimedia content refused",
  2007: "Message format corrupt",
  3000: "Server error",
  4001: "Improper identification",
  4004: "Validation error",
} as const satisfies Record<number, string>;

export interface Mm7Part {
  /** Without <>. */
  contentId: string | null;
  location: string | null;
  /** type/subtype, lower case. */
  contentType: string;
  charset: string | null;
  /** A file name from Content-Type name= or Content-Disposition filename=. */
  name: string | null;
  /** After the transfer encoding is undone; still in the part's charset. */
  bytes: Uint8Array;
  /** Text parts (text/*, SMIL) decoded from their charset. */
  text?: string;
}

export interface Mm7DeliverReq {
  transactionId: string;
  mm7Version: string;
  namespace: string;
  from: string;
  to: string[];
  subject: string;
  linkedId: string | null;
  timeStamp: string | null;
  priority: string | null;
  parts: Mm7Part[];
  smil?: string;
  /** Index of the SMIL part in `parts`. */
  smilIndex?: number;
  /** Every index of `parts` once: those the SMIL shows, in its order, then the others as they came. */
  order: number[];
  /** Parts past MAX_MM7_PARTS: counted, not read. */
  omitted: number;
}

/** A DeliverReq that can't be understood; `code` is the MM7 status code for the fault. What could
 *  be read (the TransactionID, the namespace) is kept so the fault can echo it. */
export class Mm7Error extends Error {
  readonly code: number;
  readonly transactionId: string;
  readonly namespace: string;
  readonly mm7Version: string;
  /** The HTTP status to answer with: 400, or 413 for an envelope over MAX_MM7_XML_BYTES. */
  readonly status: 400 | 413;
  constructor(code: number, message: string, seen: { transactionId?: string; namespace?: string; mm7Version?: string } = {}, status: 400 | 413 = 400) {
    super(message);
    this.name = "Mm7Error";
    this.code = code;
    this.status = status;
    this.transactionId = seen.transactionId ?? "";
    this.namespace = seen.namespace ?? DEFAULT_MM7_NS;
    this.mm7Version = seen.mm7Version ?? DEFAULT_MM7_VERSION;
  }
}

// ---------------------------------------------------------------------------------------------
// Bytes and text

/** One character per byte (a "binary string"): byte offsets and string offsets are the same. */
export function binary(b: Uint8Array): string {
  let s = "";
  // apply takes the typed array as it is (a spread would iterate it, several times slower).
  for (let i = 0; i < b.length; i += 0x2000) s += String.fromCharCode.apply(null, b.subarray(i, i + 0x2000) as unknown as number[]);
  return s;
}

function utf16(b: Uint8Array, le: boolean): string {
  let s = "";
  const n = b.length - (b.length % 2);
  for (let i = 0; i < n; i += 0x8000) {
    const codes: number[] = [];
    for (let j = i; j < Math.min(n, i + 0x8000); j += 2) codes.push(le ? b[j]! | (b[j + 1]! << 8) : (b[j]! << 8) | b[j + 1]!);
    s += String.fromCharCode(...codes);
  }
  return s;
}

/** UTF-16 with its byte order from the BOM, else guessed from where the zero bytes of ASCII fall. */
function utf16Any(b: Uint8Array, hint?: "le" | "be"): string {
  if (b[0] === 0xff && b[1] === 0xfe) return utf16(b.subarray(2), true);
  if (b[0] === 0xfe && b[1] === 0xff) return utf16(b.subarray(2), false);
  if (hint) return utf16(b, hint === "le");
  let even = 0;
  let odd = 0;
  for (let i = 0; i + 1 < Math.min(b.length, 4096); i += 2) {
    if (b[i] === 0) even++;
    if (b[i + 1] === 0) odd++;
  }
  // Big-endian is RFC 2781's default; little-endian ASCII has its zeros at odd offsets.
  return utf16(b, odd > even);
}

const utf8 = (b: Uint8Array, fatal: boolean) => new TextDecoder("utf-8", { fatal, ignoreBOM: false }).decode(b);

/** Text from bytes in a MIME charset. No charset: UTF-8 if the bytes are valid UTF-8, else Latin-1. */
export function decodeCharset(b: Uint8Array, charset: string | null | undefined): string {
  const cs = (charset ?? "").trim().toLowerCase().replace(/^["']|["']$/g, "");
  if (!cs || cs === "us-ascii" || cs === "ascii") {
    try {
      return utf8(b, true);
    } catch {
      return binary(b);
    }
  }
  if (cs === "utf-8" || cs === "utf8") return utf8(b, false);
  if (/^(iso[-_ ]?8859-1|iso8859-1|iso_8859-1:1987|latin-?1|l1|cp819|ibm819)$/.test(cs)) return binary(b);
  if (cs === "utf-16le") return utf16Any(b, "le");
  if (cs === "utf-16be") return utf16Any(b, "be");
  if (/^(utf-?16|ucs-?2|iso-10646-ucs-2|unicode)$/.test(cs)) return utf16Any(b);
  try {
    return new TextDecoder(cs).decode(b);
  } catch {
    return utf8(b, false);
  }
}

/** base64 value of each byte (either alphabet: "+/" or "-_"), -1 for any other byte. */
const B64 = (() => {
  const t = new Int8Array(256).fill(-1);
  const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let i = 0; i < 64; i++) t[abc.charCodeAt(i)] = i;
  t[0x2d] = 62;
  t[0x5f] = 63;
  return t;
})();

/** base64 from bytes to bytes in one pass, skipping line breaks and anything else outside the
 *  alphabet (padding included); a dangling last character is dropped. */
function base64Bytes(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.floor((src.length * 3) / 4) + 3);
  let n = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < src.length; i++) {
    const v = B64[src[i]!]!;
    if (v < 0) continue;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  return out.slice(0, n);
}

const hexValue = (c: number) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1);

/** Quoted-printable from bytes to bytes in one pass: "=XX" is a byte, "=" before spaces and a line
 *  break is a soft break, anything else is kept as it is. */
function quotedPrintable(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c !== 0x3d) {
      out[n++] = c;
      continue;
    }
    const hi = hexValue(src[i + 1] ?? -1);
    const lo = hexValue(src[i + 2] ?? -1);
    if (hi >= 0 && lo >= 0) {
      out[n++] = (hi << 4) | lo;
      i += 2;
      continue;
    }
    let j = i + 1;
    while (src[j] === 0x20 || src[j] === 0x09) j++;
    if (src[j] === 0x0d && src[j + 1] === 0x0a) j++;
    if (src[j] === 0x0a) {
      i = j;
      continue;
    }
    out[n++] = c;
  }
  return out.slice(0, n);
}

function undoTransferEncoding(body: Uint8Array, cte: string | undefined): Uint8Array {
  const e = (cte ?? "").trim().toLowerCase();
  if (e === "base64") return base64Bytes(body);
  if (e === "quoted-printable") return quotedPrintable(body);
  // 7bit, 8bit, binary, none, or something unknown: the bytes as they are.
  return body;
}

// ---------------------------------------------------------------------------------------------
// MIME

export interface HeaderValue {
  value: string;
  params: Record<string, string>;
}

/** `type/subtype; a=b; c="d;e"`: the value lower-cased, parameter names lower-cased, quotes removed. */
export function parseHeaderValue(raw: string): HeaderValue {
  const items: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '"') quoted = !quoted;
    if (c === "\\" && quoted && i + 1 < raw.length) {
      cur += c + raw[++i];
      continue;
    }
    if (c === ";" && !quoted) {
      items.push(cur);
      cur = "";
    } else cur += c;
  }
  items.push(cur);
  const params: Record<string, string> = {};
  for (const item of items.slice(1)) {
    const eq = item.indexOf("=");
    if (eq < 0) continue;
    const name = item.slice(0, eq).trim().toLowerCase();
    let v = item.slice(eq + 1).trim();
    if (v.startsWith('"')) v = v.slice(1, v.endsWith('"') && v.length > 1 ? -1 : undefined).replace(/\\(.)/g, "$1");
    if (name && !(name in params)) params[name] = v;
  }
  return { value: items[0]!.trim().toLowerCase(), params };
}

interface MimePart {
  headers: Map<string, string>;
  body: Uint8Array;
}

const HEADER_LINE = /^[!-9;-~]+[ \t]*:/;

/** A MIME entity: headers (unfolded, names lower-cased, the first of each kept) and the body. */
function parseEntity(b: Uint8Array): MimePart {
  const s = binary(b.subarray(0, Math.min(b.length, 64 * 1024)));
  const headers = new Map<string, string>();
  let start = 0;
  if (/^\r?\n/.test(s)) start = s[0] === "\r" ? 2 : 1;
  else if (HEADER_LINE.test(s)) {
    const m = /\r?\n\r?\n/.exec(s);
    const end = m ? m.index : s.length;
    start = m ? m.index + m[0].length : b.length;
    const block = decodeCharset(b.subarray(0, end), null);
    for (const line of block.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
      const c = line.indexOf(":");
      if (c <= 0) continue;
      const name = line.slice(0, c).trim().toLowerCase();
      if (!headers.has(name)) headers.set(name, line.slice(c + 1).trim());
    }
  }
  return { headers, body: b.subarray(start) };
}

/** The first line of the body that starts with "--": the boundary a relay used but did not declare. */
function sniffBoundary(s: string): string | null {
  const m = /^--([^\r\n]{1,200}?)[ \t]*\r?$/m.exec(s.slice(0, 8192));
  return m ? m[1]!.replace(/--$/, "") : null;
}

/** The parts of a multipart body: the first `max`, and how many more there are (counted, not cut
 *  out). The declared boundary, else the one the body uses; a missing close delimiter ends the last
 *  part at the end of the body. Linear, on the bytes: each line start is tried once against the
 *  delimiter (a comparison only goes as far as the line matches it), and no string of the body is made. */
export function splitMultipart(b: Uint8Array, declared: string | null | undefined, max = MAX_MM7_PARTS): { parts: Uint8Array[]; omitted: number } {
  const tryBoundary = (boundary: string): { parts: Uint8Array[]; omitted: number } | null => {
    const delim = Uint8Array.from(`--${boundary}`, (c) => c.charCodeAt(0) & 0xff);
    const at0 = (at: number) => {
      if (at + delim.length > b.length) return false;
      for (let k = 0; k < delim.length; k++) if (b[at + k] !== delim[k]) return false;
      return true;
    };
    // The delimiters of the parts kept, plus the one that ends the last of them.
    const starts: { at: number; next: number; close: boolean }[] = [];
    let opened = 0;
    for (let at = 0; at < b.length; ) {
      // The line's end, by a plain loop: a native call per line costs more on a body of short lines.
      let eol = at;
      while (eol < b.length && b[eol] !== 0x0a) eol++;
      const lineEnd = eol;
      if (eol === b.length) eol = -1;
      if (b[at] === 0x2d && at0(at)) {
        const after = at + delim.length;
        const close = b[after] === 0x2d && b[after + 1] === 0x2d;
        // Only transport padding may follow a delimiter: anything else means a longer boundary.
        let padding = true;
        for (let k = close ? after + 2 : after; k < lineEnd && padding; k++) padding = b[k] === 0x20 || b[k] === 0x09 || b[k] === 0x0d;
        if (padding) {
          if (starts.length <= max) starts.push({ at, next: eol < 0 ? b.length : eol + 1, close });
          if (close) break;
          opened++;
        }
      }
      at = lineEnd + 1;
    }
    if (!starts.length) return null;
    const parts: Uint8Array[] = [];
    for (let i = 0; i < starts.length && parts.length < max; i++) {
      const d = starts[i]!;
      if (d.close) break;
      let end = starts[i + 1]?.at ?? b.length;
      if (i + 1 < starts.length) {
        if (b[end - 1] === 0x0a) end--;
        if (b[end - 1] === 0x0d) end--;
      }
      parts.push(b.subarray(d.next, Math.max(d.next, end)));
    }
    return { parts, omitted: opened - parts.length };
  };
  const fromDeclared = declared ? tryBoundary(declared.trim()) : null;
  if (fromDeclared?.parts.length) return fromDeclared;
  const sniffed = sniffBoundary(binary(b.subarray(0, 8192)));
  return (sniffed && tryBoundary(sniffed)) || { parts: [], omitted: 0 };
}

const stripId = (id: string | null | undefined): string | null => {
  if (!id) return null;
  const v = id.trim().replace(/^<+|>+$/g, "").trim();
  return v || null;
};

const safeDecodeUri = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

const TEXTUAL = /^text\/|^application\/(smil|smil\+xml|xml|vnd\.wap\.smil)$/;
const isSmilType = (p: { contentType: string; location: string | null; name: string | null }) =>
  /^application\/(smil|smil\+xml|vnd\.wap\.smil)$/.test(p.contentType) || /\.smil?$/i.test(p.location ?? p.name ?? "");

function toPart(e: MimePart): Mm7Part {
  const ct = parseHeaderValue(e.headers.get("content-type") ?? "text/plain");
  const contentType = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(ct.value) ? ct.value : "application/octet-stream";
  const disposition = parseHeaderValue(e.headers.get("content-disposition") ?? "");
  const bytes = undoTransferEncoding(e.body, e.headers.get("content-transfer-encoding"));
  const charset = ct.params.charset?.trim().toLowerCase() || null;
  const part: Mm7Part = {
    contentId: stripId(e.headers.get("content-id")),
    location: e.headers.get("content-location")?.trim().replace(/^"|"$/g, "") || null,
    contentType,
    charset,
    name: ct.params.name?.trim() || disposition.params.filename?.trim() || null,
    bytes,
  };
  // A SMIL some relays label text/xml or octet-stream: known by its first element.
  const sniffSmil = !TEXTUAL.test(contentType) && /^\s*(<\?xml[^>]*>\s*)?<smil[\s>]/i.test(binary(bytes.subarray(0, 200)));
  if (TEXTUAL.test(contentType) || isSmilType(part) || sniffSmil) part.text = decodeCharset(bytes, charset).replace(/^\uFEFF/, "");
  if (sniffSmil) part.contentType = "application/smil";
  return part;
}

/** What is left of the MAX_MM7_PARTS parts a message may have decoded, and the parts not read. */
interface PartBudget {
  left: number;
  omitted: number;
}

/** The leaves of a MIME entity: nested multiparts (MAX_MM7_MIME_DEPTH deep) flattened in order,
 *  while the budget lasts; a part past it is counted, not read. */
function leaves(e: MimePart, budget: PartBudget, depth = 0): Mm7Part[] {
  if (budget.left <= 0) {
    budget.omitted++;
    return [];
  }
  const ct = parseHeaderValue(e.headers.get("content-type") ?? "");
  if (ct.value.startsWith("multipart/") && depth < MAX_MM7_MIME_DEPTH) {
    const split = splitMultipart(e.body, ct.params.boundary, budget.left);
    budget.omitted += split.omitted;
    const out: Mm7Part[] = [];
    for (const b of split.parts) for (const p of leaves(parseEntity(b), budget, depth + 1)) out.push(p);
    return out;
  }
  budget.left--;
  return [toPart(e)];
}

const MM7_NS = /23\.140|mm7/i;
const isMm7Ns = (ns: string) => MM7_NS.test(ns) && /^[\x21-\x7e]{1,200}$/.test(ns) && !/["<>&]/.test(ns);

// ---------------------------------------------------------------------------------------------
// DeliverReq

/** An address as sent, without the "/TYPE=PLMN" suffix of RFC 2822-style MMS addresses. */
const cleanAddress = (s: string) =>
  s
    .trim()
    .replace(/\/TYPE=[A-Za-z0-9]+$/i, "")
    .replace(/^mailto:|^tel:/i, "")
    .trim();

/** The addresses in a Sender or To/Cc/Bcc element: its Number, RFC2822Address or ShortCode
 *  children, or (buggy relays) its own text. */
function addressesIn(el: XmlEl): string[] {
  const found = findAll(el, (e) => e !== el && /^(number|rfc2822address|shortcode)$/i.test(e.name)).map((e) => cleanAddress(textOf(e))).filter(Boolean);
  if (found.length) return found;
  const own = cleanAddress(el.children.filter((c): c is string => typeof c === "string").join(""));
  return own ? [own] : [];
}

/** The parts in the order the SMIL shows them. A SMIL that can't be read (or is over a limit) orders
 *  nothing: the parts then come as they came. */
function smilOrder(smil: string, parts: Mm7Part[]): number[] {
  let doc: XmlEl;
  try {
    doc = parseXml(smil);
  } catch (e) {
    if (e instanceof XmlLimitError || e instanceof XmlSyntaxError) return [];
    throw e;
  }
  const scope = findEl(doc, "body") ?? doc;
  const refs = findAll(scope, (e) => /^(img|text|audio|video|ref|animation|textstream)$/i.test(e.name) && attr(e, "src") !== undefined).map((e) => attr(e, "src")!.trim());
  const base = (s: string) => s.slice(s.lastIndexOf("/") + 1).toLowerCase();
  const order: number[] = [];
  for (const src of refs) {
    let i = -1;
    if (/^cid:/i.test(src)) {
      const id = stripId(safeDecodeUri(src.slice(4)))?.toLowerCase();
      i = parts.findIndex((p) => p.contentId?.toLowerCase() === id);
    }
    if (i < 0) {
      const s = safeDecodeUri(src).replace(/^cid:/i, "").toLowerCase();
      const sid = stripId(s);
      i = parts.findIndex((p) => p.location?.toLowerCase() === s || safeDecodeUri(p.location ?? "").toLowerCase() === s);
      if (i < 0) i = parts.findIndex((p) => p.contentId?.toLowerCase() === sid);
      if (i < 0) i = parts.findIndex((p) => p.name?.toLowerCase() === s);
      if (i < 0) i = parts.findIndex((p) => !!(p.location ?? p.name) && base(p.location ?? p.name ?? "") === base(s));
    }
    if (i >= 0 && !order.includes(i)) order.push(i);
  }
  return order;
}

/** A DeliverReq's SOAP envelope, read before the relay is authenticated (its recipient names the
 *  number whose password to check): the MIME split into at most MAX_MM7_PARTS + 1 entities, and the
 *  envelope's XML within the XML limits. The content is not decoded yet. */
export interface Mm7Envelope extends Omit<Mm7DeliverReq, "parts" | "smil" | "smilIndex" | "order" | "omitted"> {
  /** For parseContent. */
  readonly entities: MimePart[];
  readonly envIndex: number;
  readonly href: string | undefined;
  /** Top-level entities past the limit, counted and not read. */
  readonly entitiesOmitted: number;
}

/** Reads the envelope of a DeliverReq request (the HTTP Content-Type and the body). Throws Mm7Error
 *  when there is no DeliverReq, no sender or no recipient, or the envelope is over a limit; anything
 *  else missing or malformed is taken leniently. */
export function parseEnvelope(contentType: string | null, body: Uint8Array): Mm7Envelope {
  const ct = parseHeaderValue(contentType ?? "");
  let entities: MimePart[] = [];
  let entitiesOmitted = 0;
  const looksMultipart = ct.value.startsWith("multipart/") || (!ct.value.includes("xml") && /^\s*--\S/.test(binary(body.subarray(0, 200))));
  if (looksMultipart) {
    // The envelope and MAX_MM7_PARTS others at most.
    const split = splitMultipart(body, ct.params.boundary, MAX_MM7_PARTS + 1);
    entities = split.parts.map(parseEntity);
    entitiesOmitted = split.omitted;
  }
  // Not multipart (or no part found): the body is the envelope alone, a DeliverReq with no content.
  if (!entities.length) entities = [{ headers: new Map([["content-type", contentType ?? "text/xml"]]), body }];

  const start = stripId(ct.params.start);
  const xmlOf = (e: MimePart) => {
    const cs = parseHeaderValue(e.headers.get("content-type") ?? "").params.charset;
    const head = binary(e.body.subarray(0, 200));
    const declared = /^\s*<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']/i.exec(head)?.[1];
    return decodeCharset(e.body, cs ?? declared ?? null).replace(/^\uFEFF/, "");
  };
  // Only an envelope's worth of each part is looked at.
  const hasDeliverReq = (e: MimePart) => /<([\w.-]+:)?deliverreq[\s>/]/i.test(binary(e.body.subarray(0, MAX_MM7_XML_BYTES)));
  let envIndex = start ? entities.findIndex((e) => stripId(e.headers.get("content-id")) === start) : -1;
  if (envIndex < 0) envIndex = 0;
  if (!hasDeliverReq(entities[envIndex]!)) {
    // The start (or first) part is not the envelope: the first part that holds a DeliverReq.
    const other = entities.findIndex((e, i) => i !== envIndex && hasDeliverReq(e));
    if (other >= 0) envIndex = other;
  }
  const envBytes = entities[envIndex]!.body;
  if (envBytes.length > MAX_MM7_XML_BYTES) throw new Mm7Error(2007, `the SOAP envelope is over MAX_MM7_XML_BYTES (${MAX_MM7_XML_BYTES} bytes)`, {}, 413);
  let doc: XmlEl;
  try {
    doc = parseXml(xmlOf(entities[envIndex]!));
  } catch (e) {
    if (e instanceof XmlLimitError) throw new Mm7Error(2007, `the SOAP envelope is ${e.message}`);
    if (e instanceof XmlSyntaxError) throw new Mm7Error(2007, `the SOAP envelope is ${e.message}`);
    throw e;
  }
  const txEl = findEl(findEl(doc, "Header") ?? doc, "TransactionID") ?? findEl(doc, "TransactionID");
  const transactionId = textOf(txEl).trim();
  const req = findEl(findEl(doc, "Body") ?? doc, "DeliverReq") ?? findEl(doc, "DeliverReq");
  // The DeliverReq's own namespace, else the TransactionID's, else any MM7-looking declaration.
  const declared = findAll(doc, () => true).flatMap((e) => Object.entries(e.attrs).filter(([k]) => k === "xmlns" || k.startsWith("xmlns:")).map(([, v]) => v));
  const namespace = [req && namespaceOf(req), txEl && namespaceOf(txEl), ...declared].find((v): v is string => !!v && isMm7Ns(v)) ?? DEFAULT_MM7_NS;
  const mm7Version = (textOf(req && childEl(req, "MM7Version")) || textOf(findEl(doc, "MM7Version"))).trim().slice(0, 20) || DEFAULT_MM7_VERSION;
  const seen = { transactionId, namespace, mm7Version };
  if (!req) throw new Mm7Error(2007, "no DeliverReq in the SOAP body", seen);

  const senderEl = childEl(req, "Sender") ?? childEl(req, "SenderAddress") ?? findEl(req, "Sender");
  const from = senderEl ? (addressesIn(senderEl)[0] ?? "") : "";
  if (!from) throw new Mm7Error(2007, "DeliverReq: no Sender address", seen);
  const recipientsEl = childEl(req, "Recipients") ?? req;
  const to = new Set<string>();
  for (const kind of ["To", "Recipient", "Cc", "Bcc"]) for (const e of findAll(recipientsEl, (x) => is(x, kind))) for (const a of addressesIn(e)) to.add(a);
  if (!to.size) throw new Mm7Error(2007, "DeliverReq: no recipient (Recipients/To)", seen);

  const field = (local: string) => {
    const v = textOf(childEl(req, local)).trim();
    return v || null;
  };
  const contentEl = childEl(req, "Content") ?? findEl(req, "Content");
  return {
    transactionId, mm7Version, namespace, from, to: [...to],
    subject: textOf(childEl(req, "Subject")).trim(),
    linkedId: field("LinkedID"), timeStamp: field("TimeStamp"), priority: field("Priority"),
    entities, envIndex, href: contentEl ? attr(contentEl, "href")?.trim() : undefined, entitiesOmitted,
  };
}

/** Decodes a DeliverReq's content, after the relay is authenticated: at most MAX_MM7_PARTS parts
 *  (the rest counted in `omitted`), ordered by the SMIL. */
export function parseContent(envelope: Mm7Envelope): Pick<Mm7DeliverReq, "parts" | "smil" | "smilIndex" | "order" | "omitted"> {
  const { entities, envIndex, href } = envelope;
  // The content: the part its href names (cid: or a location), else every part but the envelope.
  const others = entities.filter((_, i) => i !== envIndex);
  let contentIndex = -1;
  if (href) {
    const id = stripId(safeDecodeUri(href.replace(/^cid:/i, "")))?.toLowerCase();
    contentIndex = others.findIndex((e) => stripId(e.headers.get("content-id"))?.toLowerCase() === id);
    if (contentIndex < 0) contentIndex = others.findIndex((e) => e.headers.get("content-location")?.trim().toLowerCase() === href.toLowerCase());
  }
  const content = contentIndex >= 0 ? others[contentIndex]! : others[0];
  const contentIsMultipart = !!content && parseHeaderValue(content.headers.get("content-type") ?? "").value.startsWith("multipart/");
  const budget: PartBudget = { left: MAX_MM7_PARTS, omitted: 0 };
  // A relay that put the message's parts next to the envelope instead of in one multipart: all of
  // them (and those past the split's limit are not read).
  const single = contentIsMultipart || others.length <= 1;
  const parts: Mm7Part[] = [];
  if (single) {
    if (content) for (const p of leaves(content, budget)) parts.push(p);
  } else {
    budget.omitted += envelope.entitiesOmitted;
    for (const e of others) for (const p of leaves(e, budget)) parts.push(p);
  }

  const smilIndex = parts.findIndex((p) => isSmilType(p) && p.text !== undefined);
  const smil = smilIndex >= 0 ? parts[smilIndex]!.text : undefined;
  const order = smil ? smilOrder(smil, parts) : [];
  const shown = new Set(order);
  for (let i = 0; i < parts.length; i++) if (!shown.has(i)) order.push(i);
  return { parts, ...(smil !== undefined ? { smil, smilIndex } : {}), order, omitted: budget.omitted };
}

/** Parses a whole DeliverReq request: its envelope, then its content. */
export function parseDeliverReq(contentType: string | null, body: Uint8Array): Mm7DeliverReq {
  const envelope = parseEnvelope(contentType, body);
  const { entities: _e, envIndex: _i, href: _h, entitiesOmitted: _o, ...fields } = envelope;
  return { ...fields, ...parseContent(envelope) };
}

// ---------------------------------------------------------------------------------------------
// Answers

export const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);

const nsOrDefault = (ns: string) => (isMm7Ns(ns) ? ns : DEFAULT_MM7_NS);

function envelope(transactionId: string, ns: string, body: string): string {
  const header = transactionId
    ? `<env:Header><mm7:TransactionID xmlns:mm7="${escapeXml(ns)}" env:mustUnderstand="1">${escapeXml(transactionId)}</mm7:TransactionID></env:Header>`
    : "";
  return `<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="${SOAP_ENV}">${header}<env:Body>${body}</env:Body></env:Envelope>`;
}

const statusXml = (code: number, text: string, details?: string) =>
  `<Status><StatusCode>${code}</StatusCode><StatusText>${escapeXml(text)}</StatusText>${details ? `<Details>${escapeXml(details)}</Details>` : ""}</Status>`;

/** The VASP's answer to a DeliverReq: the TransactionID and MM7Version echoed, its Status. */
export function deliverRsp(transactionId: string, namespace: string, status: { code: number; text: string } = { code: 1000, text: "Success" }, mm7Version = DEFAULT_MM7_VERSION): string {
  const ns = nsOrDefault(namespace);
  return envelope(transactionId, ns, `<DeliverRsp xmlns="${escapeXml(ns)}"><MM7Version>${escapeXml(mm7Version)}</MM7Version>${statusXml(status.code, status.text)}</DeliverRsp>`);
}

/** A SOAP 1.1 Fault for a request the VASP refuses, its detail a VASPErrorRsp with the MM7 status
 *  code (StatusText the code's name in TS 23.140, Details the reason). env:Server for 3xxx codes
 *  (our side failed), env:Client otherwise. */
export function soapFault(transactionId: string, namespace: string, code: number, text: string, mm7Version = DEFAULT_MM7_VERSION): string {
  const ns = nsOrDefault(namespace);
  const name = (MM7_STATUS as Record<number, string>)[code] ?? (code >= 3000 && code < 4000 ? "Server error" : "Client error");
  const faultcode = code >= 3000 && code < 4000 ? "env:Server" : "env:Client";
  return envelope(
    transactionId,
    ns,
    `<env:Fault><faultcode>${faultcode}</faultcode><faultstring>${escapeXml(text)}</faultstring><detail><VASPErrorRsp xmlns="${escapeXml(ns)}"><MM7Version>${escapeXml(mm7Version)}</MM7Version>${statusXml(code, name, text)}</VASPErrorRsp></detail></env:Fault>`,
  );
}
