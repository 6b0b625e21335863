import { describe, expect, it } from "vitest";
import { displaySubject, extractTag, newTag, normalizeSubject, replySubject, withTag } from "../../workers/email/subject.ts";

describe("normalizeSubject", () => {
  it.each([
    "Re: Printer on fire",
    "RE: Printer on fire",
    "re:Printer on fire",
    "Re[2]: Printer on fire",
    "RE(3): Printer on fire",
    "Re : Printer on fire",
    "Re：Printer on fire",
    "Aw: Printer on fire",
    "AW: WG: Printer on fire",
    "Sv: Vs: Printer on fire",
    "Antw: Doorst: Printer on fire",
    "Réf : RÉF: Ref: Printer on fire",
    "Rif: Odp: Printer on fire",
    "Fwd: Fw: FWD: Printer on fire",
    "TR: Enc: RV: Printer on fire",
    "回复: 答复：转发: Printer on fire",
    "Re: Re: Re: Fwd: RE:   Printer   on fire  ",
    "Printer on fire [#K7Q2M]",
    "Re: [#K7Q2M] Printer on fire",
    "  PRINTER ON FIRE ",
  ])("%j → 'printer on fire'", (s) => {
    expect(normalizeSubject(s)).toBe("printer on fire");
  });
  it("keeps list tags but strips prefixes after them, once per tag", () => {
    expect(normalizeSubject("Re: [parley-users] Re: Hello")).toBe("[parley-users] hello");
    expect(normalizeSubject("[parley-users] Re: [parley-users] AW: Hello")).toBe("[parley-users] hello");
    expect(normalizeSubject("[EXT] Fwd: [#K7Q2M] Hello")).toBe("[ext] hello");
  });
  it("only strips prefixes at the start", () => {
    expect(normalizeSubject("About Re: something")).toBe("about re: something");
    expect(normalizeSubject("Tre: x")).toBe("tre: x");
    expect(normalizeSubject("Reply needed")).toBe("reply needed");
    expect(normalizeSubject("Retour: colis")).toBe("retour: colis");
  });
  it("leaves a bracket that is the whole subject alone", () => {
    expect(normalizeSubject("Re: [urgent]")).toBe("[urgent]");
    expect(normalizeSubject("")).toBe("");
  });
});

describe("displaySubject", () => {
  it("strips prefixes and our tag but keeps case", () => {
    expect(displaySubject("RE: AW: Printer On Fire [#K7Q2M]")).toBe("Printer On Fire");
    expect(displaySubject("Re: [Users] Fwd: Hello  World")).toBe("[Users] Hello World");
  });
});

describe("thread tags", () => {
  it("newTag draws 5 characters from the unambiguous alphabet", () => {
    const seen = new Set<string>();
    const chars = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const t = newTag();
      expect(t).toMatch(/^[23456789ABCDEFGHJKMNPQRSTVWXYZ]{5}$/);
      seen.add(t);
      for (const c of t) chars.add(c);
    }
    expect(seen.size).toBeGreaterThan(1990); // 24.3 million possible tags: collisions are rare
    expect(chars.size).toBe(30); // every symbol gets used
  });
  it("extractTag finds a valid tag, any case, and returns it upper-cased", () => {
    expect(extractTag("Re: Printer [#K7Q2M]")).toBe("K7Q2M");
    expect(extractTag("[#k7q2m] lower")).toBe("K7Q2M");
    expect(extractTag("two [#AAAAA] [#BBBBB]")).toBe("AAAAA");
    expect(extractTag("again [#k7q2m]")).toBe("K7Q2M"); // no state kept between calls
  });
  it.each([["[#K7Q2O]"], ["[#K7Q21]"], ["[#K7QIL]"], ["[#K7QUM]"], ["[#K7Q2]"], ["[#K7Q2MM]"], ["[K7Q2M]"], ["#K7Q2M"], ["[#ſ7Q2M]"]])(
    "extractTag rejects %s",
    (s) => {
      expect(extractTag(`Hello ${s}`)).toBeNull();
    },
  );
  it("withTag sets exactly one tag at the end", () => {
    expect(withTag("Hello", "K7Q2M")).toBe("Hello [#K7Q2M]");
    expect(withTag("Hello [#K7Q2M]", "k7q2m")).toBe("Hello [#K7Q2M]");
    expect(withTag("[#AAAAA] Hello [#BBBBB]", "K7Q2M")).toBe("Hello [#K7Q2M]");
    expect(withTag("", "K7Q2M")).toBe("[#K7Q2M]");
    expect(() => withTag("Hello", "K7Q2O")).toThrow(/invalid thread tag/);
  });
  it("replySubject adds one Re: and one tag", () => {
    expect(replySubject("Printer on fire", "K7Q2M")).toBe("Re: Printer on fire [#K7Q2M]");
    expect(replySubject("RE: AW: Printer on fire [#K7Q2M]", "K7Q2M")).toBe("Re: Printer on fire [#K7Q2M]");
    expect(replySubject("Re: [list] Re: Hi [#AAAAA]", "K7Q2M")).toBe("Re: [list] Hi [#K7Q2M]");
    expect(replySubject(replySubject("Hi", "K7Q2M"), "K7Q2M")).toBe("Re: Hi [#K7Q2M]");
  });
});
