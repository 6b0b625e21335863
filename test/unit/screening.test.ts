import { describe, expect, it } from "vitest";
import { evaluateScreening, parseScreening, type ScreenedMessage, ScreeningExprError, screeningErrors } from "../../workers/workflow/screening.ts";

const msg: ScreenedMessage = {
  subject: "Invoice 4711 overdue",
  body: "Dear team,\nplease find the PAYMENT reminder attached.",
  from: "Billing Bot <billing@vendor.example>",
  to: ["support@demo.parley.test", "sales@demo.parley.test"],
  headers: [["X-Spam-Flag", "YES"], ["x-mailer", "BulkMail 2.0"], ["Received", "from mx1"], ["Received", "from mx2"]],
};
const ev = (src: string, m: ScreenedMessage = msg) => evaluateScreening(parseScreening(src), m);

describe("screening functions", () => {
  it("Find looks for a substring, case-insensitively by default", () => {
    expect(ev('Find(subject, "invoice")')).toBe(true);
    expect(ev('Find(subject, "receipt")')).toBe(false);
    expect(ev('Find(subject, "4711 OVERDUE")')).toBe(true);
  });
  it("RegExFind searches anywhere, RegExMatch needs the whole value", () => {
    expect(ev('RegExFind(subject, "\\d{4}")')).toBe(true);
    expect(ev('RegExMatch(subject, "\\d{4}")')).toBe(false);
    expect(ev('RegExMatch(subject, "invoice \\d+ overdue")')).toBe(true);
    expect(ev('RegExMatch(subject, "invoice \\d+")')).toBe(false);
    // alternation stays inside the anchors: "overdue" alone is not the whole subject
    expect(ev('RegExMatch(subject, "nothing|overdue")')).toBe(false);
  });
  it("accepts function names in any case", () => {
    expect(ev('FIND(subject, "invoice")')).toBe(true);
    expect(ev('regexfind(subject, "invoice")')).toBe(true);
    expect(ev('REGEXMATCH(to, "sales@.*")')).toBe(true);
  });
  it('is case-sensitive with "cs"', () => {
    expect(ev('Find(subject, "invoice", "cs")')).toBe(false);
    expect(ev('Find(subject, "Invoice", "cs")')).toBe(true);
    expect(ev('RegExFind(body, "payment", "cs")')).toBe(false);
    expect(ev('RegExFind(body, "PAYMENT", "cs")')).toBe(true);
    expect(ev('RegExMatch(from, "billing bot.*", "cs")')).toBe(false);
    expect(ev('RegExFind(body, "payment", "ci")')).toBe(true);
  });
});

describe("screening fields", () => {
  it("subject, body and from read their own value", () => {
    expect(ev('Find(body, "reminder")')).toBe(true);
    expect(ev('Find(subject, "reminder")')).toBe(false);
    expect(ev('Find(from, "@vendor.example")')).toBe(true);
    expect(ev('Find(from, "support@")')).toBe(false);
  });
  it("to matches any recipient", () => {
    expect(ev('RegExMatch(to, "sales@demo\\.parley\\.test")')).toBe(true);
    expect(ev('RegExMatch(to, "support@demo\\.parley\\.test")')).toBe(true);
    expect(ev('Find(to, "billing@")')).toBe(false);
    expect(ev('Find(to, "x")', { ...msg, to: [] })).toBe(false);
  });
  it("any reads the subject or the body", () => {
    expect(ev('Find(any, "4711")')).toBe(true);
    expect(ev('Find(any, "attached")')).toBe(true);
    expect(ev('Find(any, "mx1")')).toBe(false);
    // each separately: a match may not span subject and body
    expect(ev('Find(any, "overdue Dear")')).toBe(false);
  });
  it('headers reads every "Name: value" line', () => {
    expect(ev('Find(headers, "X-Spam-Flag: YES")')).toBe(true);
    expect(ev('RegExMatch(headers, "received: from mx2")')).toBe(true);
    expect(ev('Find(headers, "Invoice")')).toBe(false);
  });
  it("header(name) reads every value of that header, the name in any case", () => {
    expect(ev('Find(header("x-spam-flag"), "yes")')).toBe(true);
    expect(ev('RegExMatch(header("X-SPAM-FLAG"), "yes", "cs")')).toBe(false);
    expect(ev('RegExMatch(header("X-Mailer"), "bulkmail.*")')).toBe(true);
    expect(ev('Find(header("Received"), "mx2")')).toBe(true);
    expect(ev('Find(header("X-Missing"), "")')).toBe(false);
    // the header name is not part of the value
    expect(ev('Find(header("X-Mailer"), "X-Mailer")')).toBe(false);
  });
  it("only searches the first 100,000 characters of a field", () => {
    const long = { ...msg, body: "a".repeat(100_000) + "needle" };
    expect(ev('Find(body, "needle")', long)).toBe(false);
    expect(ev('Find(body, "needle")', { ...msg, body: "a".repeat(99_994) + "needle" })).toBe(true);
  });
});

describe("screening connectives", () => {
  it("combines with && || ! and parentheses", () => {
    expect(ev('Find(subject, "invoice") && Find(body, "payment")')).toBe(true);
    expect(ev('Find(subject, "invoice") && Find(body, "refund")')).toBe(false);
    expect(ev('Find(subject, "refund") || Find(body, "payment")')).toBe(true);
    expect(ev('!Find(subject, "refund")')).toBe(true);
    expect(ev('!!Find(subject, "refund")')).toBe(false);
    expect(ev('!(Find(subject, "invoice") && Find(body, "refund"))')).toBe(true);
  });
  it("binds ! tighter than && tighter than ||", () => {
    const T = 'Find(subject, "invoice")';
    const F = 'Find(subject, "refund")';
    expect(ev(`${T} || ${T} && ${F}`)).toBe(true); // T || (T && F)
    expect(ev(`(${T} || ${T}) && ${F}`)).toBe(false);
    expect(ev(`${F} && ${T} || ${T}`)).toBe(true); // (F && T) || T
    expect(ev(`${F} && (${T} || ${T})`)).toBe(false);
    expect(ev(`!${T} && ${F}`)).toBe(false); // (!T) && F
    expect(ev(`!${F} || ${F}`)).toBe(true); // (!F) || F
    expect(ev(`!(${F} || ${T})`)).toBe(false);
  });
});

describe("screening strings", () => {
  it('reads \\" and \\\\ as escapes and keeps other backslashes for regexes', () => {
    const m = { ...msg, subject: 'Re: "urgent" path C:\\temp' };
    expect(ev('Find(subject, "\\"urgent\\"")', m)).toBe(true);
    expect(ev('Find(subject, "C:\\\\temp")', m)).toBe(true);
    expect(ev('RegExFind(subject, "C:\\\\\\\\temp")', m)).toBe(true);
    expect(ev('RegExFind(subject, "\\w+: \\"")', m)).toBe(true);
    const e = parseScreening('Find(subject, "a\\"b\\\\c\\d")');
    expect(e.kind === "find" && e.text).toBe('a"b\\c\\d');
  });
});

describe("screening errors", () => {
  const err = (src: string): ScreeningExprError => {
    try {
      parseScreening(src);
    } catch (e) {
      if (e instanceof ScreeningExprError) return e;
      throw e;
    }
    throw new Error(`no error for ${src}`);
  };
  it.each([
    ["", 0, /empty/],
    ['Fnd(subject, "x")', 0, /unknown function 'Fnd'/],
    ['Find(subjct, "x")', 5, /unknown field 'subjct'/],
    ['Find(subject "x")', 13, /expected ','/],
    ['Find(subject, x)', 14, /expected the text in double quotes/],
    ['Find(subject, "x"', 17, /expected '\)' to close Find, got end of expression/],
    ['Find(subject, "x)', 14, /unterminated string/],
    ['Find(subject, "x", "xx")', 19, /unknown option "xx"/],
    ['Find(subject, "x") & Find(body, "y")', 19, /expected '&&'/],
    ['Find(subject, "x") Find(body, "y")', 19, /unexpected 'Find'/],
    ['(Find(subject, "x")', 19, /expected '\)'/],
    ['Find(subject, "x") &&', 21, /expected Find, RegExFind or RegExMatch, got end of expression/],
    ['Find(header(X-Spam), "x")', 12, /expected a header name in double quotes/],
    ['Find(header("X Spam"), "x")', 12, /invalid header name/],
    ['Find(subject, "x") # y', 19, /unexpected character '#'/],
  ])("%s fails at %i", (src, pos, re) => {
    const e = err(src);
    expect(e.position).toBe(pos);
    expect(e.message).toMatch(re);
    expect(e.message).toContain(`at position ${pos}`);
  });
  it("rejects an invalid regex when parsing, pointing at the pattern", () => {
    const e = err('Find(subject, "ok") || RegExFind(body, "(unclosed")');
    expect(e.message).toMatch(/invalid regular expression "\(unclosed"/);
    expect(e.position).toBe(39);
    expect(err('RegExMatch(subject, "a)|(b")').message).toMatch(/invalid regular expression/);
    expect(err('RegExFind(subject, "[z-a]")').position).toBe(19);
  });
  it("screeningErrors returns the message or null", () => {
    expect(screeningErrors('Find(subject, "x") || !RegExFind(header("X-Spam"), "^yes$")')).toBeNull();
    expect(screeningErrors('Find(subject, "x"')).toMatch(/expected '\)'/);
    expect(screeningErrors('RegExFind(body, "*")')).toMatch(/invalid regular expression/);
  });
});
