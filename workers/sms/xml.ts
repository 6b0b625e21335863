// XML as MMS relays send it (the MM7 SOAP envelope, SMIL), read by a small lenient tokenizer within
// limits. Pure: no bindings.
//
// Relays are sloppy, so reading is lenient: elements are matched by local name (any prefix, declared
// or not, any case), CDATA and entities are text, a close tag closes the innermost open element
// whatever its name, tags left open are closed at the end, attributes may be unquoted or have no
// value. The XML declaration, processing instructions, comments and DOCTYPEs are skipped; the
// predefined entities, character references and a few common HTML ones are decoded, any other
// entity is left as written (nothing is ever expanded, so no "billion laughs"). Hostile input is
// bounded: a size limit, a linear pre-scan that refuses too many elements or too deep a nesting
// before the tokenizer runs, and the tokenizer's own limits behind it. The tokenizer is linear too:
// every search either finds its end and moves past it or throws. Every walk below is over at most
// MAX_MM7_XML_ELEMENTS elements, recursing at most MAX_MM7_XML_DEPTH deep.

/** The largest XML document read (a DeliverReq envelope or a SMIL is a few KB). Bytes; characters for a string. */
export const MAX_MM7_XML_BYTES = 64 * 1024;
/** The deepest element nesting read (a DeliverReq is 6 deep, a SMIL 5). */
export const MAX_MM7_XML_DEPTH = 32;
/** The most elements read in one document. */
export const MAX_MM7_XML_ELEMENTS = 2_000;

/** A document over one of the limits above; the message names the constant and its value. */
export class XmlLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "XmlLimitError";
  }
}

/** Not XML even read leniently. */
export class XmlSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "XmlSyntaxError";
  }
}

export interface XmlEl {
  /** Local name, without the prefix. */
  name: string;
  prefix: string;
  /** As written (qualified names); no prototype, so "__proto__" is just a name. */
  attrs: Record<string, string>;
  children: (XmlEl | string)[];
  parent: XmlEl | null;
}

const tooDeep = () => new XmlLimitError(`XML nested deeper than MAX_MM7_XML_DEPTH (${MAX_MM7_XML_DEPTH})`);
const tooMany = () => new XmlLimitError(`over MAX_MM7_XML_ELEMENTS (${MAX_MM7_XML_ELEMENTS}) XML elements`);
/** What may follow "<" to start an element (ASCII letters, "_", ":"): preScan and the tokenizer agree. */
const startsName = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 58;

/** Counts start tags and their nesting in one pass, refusing as soon as a limit is passed. It over-
 *  counts rather than under-counts (a `<x>` inside a comment or CDATA counts), which only makes it
 *  stricter. Each step moves past the next `>`, so it is linear in the input. */
function preScan(src: string): void {
  let depth = 0;
  let elements = 0;
  for (let lt = src.indexOf("<"); lt >= 0; ) {
    const gt = src.indexOf(">", lt + 1);
    if (gt < 0) break;
    const c = src.charCodeAt(lt + 1);
    if (c === 47 /* / */) depth = depth > 0 ? depth - 1 : 0;
    else if (startsName(c)) {
      if (++elements > MAX_MM7_XML_ELEMENTS) throw tooMany();
      if (src.charCodeAt(gt - 1) !== 47 && ++depth > MAX_MM7_XML_DEPTH) throw tooDeep();
    }
    lt = src.indexOf("<", gt + 1);
  }
}

/** The named entities decoded: XML's five and the HTML ones fast-xml-parser's htmlEntities knew. */
const ENTITIES = new Map(
  Object.entries({
    lt: "<", gt: ">", amp: "&", quot: '"', apos: "'",
    nbsp: "\u00a0", copy: "©", reg: "®", trade: "™", mdash: "—", ndash: "–", hellip: "…", laquo: "«", raquo: "»",
    lsquo: "‘", rsquo: "’", ldquo: "“", rdquo: "”", bull: "•", para: "¶", sect: "§", deg: "°", frac12: "½", frac14: "¼", frac34: "¾",
    cent: "¢", pound: "£", curren: "¤", yen: "¥", euro: "€", dollar: "$", fnof: "ƒ", inr: "₹", af: "؋", birr: "ብር", peso: "₱", rub: "₽", won: "₩", yuan: "¥", cedil: "¸",
  }),
);
/** A character XML allows (its Char production); a reference to any other is U+FFFD. */
const xmlChar = (c: number) => c === 9 || c === 10 || c === 13 || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
const REFERENCE = /&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);/g;

/** Text or an attribute value with its references decoded; one pass, nothing decoded is read again. */
function decode(s: string): string {
  if (!s.includes("&")) return s;
  return s.replace(REFERENCE, (ref, body: string) => {
    if (body[0] !== "#") return ENTITIES.get(body) ?? ref;
    const hex = body[1] === "x" || body[1] === "X";
    const c = Number.parseInt(body.slice(hex ? 2 : 1), hex ? 16 : 10);
    return String.fromCodePoint(xmlChar(c) ? c : 0xfffd);
  });
}

// Sticky runs, each matching at least the empty string (so `lastIndex` is always where it stopped).
const SPACE = /\s*/y;
const TAG_NAME = /[^\s/>]*/y;
const ATTR_NAME = /[^\s=/>]*/y;
/** An unquoted attribute value: up to a space or ">", leaving a "/" just before ">" to close the tag. */
const UNQUOTED = /[^\s>]*?(?=\/?>|\s|$)/y;
const SUBSET_TEXT = /[^\]"'<]*/y;

const element = (qname: string, parent: XmlEl | null): XmlEl => {
  const colon = qname.indexOf(":");
  const attrs = Object.create(null) as Record<string, string>;
  return { name: qname.slice(colon + 1), prefix: colon >= 0 ? qname.slice(0, colon) : "", attrs, children: [], parent };
};

/** Reads an XML document. Throws XmlLimitError over a limit, XmlSyntaxError when it can't be read. */
export function parseXml(src: string): XmlEl {
  if (src.length > MAX_MM7_XML_BYTES) throw new XmlLimitError(`XML over MAX_MM7_XML_BYTES (${MAX_MM7_XML_BYTES} bytes)`);
  preScan(src);
  const syntax = (what: string, at: number) => new XmlSyntaxError(`not XML: ${what} at offset ${at}`);
  /** Past the next `close` from `from`, or throws: so every search either advances or ends the read. */
  const past = (close: string, from: number, what: string, at: number) => {
    const k = src.indexOf(close, from);
    if (k < 0) throw syntax(what, at);
    return k + close.length;
  };
  const run = (re: RegExp, from: number) => {
    re.lastIndex = from;
    re.test(src);
    return re.lastIndex;
  };
  /** Past a DOCTYPE's internal subset (from after its "["): the first "]" then ">" outside the quoted
   *  values, comments and processing instructions, which may hold either. */
  const pastSubset = (from: number, at: number) => {
    for (let k = from; ; ) {
      k = run(SUBSET_TEXT, k);
      const c = src[k];
      if (c === undefined) throw syntax("an unterminated DOCTYPE", at);
      if (c === "]") {
        const gt = run(SPACE, k + 1);
        if (src[gt] === ">") return gt + 1;
        k++;
      } else if (c === "<") {
        if (src.startsWith("<!--", k)) k = past("-->", k + 4, "an unterminated comment", k);
        else if (src.startsWith("<?", k)) k = past("?>", k + 2, "an unterminated processing instruction", k);
        else k++;
      } else k = past(c, k + 1, "an unterminated quoted value", k);
    }
  };
  const root = element("#document", null);
  let open = root;
  let depth = 0;
  let elements = 0;
  const text = (s: string) => {
    if (s) open.children.push(s);
  };

  for (let i = 0; i < src.length; ) {
    const lt = src.indexOf("<", i);
    text(decode(src.slice(i, lt < 0 ? src.length : lt)));
    if (lt < 0) break;
    if (src.startsWith("<!--", lt)) i = past("-->", lt + 4, "an unterminated comment", lt);
    else if (src.startsWith("<![CDATA[", lt)) {
      i = past("]]>", lt + 9, "an unterminated CDATA section", lt);
      text(src.slice(lt + 9, i - 3));
    } else if (src.startsWith("<?", lt)) i = past("?>", lt + 2, "an unterminated processing instruction", lt);
    else if (src.startsWith("<!", lt)) {
      // A DOCTYPE (or another declaration), with its internal subset if it has one.
      i = past(">", lt + 2, "an unterminated declaration", lt);
      const bracket = src.slice(lt, i).indexOf("[");
      if (bracket >= 0) i = pastSubset(lt + bracket + 1, lt);
    } else if (src.startsWith("</", lt)) {
      i = past(">", lt + 2, "an unterminated close tag", lt);
      if (open.parent) {
        open = open.parent;
        depth--;
      }
    } else {
      if (!startsName(src.charCodeAt(lt + 1))) throw syntax(`"<" not starting a tag`, lt);
      let j = run(TAG_NAME, lt + 1);
      const el = element(src.slice(lt + 1, j), open);
      let selfClosing = false;
      for (;;) {
        j = run(SPACE, j);
        const c = src.charCodeAt(j);
        if (j >= src.length) throw syntax("a tag never closed", lt);
        if (c === 62 /* > */) break;
        if (c === 47 /* / */) {
          // "/>" ends an empty element; any other "/" is a stray, skipped.
          selfClosing = src.charCodeAt(++j) === 62;
          if (selfClosing) break;
          continue;
        }
        const nameEnd = run(ATTR_NAME, j);
        if (nameEnd === j) {
          j++; // a stray "=": skipped
          continue;
        }
        const name = src.slice(j, nameEnd);
        j = run(SPACE, nameEnd);
        let value = "";
        if (src.charCodeAt(j) === 61 /* = */) {
          j = run(SPACE, j + 1);
          const q = src[j];
          if (q === '"' || q === "'") {
            const end = past(q, j + 1, "an unterminated attribute value", j) - 1;
            value = decode(src.slice(j + 1, end));
            j = end + 1;
          } else {
            const end = run(UNQUOTED, j);
            value = decode(src.slice(j, end));
            j = end;
          }
        }
        el.attrs[name] = value; // a repeated name: the last one
      }
      i = j + 1;
      // Backstops behind preScan, which counts every element made here.
      if (++elements > MAX_MM7_XML_ELEMENTS) throw tooMany();
      open.children.push(el);
      if (!selfClosing) {
        if (++depth > MAX_MM7_XML_DEPTH) throw tooDeep();
        open = el;
      }
    }
  }
  return root;
}

export const is = (el: XmlEl, local: string) => el.name.toLowerCase() === local.toLowerCase();
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

export function findAll(el: XmlEl, test: (e: XmlEl) => boolean, out: XmlEl[] = []): XmlEl[] {
  if (test(el)) out.push(el);
  for (const c of childEls(el)) findAll(c, test, out);
  return out;
}

export const childEl = (el: XmlEl | null, local: string) => (el ? (childEls(el).find((c) => is(c, local)) ?? null) : null);

export function textOf(el: XmlEl | null): string {
  if (!el) return "";
  return el.children.map((c) => (typeof c === "string" ? c : textOf(c))).join("");
}

/** An attribute by its local name, whatever its prefix. */
export const attr = (el: XmlEl, local: string): string | undefined => {
  for (const [k, v] of Object.entries(el.attrs)) if (k.slice(k.indexOf(":") + 1).toLowerCase() === local.toLowerCase()) return v;
  return undefined;
};

/** The namespace URI of an element's prefix, declared on it or an ancestor. */
export function namespaceOf(el: XmlEl): string | undefined {
  const key = el.prefix ? `xmlns:${el.prefix}` : "xmlns";
  for (let e: XmlEl | null = el; e; e = e.parent) if (e.attrs[key] !== undefined) return e.attrs[key];
  return undefined;
}
