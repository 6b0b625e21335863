import { describe, expect, it } from "vitest";
import { baseAddress, normalizeMessageId, parseMessageIdList } from "../../workers/email/addresses.ts";

describe("baseAddress", () => {
  it.each([
    ["Support+Billing@Demo.Parley.test", "support@demo.parley.test"],
    ["support@demo.parley.test", "support@demo.parley.test"],
    ["<Pat@Example.COM>", "pat@example.com"],
    ['"Pat Smith" <pat.smith+news@example.com>', "pat.smith@example.com"],
    ['"Smith, Pat <work>" <pat@example.com>', "pat@example.com"],
    ["Pat <pat@example.com> (home)", "pat@example.com"],
    ["pat@example.com (Pat Smith)", "pat@example.com"],
    ["  pat@example.com.  ", "pat@example.com"],
    ["Jürgen <jürgen@bücher.example>", "jürgen@bücher.example"],
    ["a+b+c@x.example", "a@x.example"],
  ])("%j → %j", (input, out) => {
    expect(baseAddress(input)).toBe(out);
  });
  it.each([[""], ["Pat Smith"], ["@example.com"], ["pat@"], ["pat@@example.com"], ["pat smith@example.com"], ["<>"], ["pat@exa mple.com"], ["pat@-bad.example"], ["pat@a..b"]])(
    "%j is not an address",
    (input) => {
      expect(baseAddress(input)).toBeNull();
    },
  );
});

describe("normalizeMessageId", () => {
  it("strips whitespace and angle brackets, keeping case", () => {
    expect(normalizeMessageId("<Abc.123@Mail.Example>")).toBe("Abc.123@Mail.Example");
    expect(normalizeMessageId("  <abc@x>\r\n ")).toBe("abc@x");
    expect(normalizeMessageId("abc@x")).toBe("abc@x");
  });
  it("is null when empty", () => {
    expect(normalizeMessageId(null)).toBeNull();
    expect(normalizeMessageId(undefined)).toBeNull();
    expect(normalizeMessageId("")).toBeNull();
    expect(normalizeMessageId(" <> ")).toBeNull();
  });
});

describe("parseMessageIdList", () => {
  it("reads folded lists, in order, without duplicates", () => {
    expect(parseMessageIdList("<a@x>\r\n <b@x>\r\n\t<c@x> <a@x>")).toEqual(["a@x", "b@x", "c@x"]);
    expect(parseMessageIdList("<a@x>,<b@x>")).toEqual(["a@x", "b@x"]);
  });
  it("skips comments and phrases, takes bare ids with @", () => {
    expect(parseMessageIdList("<a@x> (the first (nested) one) <b@x>")).toEqual(["a@x", "b@x"]);
    expect(parseMessageIdList("(comment <hidden@x>) <a@x>")).toEqual(["a@x"]);
    expect(parseMessageIdList('"Your message of Mon, 1 Jan <q@x>" <a@x>')).toEqual(["a@x"]);
    expect(parseMessageIdList("Your message of Monday <a@x>")).toEqual(["a@x"]);
    expect(parseMessageIdList("bare@host.example <b@x> other@host")).toEqual(["bare@host.example", "b@x", "other@host"]);
  });
  it("is empty for nothing", () => {
    expect(parseMessageIdList(null)).toEqual([]);
    expect(parseMessageIdList(undefined)).toEqual([]);
    expect(parseMessageIdList("   ")).toEqual([]);
    expect(parseMessageIdList("<>")).toEqual([]);
  });
  it("keeps at most 100 ids: the root and the latest 99", () => {
    const ids = Array.from({ length: 250 }, (_, i) => `m${i}@x`);
    const out = parseMessageIdList(ids.map((i) => `<${i}>`).join(" "));
    expect(out).toHaveLength(100);
    expect(out[0]).toBe("m0@x");
    expect(out[1]).toBe("m151@x");
    expect(out[99]).toBe("m249@x");
  });
});
