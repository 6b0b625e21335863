// Screening rules (eServices style): boolean expressions over an incoming message.
//   RegExFind(subject, "invoice\s+\d+") && !Find(from, "@partner.example") || Find(header("X-Spam-Flag"), "yes", "cs")
// Functions: Find (substring), RegExFind (pattern anywhere), RegExMatch (pattern must match the whole value);
// an optional third argument "cs" makes the test case-sensitive. Connectives: ! > && > ||, with parentheses.
// Pure: parsed (and every regex compiled) once at config load, evaluated per message.

export type ScreeningField =
  | { kind: "subject" | "body" | "from" | "to" | "any" | "headers" }
  | { kind: "header"; name: string };

export type ScreeningExpr =
  | { kind: "and" | "or"; left: ScreeningExpr; right: ScreeningExpr }
  | { kind: "not"; expr: ScreeningExpr }
  | { kind: "find"; field: ScreeningField; text: string; caseSensitive: boolean }
  | { kind: "regexfind" | "regexmatch"; field: ScreeningField; pattern: string; caseSensitive: boolean; re: RegExp };

export interface ScreenedMessage {
  subject: string;
  body: string;
  from: string;
  to: string[];
  /** Header names in any case. */
  headers: [string, string][];
}

export class ScreeningExprError extends Error {
  /** 0-based offset into the expression where the problem is. */
  readonly position: number;
  constructor(message: string, position: number) {
    super(`${message} at position ${position}`);
    this.name = "ScreeningExprError";
    this.position = position;
  }
}

// Regex cost grows with input length (and can grow badly for careless patterns), so every field value is cut to
// its first 100,000 characters before it is searched.
const MAX_FIELD_CHARS = 100_000;

type Tok =
  | { t: "name"; v: string; pos: number }
  | { t: "str"; v: string; pos: number }
  | { t: "(" | ")" | "," | "&&" | "||" | "!"; pos: number };

// Hyphens are allowed so a header name written without quotes gets a helpful error, not "unexpected '-'".
const NAME = /[A-Za-z_][A-Za-z0-9_-]*/y;

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === "(" || c === ")" || c === "," || c === "!") { out.push({ t: c, pos: i }); i++; continue; }
    if (c === "&" || c === "|") {
      if (src[i + 1] !== c) throw new ScreeningExprError(`expected '${c}${c}'`, i);
      out.push({ t: c === "&" ? "&&" : "||", pos: i });
      i += 2;
      continue;
    }
    if (c === '"') {
      // Only \" and \\ are escapes; any other backslash stays, so regexes read naturally ("\d+").
      const start = i;
      let v = "";
      i++;
      for (;;) {
        if (i >= src.length) throw new ScreeningExprError("unterminated string", start);
        const d = src[i]!;
        if (d === '"') { i++; break; }
        if (d === "\\" && (src[i + 1] === '"' || src[i + 1] === "\\")) { v += src[i + 1]; i += 2; continue; }
        v += d;
        i++;
      }
      out.push({ t: "str", v, pos: start });
      continue;
    }
    NAME.lastIndex = i;
    const m = NAME.exec(src);
    if (!m) throw new ScreeningExprError(`unexpected character '${c}'`, i);
    out.push({ t: "name", v: m[0], pos: i });
    i += m[0].length;
  }
  return out;
}

const FUNCTIONS = new Set(["find", "regexfind", "regexmatch"]);
const SIMPLE_FIELDS = new Set(["subject", "body", "from", "to", "any", "headers"]);

export function parseScreening(src: string): ScreeningExpr {
  const toks = tokenize(src);
  if (toks.length === 0) throw new ScreeningExprError("expression is empty", 0);
  let i = 0;
  const end = src.length;
  const peek = (): Tok | undefined => toks[i];
  const describe = (t: Tok | undefined) => (t === undefined ? "end of expression" : t.t === "name" ? `'${t.v}'` : t.t === "str" ? "a string" : `'${t.t}'`);
  const expect = (t: Tok["t"], what: string): Tok => {
    const k = toks[i];
    if (k === undefined || k.t !== t) throw new ScreeningExprError(`expected ${what}, got ${describe(k)}`, k?.pos ?? end);
    i++;
    return k;
  };
  const str = (what: string): { v: string; pos: number } => {
    const k = expect("str", what);
    return k as { v: string; pos: number };
  };

  const field = (): ScreeningField => {
    const k = toks[i];
    if (k === undefined || k.t !== "name") throw new ScreeningExprError(`expected a field, got ${describe(k)}`, k?.pos ?? end);
    i++;
    const name = k.v.toLowerCase();
    if (name === "header") {
      expect("(", "'(' after header");
      const h = str("a header name in double quotes");
      if (!/^[!-9;-~]+$/.test(h.v)) throw new ScreeningExprError(`invalid header name "${h.v}"`, h.pos);
      expect(")", "')' after the header name");
      return { kind: "header", name: h.v.toLowerCase() };
    }
    if (!SIMPLE_FIELDS.has(name)) {
      throw new ScreeningExprError(`unknown field '${k.v}' (subject, body, from, to, any, headers or header("Name"))`, k.pos);
    }
    return { kind: name as "subject" };
  };

  const call = (): ScreeningExpr => {
    const k = toks[i];
    if (k === undefined || k.t !== "name") throw new ScreeningExprError(`expected Find, RegExFind or RegExMatch, got ${describe(k)}`, k?.pos ?? end);
    const fn = k.v.toLowerCase();
    if (!FUNCTIONS.has(fn)) throw new ScreeningExprError(`unknown function '${k.v}' (Find, RegExFind, RegExMatch)`, k.pos);
    i++;
    expect("(", `'(' after ${k.v}`);
    const f = field();
    expect(",", "','");
    const arg = str(fn === "find" ? "the text in double quotes" : "the pattern in double quotes");
    let caseSensitive = false;
    if (peek()?.t === ",") {
      i++;
      const opt = str('"cs" or "ci"');
      const o = opt.v.toLowerCase();
      if (o !== "cs" && o !== "ci") throw new ScreeningExprError(`unknown option "${opt.v}" (use "cs" for case-sensitive)`, opt.pos);
      caseSensitive = o === "cs";
    }
    expect(")", `')' to close ${k.v}`);
    if (fn === "find") return { kind: "find", field: f, text: arg.v, caseSensitive };
    const source = fn === "regexmatch" ? `^(?:${arg.v})$` : arg.v;
    let re: RegExp;
    try {
      // The pattern is checked alone first, so "a)|(b" cannot escape RegExMatch's anchoring group.
      new RegExp(arg.v);
      re = new RegExp(source, caseSensitive ? "" : "i");
    } catch (e) {
      throw new ScreeningExprError(`invalid regular expression "${arg.v}": ${(e as Error).message}`, arg.pos);
    }
    return { kind: fn as "regexfind", field: f, pattern: arg.v, caseSensitive, re };
  };

  const primary = (): ScreeningExpr => {
    const k = peek();
    if (k?.t === "(") {
      i++;
      const e = or();
      expect(")", "')'");
      return e;
    }
    if (k?.t === "!") {
      i++;
      return { kind: "not", expr: primary() };
    }
    return call();
  };
  const and = (): ScreeningExpr => {
    let left = primary();
    while (peek()?.t === "&&") {
      i++;
      left = { kind: "and", left, right: primary() };
    }
    return left;
  };
  const or = (): ScreeningExpr => {
    let left = and();
    while (peek()?.t === "||") {
      i++;
      left = { kind: "or", left, right: and() };
    }
    return left;
  };

  const e = or();
  const rest = toks[i];
  if (rest !== undefined) throw new ScreeningExprError(`unexpected ${describe(rest)}`, rest.pos);
  return e;
}

/** For config validation: the error message, or null if the expression is valid. */
export function screeningErrors(src: string): string | null {
  try {
    parseScreening(src);
    return null;
  } catch (e) {
    if (e instanceof ScreeningExprError) return e.message;
    throw e;
  }
}

function values(f: ScreeningField, m: ScreenedMessage): string[] {
  switch (f.kind) {
    case "subject": return [m.subject];
    case "body": return [m.body];
    case "from": return [m.from];
    case "to": return m.to;
    case "any": return [m.subject, m.body];
    case "headers": return m.headers.map(([n, v]) => `${n}: ${v}`);
    case "header": return m.headers.filter(([n]) => n.toLowerCase() === f.name).map(([, v]) => v);
  }
}

function test(e: Extract<ScreeningExpr, { field: ScreeningField }>, value: string): boolean {
  const v = value.length > MAX_FIELD_CHARS ? value.slice(0, MAX_FIELD_CHARS) : value;
  if (e.kind === "find") return e.caseSensitive ? v.includes(e.text) : v.toLowerCase().includes(e.text.toLowerCase());
  return e.re.test(v);
}

export function evaluateScreening(e: ScreeningExpr, m: ScreenedMessage): boolean {
  switch (e.kind) {
    case "and": return evaluateScreening(e.left, m) && evaluateScreening(e.right, m);
    case "or": return evaluateScreening(e.left, m) || evaluateScreening(e.right, m);
    case "not": return !evaluateScreening(e.expr, m);
    default: return values(e.field, m).some((v) => test(e, v));
  }
}
