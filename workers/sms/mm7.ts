// MM7 (3GPP TS 23.140) DeliverReq, as a VASP receives it from an MMS relay: a SOAP 1.1 envelope and
// the message's content in one multipart/related body. Pure: no bindings.
//
// Relays send sloppy XML and MIME, so everything here is lenient on purpose: elements are matched by
// local name (any prefix, declared or not, any case), namespace URIs are whatever REL-5/REL-6
// variant comes, CDATA and entities are text, tags left open are closed at the end, a missing
// boundary is found in the body, a missing `start` means the first part, transfer encodings and
// charsets are decoded as best they can be. A message fails ("can't be understood") only when it
// has no DeliverReq, no sender or no recipient.

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
}

/** A DeliverReq that can't be understood; `code` is the MM7 status code for the fault. What could
 *  be read (the TransactionID, the namespace) is kept so the fault can echo it. */
export class Mm7Error extends Error {
  readonly code: number;
  readonly transactionId: string;
  readonly namespace: string;
  readonly mm7Version: string;
  constructor(code: number, message: string, seen: { transactionId?: string; namespace?: string; mm7Version?: string } = {}) {
    super(message);
    this.name = "Mm7Error";
    this.code = code;
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
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return s;
}

function fromBinary(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
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

function base64Bytes(s: string): Uint8Array {
  let clean = s.replace(/-/g, "+").replace(/_/g, "/").replace(/[^A-Za-z0-9+/]/g, "");
  if (clean.length % 4 === 1) clean = clean.slice(0, -1);
  clean += "=".repeat((4 - (clean.length % 4)) % 4);
  try {
    return fromBinary(atob(clean));
  } catch {
    return new Uint8Array(0);
  }
}

function quotedPrintable(s: string): Uint8Array {
  return fromBinary(s.replace(/=[ \t]*\r?\n/g, "").replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16))));
}

function undoTransferEncoding(body: Uint8Array, cte: string | undefined): Uint8Array {
  const e = (cte ?? "").trim().toLowerCase();
  if (e === "base64") return base64Bytes(binary(body));
  if (e === "quoted-printable") return quotedPrintable(binary(body));
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

/** The parts of a multipart body. The declared boundary, else the one the body uses; a missing close
 *  delimiter ends the last part at the end of the body. */
export function splitMultipart(b: Uint8Array, declared: string | null | undefined): Uint8Array[] {
  const s = binary(b);
  const tryBoundary = (boundary: string): Uint8Array[] | null => {
    const delim = `--${boundary}`;
    const starts: { at: number; next: number; close: boolean }[] = [];
    for (let at = s.indexOf(delim); at >= 0; at = s.indexOf(delim, at + delim.length)) {
      if (at > 0 && s[at - 1] !== "\n") continue;
      const after = at + delim.length;
      const close = s.startsWith("--", after);
      const eol = s.indexOf("\n", after);
      const rest = s.slice(close ? after + 2 : after, eol < 0 ? s.length : eol);
      // Only transport padding may follow a delimiter: anything else means a longer boundary.
      if (rest.trim() !== "") continue;
      starts.push({ at, next: eol < 0 ? s.length : eol + 1, close });
      if (close) break;
    }
    if (!starts.length) return null;
    const parts: Uint8Array[] = [];
    for (let i = 0; i < starts.length; i++) {
      const d = starts[i]!;
      if (d.close) break;
      const nextAt = starts[i + 1]?.at ?? s.length;
      let end = nextAt;
      if (i + 1 < starts.length) {
        if (s[end - 1] === "\n") end--;
        if (s[end - 1] === "\r") end--;
      }
      parts.push(b.subarray(d.next, Math.max(d.next, end)));
    }
    return parts;
  };
  const fromDeclared = declared ? tryBoundary(declared.trim()) : null;
  if (fromDeclared?.length) return fromDeclared;
  const sniffed = sniffBoundary(s);
  return (sniffed && tryBoundary(sniffed)) || [];
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

/** The leaves of a MIME entity: nested multiparts flattened in order. */
function leaves(e: MimePart, depth = 0): Mm7Part[] {
  const ct = parseHeaderValue(e.headers.get("content-type") ?? "");
  if (ct.value.startsWith("multipart/") && depth < 4) return splitMultipart(e.body, ct.params.boundary).flatMap((b) => leaves(parseEntity(b), depth + 1));
  return [toPart(e)];
}

// ---------------------------------------------------------------------------------------------
// XML, leniently

export interface XmlEl {
  /** Local name, without the prefix. */
  name: string;
  prefix: string;
  /** As written (qualified names). */
  attrs: Record<string, string>;
  children: (XmlEl | string)[];
  parent: XmlEl | null;
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,8});/g, (m, e: string) => {
    if (e[0] === "#") {
      const n = e[1] === "x" || e[1] === "X" ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10);
      return n > 0 && n <= 0x10ffff && !(n >= 0xd800 && n <= 0xdfff) ? String.fromCodePoint(n) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

const ATTR = /([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g;

/** A forgiving XML reader: never throws. Unknown prefixes, unclosed or mismatched tags, stray `<`
 *  and `&`, DOCTYPEs and comments are all taken as well as they can be. */
export function parseXml(src: string): XmlEl {
  const root: XmlEl = { name: "#document", prefix: "", attrs: {}, children: [], parent: null };
  let cur = root;
  let i = 0;
  const text = (t: string) => {
    if (t) cur.children.push(t);
  };
  while (i < src.length) {
    const lt = src.indexOf("<", i);
    if (lt < 0) {
      text(decodeEntities(src.slice(i)));
      break;
    }
    if (lt > i) text(decodeEntities(src.slice(i, lt)));
    if (src.startsWith("<!--", lt)) {
      const e = src.indexOf("-->", lt + 4);
      i = e < 0 ? src.length : e + 3;
      continue;
    }
    if (src.startsWith("<![CDATA[", lt)) {
      const e = src.indexOf("]]>", lt + 9);
      text(src.slice(lt + 9, e < 0 ? src.length : e));
      i = e < 0 ? src.length : e + 3;
      continue;
    }
    if (src.startsWith("<?", lt)) {
      const e = src.indexOf("?>", lt + 2);
      i = e < 0 ? src.length : e + 2;
      continue;
    }
    if (src.startsWith("<!", lt)) {
      const gt = src.indexOf(">", lt);
      const bracket = src.indexOf("[", lt);
      const e = bracket >= 0 && (gt < 0 || bracket < gt) ? src.indexOf("]>", bracket) : gt - 1;
      i = e < 0 ? src.length : e + 2;
      continue;
    }
    if (src[lt + 1] === "/") {
      const gt = src.indexOf(">", lt);
      const qname = src.slice(lt + 2, gt < 0 ? src.length : gt).trim();
      i = gt < 0 ? src.length : gt + 1;
      const local = qname.slice(qname.indexOf(":") + 1).toLowerCase();
      // Close the nearest open element of that name (and what is left open inside it); a close tag
      // with no open element of its name is ignored.
      for (let e: XmlEl | null = cur; e && e !== root; e = e.parent)
        if (e.name.toLowerCase() === local) {
          cur = e.parent!;
          break;
        }
      continue;
    }
    if (!/[A-Za-z_:]/.test(src[lt + 1] ?? "")) {
      // A stray "<" in text.
      text("<");
      i = lt + 1;
      continue;
    }
    // A start tag: find its end outside quotes.
    let j = lt + 1;
    let q: string | null = null;
    for (; j < src.length; j++) {
      const c = src[j]!;
      if (q) {
        if (c === q) q = null;
      } else if (c === '"' || c === "'") q = c;
      else if (c === ">") break;
    }
    const inner = src.slice(lt + 1, j);
    i = j + 1;
    const selfClosing = inner.endsWith("/");
    const m = /^[^\s/>]+/.exec(inner)!;
    const qname = m[0];
    const colon = qname.indexOf(":");
    const el: XmlEl = { name: colon >= 0 ? qname.slice(colon + 1) : qname, prefix: colon >= 0 ? qname.slice(0, colon) : "", attrs: {}, children: [], parent: cur };
    const rest = (selfClosing ? inner.slice(0, -1) : inner).slice(qname.length);
    for (const a of rest.matchAll(ATTR)) el.attrs[a[1]!] = decodeEntities(a[2] ?? a[3] ?? a[4] ?? "");
    cur.children.push(el);
    if (!selfClosing) cur = el;
  }
  return root;
}

const is = (el: XmlEl, local: string) => el.name.toLowerCase() === local.toLowerCase();
const childEls = (el: XmlEl) => el.children.filter((c): c is XmlEl => typeof c !== "string");

/** The first element of this local name, depth first (the element itself included). */
export function findEl(el: XmlEl, local: string): XmlEl | null {
  if (is(el, local)) return el;
  for (const c of childEls(el)) {
    const f = findEl(c, local);
    if (f) return f;
  }
  return null;
}

function findAll(el: XmlEl, test: (e: XmlEl) => boolean, out: XmlEl[] = []): XmlEl[] {
  if (test(el)) out.push(el);
  for (const c of childEls(el)) findAll(c, test, out);
  return out;
}

const childEl = (el: XmlEl | null, local: string) => (el ? (childEls(el).find((c) => is(c, local)) ?? null) : null);

export function textOf(el: XmlEl | null): string {
  if (!el) return "";
  return el.children.map((c) => (typeof c === "string" ? c : textOf(c))).join("");
}

/** An attribute by its local name, whatever its prefix. */
const attr = (el: XmlEl, local: string): string | undefined => {
  for (const [k, v] of Object.entries(el.attrs)) if (k.slice(k.indexOf(":") + 1).toLowerCase() === local.toLowerCase()) return v;
  return undefined;
};

/** The namespace URI of an element's prefix, declared on it or an ancestor. */
function namespaceOf(el: XmlEl): string | undefined {
  const key = el.prefix ? `xmlns:${el.prefix}` : "xmlns";
  for (let e: XmlEl | null = el; e; e = e.parent) if (e.attrs[key] !== undefined) return e.attrs[key];
  return undefined;
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

function smilOrder(smil: string, parts: Mm7Part[]): number[] {
  const doc = parseXml(smil);
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

/** Parses a DeliverReq request: the HTTP Content-Type and the body. Throws Mm7Error when there is no
 *  DeliverReq, no sender or no recipient; anything else missing or malformed is taken leniently. */
export function parseDeliverReq(contentType: string | null, body: Uint8Array): Mm7DeliverReq {
  const ct = parseHeaderValue(contentType ?? "");
  let entities: MimePart[] = [];
  const looksMultipart = ct.value.startsWith("multipart/") || (!ct.value.includes("xml") && /^\s*--\S/.test(binary(body.subarray(0, 200))));
  if (looksMultipart) entities = splitMultipart(body, ct.params.boundary).map(parseEntity);
  // Not multipart (or no part found): the body is the envelope alone, a DeliverReq with no content.
  if (!entities.length) entities = [{ headers: new Map([["content-type", contentType ?? "text/xml"]]), body }];

  const start = stripId(ct.params.start);
  const xmlOf = (e: MimePart) => {
    const cs = parseHeaderValue(e.headers.get("content-type") ?? "").params.charset;
    const head = binary(e.body.subarray(0, 200));
    const declared = /^\s*<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']/i.exec(head)?.[1];
    return decodeCharset(e.body, cs ?? declared ?? null).replace(/^\uFEFF/, "");
  };
  const hasDeliverReq = (x: string) => /<([\w.-]+:)?deliverreq[\s>/]/i.test(x);
  let envIndex = start ? entities.findIndex((e) => stripId(e.headers.get("content-id")) === start) : -1;
  if (envIndex < 0) envIndex = 0;
  let xml = xmlOf(entities[envIndex]!);
  if (!hasDeliverReq(xml)) {
    // The start (or first) part is not the envelope: the first part that holds a DeliverReq.
    const other = entities.findIndex((e, i) => i !== envIndex && hasDeliverReq(binary(e.body.subarray(0, 64 * 1024))));
    if (other >= 0) (envIndex = other), (xml = xmlOf(entities[other]!));
  }

  const doc = parseXml(xml);
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
  const to: string[] = [];
  for (const kind of ["To", "Recipient", "Cc", "Bcc"])
    for (const e of findAll(recipientsEl, (x) => is(x, kind))) for (const a of addressesIn(e)) if (!to.includes(a)) to.push(a);
  if (!to.length) throw new Mm7Error(2007, "DeliverReq: no recipient (Recipients/To)", seen);

  const field = (local: string) => {
    const v = textOf(childEl(req, local)).trim();
    return v || null;
  };

  // The content: the part its href names (cid: or a location), else every part but the envelope.
  const contentEl = childEl(req, "Content") ?? findEl(req, "Content");
  const href = contentEl ? attr(contentEl, "href")?.trim() : undefined;
  const others = entities.filter((_, i) => i !== envIndex);
  let contentIndex = -1;
  if (href) {
    const id = stripId(safeDecodeUri(href.replace(/^cid:/i, "")))?.toLowerCase();
    contentIndex = others.findIndex((e) => stripId(e.headers.get("content-id"))?.toLowerCase() === id);
    if (contentIndex < 0) contentIndex = others.findIndex((e) => e.headers.get("content-location")?.trim().toLowerCase() === href.toLowerCase());
  }
  const content = contentIndex >= 0 ? others[contentIndex]! : others[0];
  const contentIsMultipart = !!content && parseHeaderValue(content.headers.get("content-type") ?? "").value.startsWith("multipart/");
  // A relay that put the message's parts next to the envelope instead of in one multipart: all of them.
  const parts = contentIsMultipart || others.length <= 1 ? (content ? leaves(content) : []) : others.flatMap((e) => leaves(e));

  const smilIndex = parts.findIndex((p) => isSmilType(p) && p.text !== undefined);
  const smil = smilIndex >= 0 ? parts[smilIndex]!.text : undefined;
  const order = smil ? smilOrder(smil, parts) : [];
  for (let i = 0; i < parts.length; i++) if (!order.includes(i)) order.push(i);

  return {
    transactionId, mm7Version, namespace, from, to,
    subject: textOf(childEl(req, "Subject")).trim(),
    linkedId: field("LinkedID"), timeStamp: field("TimeStamp"), priority: field("Priority"),
    parts, ...(smil !== undefined ? { smil, smilIndex } : {}), order,
  };
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
