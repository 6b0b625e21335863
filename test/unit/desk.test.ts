// The desktop's pure helpers: recipients as typed, durations as shown.
import { describe, expect, it } from "vitest";
import { parseAddresses, sameAddresses, showAddresses } from "../../web/shared/addresses.ts";
import { duration } from "../../web/shared/format.ts";

describe("recipient fields", () => {
  it("reads names, bare addresses, commas and semicolons", () => {
    expect(parseAddresses('Pat Lee <pat@example.com>, lee@example.com; "Jo, Q" <jo@example.org>')).toEqual([
      { addr: "pat@example.com", name: "Pat Lee" },
      { addr: "lee@example.com" },
      { addr: "jo@example.org", name: "Jo, Q" },
    ]);
    expect(parseAddresses("  ")).toEqual([]);
  });

  it("names the address it cannot read", () => {
    expect(() => parseAddresses("pat@example.com, not-an-address")).toThrow("'not-an-address' is not an email address");
    expect(() => parseAddresses("Pat <pat@>")).toThrow(/is not an email address/);
  });

  it("writes what it reads", () => {
    const as = [{ addr: "pat@example.com", name: "Pat Lee" }, { addr: "lee@example.com" }, { addr: "jo@example.org", name: "Jo, Q" }];
    expect(parseAddresses(showAddresses(as))).toEqual(as);
    expect(sameAddresses(as, parseAddresses(showAddresses(as)))).toBe(true);
    expect(sameAddresses(as, as.slice(1))).toBe(false);
  });
});

describe("durations", () => {
  it("reads as a person would", () => {
    expect(duration(0)).toBe("0s");
    expect(duration(59_400)).toBe("59s");
    expect(duration(61_000)).toBe("1m 01s");
    expect(duration(3_725_000)).toBe("1h 02m");
    expect(duration(null)).toBe("–");
  });
});
