// Phone numbers, one way everywhere (contacts, forms, callbacks, SMS): E.164 when valid, else null.
// Each caller says in its own words which field was wrong.
import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js";

export function e164(raw: string, defaultCountry?: CountryCode): string | null {
  const p = parsePhoneNumberFromString(raw, defaultCountry);
  return p?.isValid() ? p.number : null;
}
