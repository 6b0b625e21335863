// Skill expressions: which agents a strategy target accepts.
//   billing >= 5 & (spanish >= 3 | french) & !trainee
// A bare skill means level >= 1. Operators: >= > <= < = !=. Connectives: & (and), | (or), ! (not),
// with && and || accepted too. Pure: parsed once at config load, evaluated per candidate.

export type SkillExpr =
  | { kind: "skill"; skill: string; op: Cmp; level: number }
  | { kind: "and" | "or"; left: SkillExpr; right: SkillExpr }
  | { kind: "not"; expr: SkillExpr }
  | { kind: "any" };

type Cmp = ">=" | ">" | "<=" | "<" | "=" | "!=";

export class SkillExprError extends Error {}

const TOKEN = /\s*(>=|<=|!=|&&|\|\||[()&|!<>=]|[A-Za-z_][\w.-]*|\d+)/y;

function tokenize(src: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(src);
    if (!m) throw new SkillExprError(`unexpected character '${src.slice(pos).trim()[0]}' at ${pos}`);
    out.push(m[1] === "&&" ? "&" : m[1] === "||" ? "|" : m[1]!);
    pos = TOKEN.lastIndex;
  }
  return out;
}

export function parseSkillExpr(src: string): SkillExpr {
  if (src.trim() === "" || src.trim() === "*") return { kind: "any" };
  const toks = tokenize(src);
  let i = 0;
  const peek = () => toks[i];
  const take = () => toks[i++];

  const primary = (): SkillExpr => {
    const t = take();
    if (t === undefined) throw new SkillExprError("expression ends early");
    if (t === "(") {
      const e = or();
      if (take() !== ")") throw new SkillExprError("missing ')'");
      return e;
    }
    if (t === "!") return { kind: "not", expr: primary() };
    if (!/^[A-Za-z_]/.test(t)) throw new SkillExprError(`expected a skill name, got '${t}'`);
    const op = peek();
    if (op === ">=" || op === ">" || op === "<=" || op === "<" || op === "=" || op === "!=") {
      take();
      const n = take();
      if (n === undefined || !/^\d+$/.test(n)) throw new SkillExprError(`expected a level after '${t} ${op}'`);
      const level = Number(n);
      if (level > 10) throw new SkillExprError(`level ${level} for '${t}' is above 10`);
      return { kind: "skill", skill: t, op, level };
    }
    return { kind: "skill", skill: t, op: ">=", level: 1 };
  };
  const and = (): SkillExpr => {
    let left = primary();
    while (peek() === "&") {
      take();
      left = { kind: "and", left, right: primary() };
    }
    return left;
  };
  const or = (): SkillExpr => {
    let left = and();
    while (peek() === "|") {
      take();
      left = { kind: "or", left, right: and() };
    }
    return left;
  };
  const e = or();
  if (i < toks.length) throw new SkillExprError(`unexpected '${toks[i]}'`);
  return e;
}

export function skillsIn(e: SkillExpr): string[] {
  switch (e.kind) {
    case "any": return [];
    case "skill": return [e.skill];
    case "not": return skillsIn(e.expr);
    default: return [...skillsIn(e.left), ...skillsIn(e.right)];
  }
}

export function matches(e: SkillExpr, skills: Readonly<Record<string, number>>): boolean {
  switch (e.kind) {
    case "any": return true;
    case "not": return !matches(e.expr, skills);
    case "and": return matches(e.left, skills) && matches(e.right, skills);
    case "or": return matches(e.left, skills) || matches(e.right, skills);
    case "skill": {
      const have = skills[e.skill] ?? 0;
      switch (e.op) {
        case ">=": return have >= e.level;
        case ">": return have > e.level;
        case "<=": return have <= e.level;
        case "<": return have < e.level;
        case "=": return have === e.level;
        case "!=": return have !== e.level;
      }
    }
  }
}

/** The level that "highest skill" compares: the first skill the expression names. */
export function primarySkill(e: SkillExpr): string | undefined {
  return skillsIn(e)[0];
}
