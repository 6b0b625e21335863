// Normalizing contact identifiers. Pure. Identification ranks email, then phone, then name.
import type { CountryCode } from "libphonenumber-js";
import { badRequest, fail } from "../kernel/errors.ts";
import { e164 } from "../kernel/phone.ts";

export interface ContactInput {
  email?: string;
  phone?: string;
  firstName?: string;
  lastName?: string;
  name?: string;
}

export interface Identifier {
  kind: "email" | "phone" | "name";
  value: string;
  display: string;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function normalizePhone(raw: string, defaultCountry?: CountryCode): string {
  return e164(raw, defaultCountry) ?? fail(badRequest("invalid_phone", `contact.phone: '${raw}' is not a valid phone number (use E.164, like +14155550100)`));
}

export function splitName(c: ContactInput): { first?: string; last?: string; full?: string } {
  const first = c.firstName?.trim() || undefined;
  const last = c.lastName?.trim() || undefined;
  if (first || last) return { first, last, full: [first, last].filter(Boolean).join(" ") };
  const full = c.name?.trim().replace(/\s+/g, " ");
  if (!full) return {};
  const at = full.lastIndexOf(" ");
  return at < 0 ? { first: full, full } : { first: full.slice(0, at), last: full.slice(at + 1), full };
}

/** Identifiers in rank order: email, phone, name. */
export function identifiersOf(c: ContactInput): Identifier[] {
  const out: Identifier[] = [];
  if (c.email) {
    const e = c.email.trim();
    if (!EMAIL.test(e)) throw badRequest("invalid_email", `contact.email: '${c.email}' is not an email address`);
    out.push({ kind: "email", value: e.toLowerCase(), display: e });
  }
  if (c.phone) out.push({ kind: "phone", value: normalizePhone(c.phone), display: c.phone.trim() });
  const n = splitName(c);
  if (n.full) out.push({ kind: "name", value: n.full.toLowerCase(), display: n.full });
  return out;
}
