// Who sent an SMS or MMS, read the same way on every door (Twilio, generic, MM7). Relays often write
// a number without its "+" (MM7's <Number>14155550177</Number>), or in national format: each is read
// leniently, with the receiving number's country as the default, so a STOP, the contact and the
// agent's reply all meet on one E.164 number. Short codes and alphanumeric sender ids stay as sent.
// Pure: no bindings.
import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js";

/** Carrier short codes: 3 to 8 digits. */
const SHORT_CODE = /^\d{3,8}$/;
/** Alphanumeric sender ids (GSM 03.38's 11 characters), with at least one letter. */
const SENDER_ID = /^(?=.*[A-Za-z])[A-Za-z0-9 ._&-]{1,11}$/;

export interface Sender {
  /** E.164 when `phone`, else the short code or sender id as sent (trimmed). */
  number: string;
  phone: boolean;
}

/** The sender's number, or null when `raw` is neither a phone number, a short code nor a sender id. */
export function senderNumber(raw: string, center: string): Sender | null {
  const s = raw.trim().replace(/^(tel|sms):/i, "");
  if (!s || s.length > 40) return null;
  const country: CountryCode | undefined = parsePhoneNumberFromString(center)?.country;
  const digits = s.replace(/[\s().-]/g, "");
  // As written with the center's country (national numbers, and its own code without "+"), then the
  // digits as an international number ("00…" or bare, as MM7 relays write them).
  const candidates = [s];
  if (/^00[1-9]\d{6,14}$/.test(digits)) candidates.push(`+${digits.slice(2)}`);
  else if (/^[1-9]\d{6,14}$/.test(digits)) candidates.push(`+${digits}`);
  for (const c of candidates) {
    const p = parsePhoneNumberFromString(c, country);
    if (p?.isValid()) return { number: p.number, phone: true };
  }
  if (SHORT_CODE.test(s) || SENDER_ID.test(s)) return { number: s, phone: false };
  return null;
}
