// multipart/form-data (RFC 7578), parsed here rather than by Request.formData() so that text
// fields are decoded strictly (bad UTF-8 is a 400, not replacement characters) and file bytes are
// kept as sent. Pure.
import { badRequest } from "../kernel/errors.ts";
import { decodeUtf8, type Entry } from "./entries.ts";

const CRLF = new Uint8Array([13, 10]);
const CRLFCRLF = new Uint8Array([13, 10, 13, 10]);
const MAX_PARTS = 200;
const MAX_HEADER_BYTES = 8 * 1024;

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0]!;
  for (let i = hay.indexOf(first, from); i !== -1 && i <= hay.length - needle.length; i = hay.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

/** The next delimiter: CRLF, `--boundary`, then `--` (the last) or the line's end. A match followed by
 *  anything else is content that merely starts like the boundary. */
function nextDelimiter(body: Uint8Array, delim: Uint8Array, from: number): number {
  for (let at = indexOf(body, delim, from); at !== -1; at = indexOf(body, delim, at + 1)) {
    let i = at + delim.length;
    if (body[i] === 45 && body[i + 1] === 45) return at;
    while (body[i] === 32 || body[i] === 9) i++; // transport padding
    if (body[i] === 13 && body[i + 1] === 10) return at;
  }
  return -1;
}

const malformed = (why: string) => badRequest("invalid_body", `the multipart body is malformed: ${why}`);

/** `name="a b"; filename=x.txt` → { name: "a b", filename: "x.txt" }. Browsers do not backslash-escape
 *  in quoted values (they percent-encode '"', CR and LF), so a backslash is literal (`C:\dir\f.txt`). */
function params(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of header.matchAll(/;\s*([a-z0-9*_-]+)\s*=\s*(?:"([^"]*)"|([^;]*))/gi)) out[m[1]!.toLowerCase()] = m[2] ?? m[3]!.trim();
  return out;
}

export function boundaryOf(contentType: string): string {
  const b = params(contentType).boundary;
  if (!b || b.length > 200) throw malformed("no boundary in Content-Type");
  return b;
}

export function parseMultipart(body: Uint8Array, boundary: string): Entry[] {
  const enc = new TextEncoder();
  const dash = enc.encode(`--${boundary}`);
  const delim = enc.encode(`\r\n--${boundary}`);
  let at = indexOf(body, dash, 0);
  if (at !== 0) {
    // A preamble is allowed before the first delimiter, which then follows a CRLF.
    at = nextDelimiter(body, delim, 0);
    if (at === -1) throw malformed("no opening boundary");
    at += 2;
  }
  const out: Entry[] = [];
  for (;;) {
    at += dash.length;
    if (body[at] === 45 && body[at + 1] === 45) return out; // "--": the closing delimiter
    const lineEnd = indexOf(body, CRLF, at);
    if (lineEnd === -1) throw malformed("a boundary line does not end");
    // Headers run to the first empty line (CRLF CRLF); with no headers that is right after the boundary line.
    const headEnd = indexOf(body, CRLFCRLF, lineEnd);
    if (headEnd === -1 || headEnd - lineEnd > MAX_HEADER_BYTES) throw malformed("a part's headers do not end");
    const contentStart = headEnd + 4;
    const next = nextDelimiter(body, delim, contentStart);
    if (next === -1) throw malformed("no closing boundary");
    const headers = decodeUtf8(body.subarray(lineEnd + 2, Math.max(lineEnd + 2, headEnd)), "a part's headers").split("\r\n");
    const header = (name: string) => headers.find((h) => h.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim();
    const disposition = header("content-disposition");
    if (!disposition || !/^form-data\b/i.test(disposition)) throw malformed("a part without Content-Disposition: form-data");
    const p = params(disposition);
    if (p.name === undefined) throw malformed("a part without a name");
    const content = body.subarray(contentStart, next);
    if (p.filename !== undefined) {
      // Browsers send an empty, unnamed part for a file input left empty; old ones sent the full local path.
      if (p.filename !== "" || content.length > 0)
        out.push({ name: p.name, file: { filename: p.filename.split(/[\\/]/).pop() || "file", contentType: (header("content-type") ?? "application/octet-stream").toLowerCase(), bytes: content } });
    } else out.push({ name: p.name, value: decodeUtf8(content, `fields.${p.name}`) });
    if (out.length > MAX_PARTS) throw badRequest("invalid_body", `more than ${MAX_PARTS} fields`);
    at = next + 2;
  }
}
