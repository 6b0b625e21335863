// Standard-response templates with eServices field codes:
//   Dear <$ Contact.FirstName | "customer" $>, your request [#<$Interaction.Tag$>] arrived on <$ Interaction.ReceivedDate $>.
// Templates are checked when the config loads (templateErrors), so an unknown or misspelt code is a config
// error and never a blank in a customer's mail. Pure.

export const FIELD_CODES = [
  "Contact.FirstName",
  "Contact.LastName",
  "Contact.FullName",
  "Contact.Email",
  "Contact.Phone",
  "Interaction.Id",
  "Interaction.Subject",
  "Interaction.Tag",
  "Interaction.ReceivedDate",
  "Agent.FullName",
  "Agent.FirstName",
  "Tenant.Name",
  "Mailbox.Address",
  "Date.Today",
  "Date.Now",
] as const;

type FieldCode = (typeof FIELD_CODES)[number];
const KNOWN: ReadonlySet<string> = new Set(FIELD_CODES);

export interface FieldValues {
  contact?: { firstName?: string | null; lastName?: string | null; email?: string | null; phone?: string | null };
  interaction?: { id?: string; subject?: string | null; tag?: string | null; receivedAt?: number };
  agent?: { fullName?: string | null };
  tenant?: { name?: string };
  mailbox?: { address?: string };
  /** Epoch milliseconds. */
  now: number;
  /** IANA zone for dates, UTC by default. */
  timeZone?: string;
  /** BCP 47 locale for dates, en-GB by default. */
  locale?: string;
}

export class TemplateError extends Error {
  readonly errors: string[];
  constructor(errors: string[]) {
    super(errors.join("; "));
    this.name = "TemplateError";
    this.errors = errors;
  }
}

type Piece = { text: string } | { code: string; fallback: string | null };

const OPEN = "<$";
const CLOSE = "$>";
const CODE = /^([A-Za-z]+\.[A-Za-z]+)(?:\s*\|\s*(.*))?$/s;
const QUOTED = /^"((?:[^"\\]|\\.)*)"$/s;

/** Splits a template into text and codes, collecting every problem rather than stopping at the first. */
function scan(src: string): { pieces: Piece[]; errors: string[] } {
  const pieces: Piece[] = [];
  const errors: string[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf(OPEN, i);
    if (open < 0) {
      pieces.push({ text: src.slice(i) });
      break;
    }
    if (open > i) pieces.push({ text: src.slice(i, open) });
    const close = src.indexOf(CLOSE, open + OPEN.length);
    const nextOpen = src.indexOf(OPEN, open + OPEN.length);
    if (close < 0 || (nextOpen >= 0 && nextOpen < close)) {
      errors.push(`unclosed '<$' at position ${open}`);
      i = close < 0 ? src.length : nextOpen;
      continue;
    }
    const inner = src.slice(open + OPEN.length, close).trim();
    i = close + CLOSE.length;
    if (inner === "") {
      errors.push(`empty field code at position ${open}`);
      continue;
    }
    const m = CODE.exec(inner);
    if (!m) {
      errors.push(`invalid field code '${inner}' at position ${open}`);
      continue;
    }
    const code = m[1]!;
    let fallback: string | null = null;
    if (m[2] !== undefined) {
      const q = QUOTED.exec(m[2].trim());
      if (!q) {
        errors.push(`bad fallback for '${code}' at position ${open}: expected a double-quoted string after '|'`);
        continue;
      }
      fallback = q[1]!.replace(/\\(.)/gs, "$1");
    }
    if (!KNOWN.has(code)) errors.push(`unknown field code '${code}'`);
    pieces.push({ code, fallback });
  }
  return { pieces, errors };
}

/** Every problem in a template (unknown codes, unclosed '<$', bad fallbacks); empty if it renders. */
export function templateErrors(src: string): string[] {
  return scan(src).errors;
}

/** The codes a template names (well-formed ones, known or not), each once, in order. */
export function fieldCodesIn(src: string): string[] {
  const out: string[] = [];
  for (const p of scan(src).pieces) if ("code" in p && !out.includes(p.code)) out.push(p.code);
  return out;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

function formatter(v: FieldValues, withTime: boolean): Intl.DateTimeFormat {
  const opts: Intl.DateTimeFormatOptions = { day: "numeric", month: "long", year: "numeric" };
  if (withTime) Object.assign(opts, { hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
  // A bad zone or locale must not stop a customer's mail: fall back to the defaults.
  try {
    return new Intl.DateTimeFormat(v.locale ?? "en-GB", { ...opts, timeZone: v.timeZone ?? "UTC" });
  } catch {
    return new Intl.DateTimeFormat("en-GB", { ...opts, timeZone: "UTC" });
  }
}

const present = (s: string | null | undefined): s is string => typeof s === "string" && s.trim() !== "";

function value(code: FieldCode, v: FieldValues): string | null {
  const c = v.contact;
  switch (code) {
    case "Contact.FirstName": return c?.firstName ?? null;
    case "Contact.LastName": return c?.lastName ?? null;
    case "Contact.FullName": return [c?.firstName, c?.lastName].filter(present).map((s) => s.trim()).join(" ") || null;
    case "Contact.Email": return c?.email ?? null;
    case "Contact.Phone": return c?.phone ?? null;
    case "Interaction.Id": return v.interaction?.id ?? null;
    case "Interaction.Subject": return v.interaction?.subject ?? null;
    case "Interaction.Tag": return v.interaction?.tag ?? null;
    case "Interaction.ReceivedDate": {
      const at = v.interaction?.receivedAt;
      return at === undefined ? null : formatter(v, true).format(at);
    }
    case "Agent.FullName": return v.agent?.fullName ?? null;
    case "Agent.FirstName": return v.agent?.fullName?.trim().split(/\s+/)[0] ?? null;
    case "Tenant.Name": return v.tenant?.name ?? null;
    case "Mailbox.Address": return v.mailbox?.address ?? null;
    case "Date.Today": return formatter(v, false).format(v.now);
    case "Date.Now": return formatter(v, true).format(v.now);
  }
}

/** Renders a template. Throws TemplateError on any problem templateErrors reports. With html, inserted values
 *  are escaped; the template's own text and fallbacks are the author's and go in as written. */
export function renderTemplate(src: string, v: FieldValues, opts?: { html?: boolean }): string {
  const { pieces, errors } = scan(src);
  if (errors.length) throw new TemplateError(errors);
  let out = "";
  for (const p of pieces) {
    if ("text" in p) {
      out += p.text;
      continue;
    }
    const val = value(p.code as FieldCode, v);
    if (present(val)) out += opts?.html ? escapeHtml(val) : val;
    else out += p.fallback ?? "";
  }
  return out;
}
