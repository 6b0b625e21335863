// Importing training examples: JSON Lines and CSV, and every way a file can be wrong.
import { describe, expect, it } from "vitest";
import { importFormat, ImportError, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, parseImport } from "../../workers/analyzer/import.ts";

const cats = new Set(["billing", "shipping"]);
const enc = (s: string) => new TextEncoder().encode(s);
const error = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof ImportError) return { code: e.code, line: e.line, message: e.message };
    throw e;
  }
  throw new Error("no error");
};

describe("import formats", () => {
  it("knows JSON Lines and CSV by content type, nothing else", () => {
    expect(importFormat("application/x-ndjson")).toBe("jsonl");
    expect(importFormat("application/jsonl; charset=utf-8")).toBe("jsonl");
    expect(importFormat("text/csv")).toBe("csv");
    expect(importFormat("application/json")).toBeNull();
    expect(importFormat(null)).toBeNull();
  });
});

describe("JSON Lines", () => {
  it("reads one example per line, skipping blank lines, normalising and trimming the text", () => {
    const rows = parseImport(enc('{"text":"  Refund please ","category":"billing"}\n\n{"text":"Where is it","category":"_none"}\r\n'), "jsonl", cats);
    expect(rows).toEqual([{ text: "Refund please", category: "billing", line: 1 }, { text: "Where is it", category: "_none", line: 3 }]);
  });

  it("names the line of a bad one: not JSON, not an object, missing fields, empty text, unknown category", () => {
    expect(error(() => parseImport(enc('{"text":"a","category":"billing"}\n{nope'), "jsonl", cats))).toMatchObject({ code: "invalid_jsonl", line: 2 });
    expect(error(() => parseImport(enc("[1,2]"), "jsonl", cats))).toMatchObject({ code: "invalid_jsonl", line: 1 });
    expect(error(() => parseImport(enc('{"text":"a"}'), "jsonl", cats))).toMatchObject({ code: "invalid_example", line: 1 });
    expect(error(() => parseImport(enc('{"text":"   ","category":"billing"}'), "jsonl", cats))).toMatchObject({ code: "empty_text", line: 1 });
    expect(error(() => parseImport(enc('{"text":"a","category":"legal"}'), "jsonl", cats))).toMatchObject({ code: "unknown_category", line: 1 });
    expect(error(() => parseImport(enc(`{"text":"${"x".repeat(10_001)}","category":"billing"}`), "jsonl", cats))).toMatchObject({ code: "text_too_long" });
  });

  it("refuses bytes that are not UTF-8, a file over the size limit, and too many lines", () => {
    expect(error(() => parseImport(new Uint8Array([0x7b, 0xff, 0xfe]), "jsonl", cats))).toMatchObject({ code: "invalid_encoding" });
    expect(error(() => parseImport(new Uint8Array(MAX_IMPORT_BYTES + 1), "jsonl", cats))).toMatchObject({ code: "payload_too_large" });
    const many = '{"text":"a","category":"billing"}\n'.repeat(MAX_IMPORT_ROWS + 1);
    expect(error(() => parseImport(enc(many), "jsonl", cats))).toMatchObject({ code: "too_many_examples", line: MAX_IMPORT_ROWS + 1 });
  });
});

describe("CSV", () => {
  it("reads a header in either order and RFC 4180 quoting: commas, doubled quotes, line breaks", () => {
    const src = 'category,text\r\nbilling,"Charged twice, ""again""\nsince May"\nshipping,Where is my parcel\n\n';
    expect(parseImport(enc(src), "csv", cats)).toEqual([
      { text: 'Charged twice, "again"\nsince May', category: "billing", line: 2 },
      { text: "Where is my parcel", category: "shipping", line: 4 },
    ]);
  });

  it("names what is wrong: no header, a short row, an unclosed quote, text after a quote", () => {
    expect(error(() => parseImport(enc("a,b\nx,y"), "csv", cats))).toMatchObject({ code: "invalid_csv", line: 1 });
    expect(error(() => parseImport(enc("text,category\nonly one field"), "csv", cats))).toMatchObject({ code: "invalid_csv", line: 2 });
    expect(error(() => parseImport(enc('text,category\n"never closed,billing'), "csv", cats))).toMatchObject({ code: "invalid_csv", line: 2 });
    expect(error(() => parseImport(enc('text,category\n"a"b,billing'), "csv", cats))).toMatchObject({ code: "invalid_csv" });
    expect(error(() => parseImport(enc("text,category\nhello,legal"), "csv", cats))).toMatchObject({ code: "unknown_category", line: 2 });
  });

  it("reads a pathological megabyte of quotes in one pass, then applies the length limit", () => {
    const src = `text,category\n"${'""'.repeat(400_000)}",billing\n`;
    expect(error(() => parseImport(enc(src), "csv", cats))).toMatchObject({ code: "text_too_long", line: 2, message: "line 2: the text has 400000 characters; at most 10000" });
  });
});
