// A single-pass HTML tokenizer for what Parley needs before or instead of HTMLRewriter: the text of a
// mail's HTML, and whether HTML is too deep or too large for the sanitizer. Linear in the input: each
// search for a closing "-->", ">" or "</style" is made once, and remembered when it finds nothing, so an
// unclosed construct repeated 60,000 times costs one scan, not 60,000. Pure.
import { MAX_HTML_ELEMENTS, MAX_HTML_OPEN_ELEMENTS, MAX_HTML_TO_TEXT_CHARS } from "./limits.ts";

/** Elements whose content is not text to show (skipped with what they contain, up to their end tag). */
const NOT_SHOWN: Skip = { names: new Set(["script", "style", "head"]), unclosedRunsToEnd: false };
/** Elements whose content an HTML parser reads as raw text, up to their end tag or the end of the input. */
const RAW_TEXT: Skip = { names: new Set(["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript", "plaintext"]), unclosedRunsToEnd: true };
/** Elements without content: never open. */
const VOID = new Set(["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr", "keygen", "isindex"]);
/** End tags (and br) after which text starts a new line. */
const BREAKS = new Set(["p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"]);

interface Skip {
  names: ReadonlySet<string>;
  /** Without an end tag: true, the rest of the input is their content; false, the tags after them count. */
  unclosedRunsToEnd: boolean;
}

/** `raw` is the tag as written, "<" to ">". Text may hold "<" that start no tag (stray ones). */
type Token = { kind: "text"; text: string } | { kind: "start"; name: string; selfClosing: boolean; raw: string } | { kind: "end"; name: string; raw: string };

const isNameStart = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
const isNameChar = (c: number) => isNameStart(c) || (c >= 48 && c <= 57) || c === 45 || c === 58 || c === 95;

/** indexOf that remembers a miss: after one search finds nothing from position p, none from a later position can. */
function finder(s: string) {
  const misses = new Map<string, number>();
  const hits = new Map<string, number>();
  return (needle: string, from: number): number => {
    const miss = misses.get(needle);
    if (miss !== undefined && from >= miss) return -1;
    const hit = hits.get(needle);
    if (hit !== undefined && hit >= from) return hit;
    const at = s.indexOf(needle, from);
    if (at < 0) misses.set(needle, from);
    else hits.set(needle, at);
    return at;
  };
}

/** Calls `on` for each text run, start tag and end tag of `html`, in order, skipping the content of the
 *  elements `skip` names. Stops early when `on` returns false. */
export function scanHtml(html: string, on: (t: Token) => boolean | void, skip: Skip = NOT_SHOWN): void {
  const lower = html.toLowerCase();
  const find = finder(lower);
  let i = 0;
  let text = 0;
  const flush = (end: number) => {
    if (end > text) return on({ kind: "text", text: html.slice(text, end) }) !== false;
    return true;
  };
  while (i < html.length) {
    const lt = find("<", i);
    if (lt < 0) break;
    const next = html.charCodeAt(lt + 1);
    if (html.startsWith("!--", lt + 1)) {
      if (!flush(lt)) return;
      const close = find("-->", lt + 4);
      i = text = close < 0 ? html.length : close + 3;
      continue;
    }
    const end = next === 47; // "</"
    const nameAt = end ? lt + 2 : lt + 1;
    if (!isNameStart(html.charCodeAt(nameAt)) && !(next === 33 || next === 63)) {
      i = lt + 1; // a "<" that starts no tag is text
      continue;
    }
    const gt = find(">", nameAt);
    if (!flush(lt)) return;
    if (gt < 0) {
      // An unterminated tag runs to the end of the input, as in a browser.
      i = text = html.length;
      break;
    }
    i = text = gt + 1;
    if (next === 33 || next === 63) continue; // <!doctype>, <?xml?>: neither text nor an element
    let n = nameAt;
    while (n < gt && isNameChar(html.charCodeAt(n))) n++;
    const name = lower.slice(nameAt, n);
    if (end) {
      if (on({ kind: "end", name, raw: html.slice(lt, gt + 1) }) === false) return;
      continue;
    }
    if (on({ kind: "start", name, selfClosing: html.charCodeAt(gt - 1) === 47, raw: html.slice(lt, gt + 1) }) === false) return;
    if (skip.names.has(name) && !(html.charCodeAt(gt - 1) === 47 && !skip.unclosedRunsToEnd)) {
      const close = name === "plaintext" ? -1 : find(`</${name}`, gt + 1);
      if (close >= 0) {
        const closeGt = find(">", close);
        i = text = closeGt < 0 ? html.length : closeGt + 1;
      } else if (skip.unclosedRunsToEnd) {
        i = text = html.length;
      }
    }
  }
  flush(html.length);
}

/** Plain text from HTML, for search and quoting when a message has no text part. Reads at most
 *  MAX_HTML_TO_TEXT_CHARS characters (the whole HTML stays in the message). */
export function htmlToText(html: string): string {
  const out: string[] = [];
  scanHtml(html.length > MAX_HTML_TO_TEXT_CHARS ? html.slice(0, MAX_HTML_TO_TEXT_CHARS) : html, (t) => {
    if (t.kind === "text") out.push(t.text);
    else if ((t.kind === "end" && BREAKS.has(t.name)) || (t.kind === "start" && t.name === "br")) out.push("\n");
    else out.push(" ");
  });
  return decodeBasicEntities(out.join(""))
    .split("\n")
    .map((line) => line.replace(/[ \t]+/g, " ").trim())
    .filter((line) => line !== "")
    .join("\n");
}

const ENTITIES: Record<string, string> = { nbsp: " ", lt: "<", gt: ">", quot: '"', "#39": "'", apos: "'", amp: "&" };
const decodeBasicEntities = (s: string) => s.replace(/&(nbsp|lt|gt|quot|#39|apos|amp);/gi, (_m, e: string) => ENTITIES[e.toLowerCase()]!);

export interface PreparedHtml {
  /** The HTML without comments, doctype, raw-text elements (script, style, textarea, ...: the sanitizer drops
   *  them with their content anyway) and with stray "<" written as "&lt;". */
  html: string;
  elements: number;
  /** The most elements open at once (an end tag closes the nearest open element of its name, as far as the
   *  count goes: unclosed <p>s add up). */
  maxOpen: number;
  /** Why the HTML is too much for the sanitizer, or null. */
  tooComplex: string | null;
}

/** Makes HTML cheap for HTMLRewriter, in one linear pass, and measures it. HTMLRewriter spends seconds on
 *  some shapes of input (a text handler call per stray "<", raw text full of "<", deep nesting) and stops at
 *  its memory limit on others; what it would drop anyway is dropped here first, and what is too deep or too
 *  large is refused before it starts. The sanitizer still runs on the result, so nothing here has to be exact. */
export function prepareHtml(html: string): PreparedHtml {
  const out: string[] = [];
  const open = new Map<string, number>();
  let depth = 0;
  let elements = 0;
  let maxOpen = 0;
  scanHtml(html, (t) => {
    if (t.kind === "text") {
      out.push(t.text.replaceAll("<", "&lt;"));
    } else if (t.kind === "start") {
      if (RAW_TEXT.names.has(t.name)) return true;
      out.push(t.raw);
      elements++;
      if (!t.selfClosing && !VOID.has(t.name)) {
        open.set(t.name, (open.get(t.name) ?? 0) + 1);
        depth++;
        if (depth > maxOpen) maxOpen = depth;
      }
    } else {
      out.push(t.raw);
      const n = open.get(t.name) ?? 0;
      if (n > 0) {
        open.set(t.name, n - 1);
        depth--;
      }
    }
    return elements <= MAX_HTML_ELEMENTS && maxOpen <= MAX_HTML_OPEN_ELEMENTS;
  }, RAW_TEXT);
  const tooComplex =
    maxOpen > MAX_HTML_OPEN_ELEMENTS ? `the HTML nests more than ${MAX_HTML_OPEN_ELEMENTS} unclosed elements`
    : elements > MAX_HTML_ELEMENTS ? `the HTML has more than ${MAX_HTML_ELEMENTS} elements`
    : null;
  return { html: out.join(""), elements, maxOpen, tooComplex };
}
