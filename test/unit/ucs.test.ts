import { describe, expect, it } from "vitest";
import { AppError } from "../../workers/kernel/errors.ts";
import { identifiersOf, normalizePhone, splitName } from "../../workers/ucs/identifiers.ts";
import { ftsQuery } from "../../workers/ucs/search.ts";

describe("contact identifiers", () => {
  it("rank email, then phone, then name, normalized", () => {
    expect(identifiersOf({ name: "Ann  Smith", phone: "+1 (415) 555-0100", email: "Ann@Example.COM" })).toEqual([
      { kind: "email", value: "ann@example.com", display: "Ann@Example.COM" },
      { kind: "phone", value: "+14155550100", display: "+1 (415) 555-0100" },
      { kind: "name", value: "ann smith", display: "Ann Smith" },
    ]);
  });
  it("normalizes phone numbers to E.164 and rejects invalid ones", () => {
    expect(normalizePhone("+44 20 7946 0958")).toBe("+442079460958");
    expect(() => normalizePhone("12345")).toThrow(AppError);
    expect(() => identifiersOf({ email: "not-an-email" })).toThrow(/not an email address/);
  });
  it("splits names", () => {
    expect(splitName({ name: "Mary Ann Evans" })).toEqual({ first: "Mary Ann", last: "Evans", full: "Mary Ann Evans" });
    expect(splitName({ firstName: "Cher" })).toEqual({ first: "Cher", last: undefined, full: "Cher" });
  });
});

describe("search queries", () => {
  it("quote every term so input cannot inject FTS5 syntax", () => {
    expect(ftsQuery('printer NEAR(fire) "OR" *')).toBe('"printer"* "NEAR"* "fire"* "OR"*');
    expect(ftsQuery("   ")).toBeNull();
    expect(ftsQuery("ann@example.com")).toBe('"ann@example.com"*');
  });
});
