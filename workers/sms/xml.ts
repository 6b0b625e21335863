// XML as MMS relays send it (the MM7 SOAP envelope, SMIL), read by fast-xml-parser within limits.
// Pure: no bindings.
//
// Relays are sloppy, so reading is lenient: elements are matched by local name (any prefix, declared
// or not, any case), CDATA and entities are text, a close tag closes the innermost open element
// whatever its name, tags left open are closed at the end. Hostile input is bounded: a size limit, a
// linear pre-scan that refuses too many elements or too deep a nesting before the parser runs, and
// the parser's own depth limit behind it. Every walk below is over at most MAX_MM7_XML_ELEMENTS
// elements, recursing at most MAX_MM7_XML_DEPTH deep.
import { XMLParser } from "fast-xml-parser";

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

/** Not XML even read leniently (the parser gave up). */
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
  /** As written (qualified names). */
  attrs: Record<string, string>;
  children: (XmlEl | string)[];
  parent: XmlEl | null;
}

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
    else if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 58) {
      if (++elements > MAX_MM7_XML_ELEMENTS) throw new XmlLimitError(`over MAX_MM7_XML_ELEMENTS (${MAX_MM7_XML_ELEMENTS}) XML elements`);
      if (src.charCodeAt(gt - 1) !== 47 && ++depth > MAX_MM7_XML_DEPTH) throw new XmlLimitError(`XML nested deeper than MAX_MM7_XML_DEPTH (${MAX_MM7_XML_DEPTH})`);
    }
    lt = src.indexOf("<", gt + 1);
  }
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  allowBooleanAttributes: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  htmlEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // A backstop behind preScan's count.
  maxNestedTags: MAX_MM7_XML_DEPTH + 1,
  // DOCTYPE entities (a SOAP message has none): bounded, so no "billion laughs".
  processEntities: { enabled: true, maxEntityCount: 32, maxEntitySize: 1024, maxExpansionDepth: 4, maxTotalExpansions: 1_000, maxExpandedLength: MAX_MM7_XML_BYTES },
});

/** fast-xml-parser's ordered output: `{ tag: children, ":@"?: attrs }` or `{ "#text": text }`. */
type Node = Record<string, unknown>;

function toEl(nodes: unknown, parent: XmlEl): void {
  if (!Array.isArray(nodes)) return;
  for (const node of nodes as Node[]) {
    for (const [key, value] of Object.entries(node)) {
      if (key === ":@") continue;
      if (key === "#text") {
        if (value !== undefined && value !== "") parent.children.push(String(value));
        continue;
      }
      const colon = key.indexOf(":");
      // No prototype: an attribute named "__proto__" is just a name.
      const attrs = Object.create(null) as Record<string, string>;
      const raw = node[":@"];
      if (raw && typeof raw === "object") for (const [k, v] of Object.entries(raw as Record<string, unknown>)) attrs[k] = v === true ? "" : String(v);
      const el: XmlEl = { name: colon >= 0 ? key.slice(colon + 1) : key, prefix: colon >= 0 ? key.slice(0, colon) : "", attrs, children: [], parent };
      parent.children.push(el);
      toEl(value, el);
    }
  }
}

/** Reads an XML document. Throws XmlLimitError over a limit, XmlSyntaxError when it can't be read. */
export function parseXml(src: string): XmlEl {
  if (src.length > MAX_MM7_XML_BYTES) throw new XmlLimitError(`XML over MAX_MM7_XML_BYTES (${MAX_MM7_XML_BYTES} bytes)`);
  preScan(src);
  let nodes: unknown;
  try {
    nodes = parser.parse(src);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    if (/nested/i.test(why)) throw new XmlLimitError(`XML nested deeper than MAX_MM7_XML_DEPTH (${MAX_MM7_XML_DEPTH})`);
    throw new XmlSyntaxError(`not XML: ${why.slice(0, 100)}`);
  }
  const root: XmlEl = { name: "#document", prefix: "", attrs: {}, children: [], parent: null };
  toEl(nodes, root);
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
