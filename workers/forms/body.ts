// Reads a form post (urlencoded, multipart or JSON) into entries, with a cap on its size. Pure but
// for reading the request's stream.
import { AppError, badRequest } from "../kernel/errors.ts";
import { decodeUtf8, type Entry } from "./entries.ts";
import { boundaryOf, parseMultipart } from "./multipart.ts";

export const MAX_FORM_BYTES = 25 * 1024 * 1024;
const MAX_FIELDS = 200;

export type BodyKind = "urlencoded" | "multipart" | "json";

/** The body's encoding from Content-Type: one of the three, in UTF-8, else 415. */
export function bodyKind(contentType: string | null): BodyKind {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  const kind: BodyKind | undefined = type === "application/x-www-form-urlencoded" ? "urlencoded" : type === "multipart/form-data" ? "multipart" : type === "application/json" ? "json" : undefined;
  if (!kind) throw new AppError(415, "unsupported_media_type", "send the form as application/x-www-form-urlencoded, multipart/form-data or application/json");
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? "")?.[1]?.toLowerCase();
  if (charset && charset !== "utf-8" && charset !== "utf8") throw new AppError(415, "unsupported_media_type", `send the form in UTF-8, not ${charset}`);
  return kind;
}


/** application/x-www-form-urlencoded, decoded strictly: `%FF` is bad UTF-8 (URLSearchParams would
 *  quietly turn it into U+FFFD). A '%' not followed by two hex digits is kept as is, as browsers do. */
function parseUrlencoded(body: Uint8Array): Entry[] {
  const text = decodeUtf8(body, "the body");
  const out: Entry[] = [];
  for (const pair of text.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const [k, v] = eq < 0 ? [pair, ""] : [pair.slice(0, eq), pair.slice(eq + 1)];
    const name = percentDecode(k, "a field name");
    out.push({ name, value: percentDecode(v, `fields.${name}`) });
  }
  return out;
}

function percentDecode(s: string, what: string): string {
  const plus = s.replace(/\+/g, " ");
  if (!plus.includes("%")) return plus;
  // '%' and hex digits are ASCII, so decoding on the UTF-8 bytes is exact.
  const src = new TextEncoder().encode(plus);
  const out = new Uint8Array(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const hi = hexVal(src[i + 1]), lo = hexVal(src[i + 2]);
    if (src[i] === 37 && hi >= 0 && lo >= 0) {
      out[n++] = hi * 16 + lo;
      i += 2;
    } else out[n++] = src[i]!;
  }
  return decodeUtf8(out.subarray(0, n), what);
}

function hexVal(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 32;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/** A JSON object of fields: strings, numbers and booleans (as text); null is an empty field. Files
 *  cannot travel in JSON: send those as multipart. */
function parseJson(body: Uint8Array): Entry[] {
  let data: unknown;
  try {
    data = JSON.parse(decodeUtf8(body, "the body"));
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw badRequest("invalid_json", `the body is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw badRequest("invalid_body", "the body must be a JSON object of fields");
  const out: Entry[] = [];
  for (const [name, v] of Object.entries(data)) {
    if (v === null) continue;
    if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") throw badRequest("invalid_request", `fields.${name}: must be a string`);
    out.push({ name, value: String(v) });
  }
  return out;
}

export function parseBody(kind: BodyKind, contentType: string, body: Uint8Array): Entry[] {
  const entries = kind === "json" ? parseJson(body) : kind === "urlencoded" ? parseUrlencoded(body) : parseMultipart(body, boundaryOf(contentType));
  if (entries.length > MAX_FIELDS) throw badRequest("invalid_body", `more than ${MAX_FIELDS} fields`);
  return entries;
}
