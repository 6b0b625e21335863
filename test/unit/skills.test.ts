import { describe, expect, it } from "vitest";
import { matches, parseSkillExpr, SkillExprError, skillsIn } from "../../workers/routing/skills.ts";

const m = (expr: string, skills: Record<string, number>) => matches(parseSkillExpr(expr), skills);

describe("skill expressions", () => {
  it("compares levels", () => {
    expect(m("billing >= 5", { billing: 5 })).toBe(true);
    expect(m("billing >= 5", { billing: 4 })).toBe(false);
    expect(m("billing > 5", { billing: 5 })).toBe(false);
    expect(m("billing < 3", { billing: 2 })).toBe(true);
    expect(m("billing = 7", { billing: 7 })).toBe(true);
    expect(m("billing != 7", { billing: 7 })).toBe(false);
    expect(m("billing <= 0", {})).toBe(true);
  });
  it("treats a bare skill as level 1 or more, and a missing skill as 0", () => {
    expect(m("tech", { tech: 1 })).toBe(true);
    expect(m("tech", {})).toBe(false);
    expect(m("tech", { tech: 0 })).toBe(false);
  });
  it("combines with & | ! and parentheses, & binding tighter than |", () => {
    const agent = { billing: 6, spanish: 2, french: 4 };
    expect(m("billing >= 5 & (spanish >= 3 | french >= 3)", agent)).toBe(true);
    expect(m("billing >= 5 && spanish >= 3 || french >= 5", agent)).toBe(false);
    expect(m("spanish >= 3 | french >= 3 & billing >= 9", agent)).toBe(false);
    expect(m("!vip", agent)).toBe(true);
    expect(m("!(billing >= 5)", agent)).toBe(false);
  });
  it("accepts anyone for * or empty", () => {
    expect(m("*", {})).toBe(true);
    expect(m("", {})).toBe(true);
  });
  it("lists the skills it names", () => {
    expect(skillsIn(parseSkillExpr("a >= 1 & (b | !c)"))).toEqual(["a", "b", "c"]);
  });
  it.each([
    ["billing >=", /expected a level/],
    ["billing >= 11", /above 10/],
    ["(billing", /missing '\)'/],
    ["billing & ", /ends early/],
    ["billing $ 3", /unexpected character/],
    ["billing tech", /unexpected 'tech'/],
    [">= 3", /expected a skill name/],
  ])("rejects %s with a clear message", (src, msg) => {
    expect(() => parseSkillExpr(src)).toThrow(SkillExprError);
    expect(() => parseSkillExpr(src)).toThrow(msg);
  });
});
