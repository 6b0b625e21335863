// HTML from customers' mail, made safe to show in the agent desktop. Runs on the runtime's HTMLRewriter
// (a streaming tokenizer, no DOM), so it works by allow-lists on what the tokenizer reports:
// - elements: known formatting tags stay; dangerous ones go with their content; any other tag goes, its text stays;
// - attributes: an allow-list, URLs restricted to http, https, mailto, tel and cid, risky CSS removed;
// - text: every "<" and ">" is re-escaped, so text left beside a removed tag can never join into new markup
//   ("<<x>script>" must not become "<script>"); this also covers raw text the tokenizer saw differently.

import { badRequest } from "../kernel/errors.ts";
import { prepareHtml } from "./html-scan.ts";

const ALLOWED_TAGS = new Set([
  "a", "abbr", "acronym", "address", "article", "aside", "b", "bdi", "bdo", "big", "blockquote", "br", "caption",
  "center", "cite", "code", "col", "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption",
  "figure", "font", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "i", "img", "ins", "kbd", "li",
  "main", "mark", "nav", "ol", "p", "pre", "q", "s", "samp", "section", "small", "span", "strike", "strong", "sub",
  "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "tt", "u", "ul", "var", "wbr",
]);

// Removed with everything inside: active content, forms, document-level tags, and every element whose content
// the HTML parser reads as raw text (script, style, xmp, noembed, noframes, plaintext, iframe, textarea, title).
const DROPPED_TAGS = new Set([
  "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "noscript", "template", "svg", "math",
  "form", "input", "button", "select", "textarea", "meta", "link", "base", "title", "head", "xmp", "noembed",
  "noframes", "plaintext", "param", "portal", "fencedframe", "option", "optgroup", "datalist", "keygen", "isindex",
]);

const ALLOWED_ATTRS = new Set([
  "alt", "title", "width", "height", "align", "valign", "colspan", "rowspan", "border", "cellpadding", "cellspacing",
  "bgcolor", "color", "face", "size", "style", "dir", "lang", "start", "span", "nowrap", "scope",
]);
// No "class" or "id": the mail's stylesheet is gone, and our page's classes or ids must not be borrowed by it.

const URL_ATTRS: Record<string, string> = { a: "href", img: "src" };
const SAFE_SCHEME = /^(?:https?|mailto|tel):/i;
const CID = /^cid:/i;
const BAD_CSS = ["expression(", "url(", "@import", "behavior", "javascript:", "-moz-binding", "image-set("];

const NAMED: Record<string, string> = {
  amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0", colon: ":", tab: "\t", newline: "\n",
  sol: "/", bsol: "\\", lpar: "(", rpar: ")", period: ".", comma: ",", excl: "!", num: "#", percnt: "%",
  plus: "+", equals: "=", quest: "?", commat: "@", lsqb: "[", rsqb: "]", lowbar: "_", semi: ";", hyphen: "-",
};

/** Decodes character references the way a browser does in attribute values (numeric ones with or without ";").
 *  Unknown names are left as they are, so they fail the scheme allow-list rather than slip through it. */
function decodeEntities(s: string): string {
  return s.replace(/&(?:#x([0-9a-f]+);?|#(\d+);?|([a-z][a-z0-9]*);)/gi, (m, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
    if (name !== undefined) return NAMED[name.toLowerCase()] ?? m;
    const cp = hex !== undefined ? parseInt(hex, 16) : Number(dec);
    return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : "\ufffd";
  });
}

// "<" and ">" need no escaping inside a quoted value, but escaping them keeps markup out of the output entirely.
const escapeAttr = (s: string) => s.replace(/[&"<>]/g, (c) => ({ "&": "&amp;", '"': "&quot;", "<": "&lt;", ">": "&gt;" })[c]!);

/** The URL as a browser reads it: entities decoded, tabs and newlines dropped anywhere, controls and spaces
 *  trimmed at both ends ("java\nscript:" is javascript:). */
function browserUrl(raw: string): string {
  return decodeEntities(raw).replace(/[\t\n\r]/g, "").replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, "");
}

/** True if an inline style can run script, load a resource or bind behaviour, after undoing the encodings
 *  CSS allows (comments, backslash escapes) and HTML allows (entities). */
function riskyStyle(raw: string): boolean {
  const css = decodeEntities(raw)
    .replace(/\/\*[\s\S]*?(?:\*\/|$)/g, "")
    .replace(/\\([0-9a-f]{1,6})[ \t\n\r\f]?|\\([\s\S])/gi, (_m, hex: string | undefined, ch: string | undefined) =>
      hex !== undefined ? String.fromCodePoint(Math.min(parseInt(hex, 16), 0x10ffff) || 0xfffd) : ch ?? "",
    )
    .replace(/[\s\x00]+/g, "")
    .toLowerCase();
  return BAD_CSS.some((b) => css.includes(b));
}

/** Safe HTML for display. Throws a 400 `html_too_complex` for HTML past MAX_HTML_OPEN_ELEMENTS or
 *  MAX_HTML_ELEMENTS (checked by a linear scan first: HTMLRewriter slows down with deep nesting and stops
 *  at its memory limit), and for any failure of HTMLRewriter itself. */
export async function sanitizeHtml(html: string, opts?: { cid?: (contentId: string) => string | null }): Promise<string> {
  const prepared = prepareHtml(html);
  if (prepared.tooComplex) throw badRequest("html_too_complex", `html: ${prepared.tooComplex}; send simpler HTML or plain text`);
  try {
    return await rewrite(prepared.html, opts);
  } catch (err) {
    throw badRequest("html_too_complex", `html: the sanitizer could not read it (${String(err instanceof Error ? err.message : err).slice(0, 200)})`);
  }
}

function rewrite(html: string, opts?: { cid?: (contentId: string) => string | null }): Promise<string> {
  const rewriter = new HTMLRewriter()
    .on("*", {
      element(el) {
        const tag = el.tagName.toLowerCase();
        if (DROPPED_TAGS.has(tag)) {
          el.remove();
          return;
        }
        if (!ALLOWED_TAGS.has(tag)) {
          el.removeAndKeepContent();
          return;
        }
        const urlAttr = URL_ATTRS[tag];
        for (const [rawName, value] of [...el.attributes]) {
          if (rawName === undefined || value === undefined) continue;
          const name = rawName.toLowerCase();
          if (name === urlAttr) {
            const url = browserUrl(value);
            if (SAFE_SCHEME.test(url)) el.setAttribute(rawName, escapeAttr(url));
            else if (CID.test(url) && opts?.cid) {
              let id: string;
              try {
                id = decodeURIComponent(url.slice(4));
              } catch {
                id = url.slice(4);
              }
              const to = opts.cid(id);
              if (to === null) el.removeAttribute(rawName);
              else el.setAttribute(rawName, escapeAttr(to));
            } else if (CID.test(url)) el.setAttribute(rawName, escapeAttr(url));
            else el.removeAttribute(rawName);
          } else if (!ALLOWED_ATTRS.has(name) || (name === "style" && riskyStyle(value))) {
            el.removeAttribute(rawName);
          }
        }
        if (tag === "a" && el.hasAttribute("href")) {
          el.setAttribute("target", "_blank");
          el.setAttribute("rel", "noopener noreferrer nofollow");
        }
      },
    })
    .onDocument({
      comments(c) {
        c.remove();
      },
      text(t) {
        if (/[<>]/.test(t.text)) t.replace(t.text.replace(/</g, "&lt;").replace(/>/g, "&gt;"), { html: true });
      },
    });
  // HTMLRewriter cannot remove a doctype: prepareHtml has.
  return rewriter.transform(new Response(html)).text();
}
