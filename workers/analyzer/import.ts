// Training examples as an admin imports them: JSON Lines (`{"text": "…", "category": "…"}` per line)
// or CSV with a `text,category` header (RFC 4180 quoting). One pass over the bytes; the whole file is
// refused, naming the line, if any line is bad, so a corrected file can simply be posted again
// (the import is idempotent on text and category). Pure.
import { OUT_OF_SCOPE } from "./model.ts";

export const MAX_IMPORT_BYTES = 10 << 20;
export const MAX_IMPORT_ROWS = 50_000;
export const MAX_EXAMPLE_CHARS = 10_000;

export type ImportFormat = "jsonl" | "csv";

export class ImportError extends Error {
  readonly code: string;
  readonly line: number | null;
  constructor(code: string, message: string, line: number | null = null) {
    super(line === null ? message : `line ${line}: ${message}`);
    this.code = code;
    this.line = line;
  }
}

export function importFormat(contentType: string | null): ImportFormat | null {
  const t = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (t === "application/x-ndjson" || t === "application/jsonl" || t === "application/x-jsonlines" || t === "application/json-lines") return "jsonl";
  if (t === "text/csv") return "csv";
  return null;
}

export interface ImportedExample {
  text: string;
  category: string;
  line: number;
}

/** The text as stored and hashed: Unicode-normalised, trimmed. */
export const exampleText = (t: string) => t.normalize("NFC").trim();

function checked(text: unknown, category: unknown, line: number, categories: ReadonlySet<string>): ImportedExample {
  if (typeof text !== "string" || typeof category !== "string") throw new ImportError("invalid_example", "give \"text\" and \"category\" as strings", line);
  const t = exampleText(text);
  if (!t) throw new ImportError("empty_text", "the text is empty", line);
  if (t.length > MAX_EXAMPLE_CHARS) throw new ImportError("text_too_long", `the text has ${t.length} characters; at most ${MAX_EXAMPLE_CHARS}`, line);
  const c = category.trim();
  if (c !== OUT_OF_SCOPE && !categories.has(c)) throw new ImportError("unknown_category", `unknown category '${c.slice(0, 100)}' (declare it in the config's categories, or use '${OUT_OF_SCOPE}' for none of them)`, line);
  return { text: t, category: c, line };
}

function parseJsonl(src: string, categories: ReadonlySet<string>): ImportedExample[] {
  const out: ImportedExample[] = [];
  let line = 0;
  for (const raw of src.split("\n")) {
    line++;
    const s = raw.trim();
    if (!s) continue;
    if (out.length >= MAX_IMPORT_ROWS) throw new ImportError("too_many_examples", `at most ${MAX_IMPORT_ROWS} examples per import`, line);
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch {
      throw new ImportError("invalid_jsonl", "not a JSON object", line);
    }
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ImportError("invalid_jsonl", "not a JSON object", line);
    const o = v as Record<string, unknown>;
    out.push(checked(o.text, o.category, line, categories));
  }
  return out;
}

/** RFC 4180 records in one pass: quoted fields may hold commas, quotes ("") and line breaks. */
function* csvRecords(src: string): Generator<{ fields: string[]; line: number }> {
  let i = 0;
  let line = 1;
  while (i < src.length) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let field = "";
      if (src[i] === '"') {
        i++;
        for (;;) {
          if (i >= src.length) throw new ImportError("invalid_csv", "a quoted field is not closed", start);
          const c = src[i]!;
          if (c === '"') {
            if (src[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === "\n") line++;
          field += c;
          i++;
        }
        if (i < src.length && src[i] !== "," && src[i] !== "\n" && src[i] !== "\r") throw new ImportError("invalid_csv", "text after a closing quote", line);
      } else {
        const from = i;
        while (i < src.length && src[i] !== "," && src[i] !== "\n" && src[i] !== "\r") i++;
        field = src.slice(from, i);
      }
      fields.push(field);
      if (src[i] === ",") {
        i++;
        continue;
      }
      if (src[i] === "\r") i++;
      if (src[i] === "\n") {
        i++;
        line++;
      }
      break;
    }
    if (fields.length === 1 && fields[0] === "") continue; // a blank line
    yield { fields, line: start };
  }
}

function parseCsv(src: string, categories: ReadonlySet<string>): ImportedExample[] {
  const records = csvRecords(src);
  const head = records.next();
  if (head.done) return [];
  const names = head.value.fields.map((f) => f.trim().toLowerCase());
  const ti = names.indexOf("text");
  const ci = names.indexOf("category");
  if (ti < 0 || ci < 0) throw new ImportError("invalid_csv", "the first line must name the columns: text,category", 1);
  const out: ImportedExample[] = [];
  for (const r of records) {
    if (out.length >= MAX_IMPORT_ROWS) throw new ImportError("too_many_examples", `at most ${MAX_IMPORT_ROWS} examples per import`, r.line);
    if (r.fields.length !== names.length) throw new ImportError("invalid_csv", `${r.fields.length} fields where the header has ${names.length}`, r.line);
    out.push(checked(r.fields[ti], r.fields[ci], r.line, categories));
  }
  return out;
}

export function parseImport(bytes: Uint8Array, format: ImportFormat, categories: ReadonlySet<string>): ImportedExample[] {
  if (bytes.byteLength > MAX_IMPORT_BYTES) throw new ImportError("payload_too_large", `an import is at most ${MAX_IMPORT_BYTES} bytes; split the file`);
  let src: string;
  try {
    src = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ImportError("invalid_encoding", "the file is not valid UTF-8");
  }
  return format === "jsonl" ? parseJsonl(src, categories) : parseCsv(src, categories);
}
