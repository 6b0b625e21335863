// Twilio's request signature: HMAC-SHA1, keyed with the account's auth token, over the full public URL
// followed by each POST parameter's name and value, by name (a repeated name: its distinct values,
// sorted); base64. Pure (WebCrypto), and checked against the twilio package's own helpers in tests.
// https://www.twilio.com/docs/usage/security#validating-requests
import { equalText } from "../kernel/constant-time.ts";

const enc = new TextEncoder();

/** Form fields as received: a name may repeat. */
export type FormParams = [string, string][];

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export async function twilioSignature(authToken: string, url: string, params: FormParams): Promise<string> {
  const grouped = new Map<string, Set<string>>();
  for (const [k, v] of params) grouped.set(k, (grouped.get(k) ?? new Set()).add(v));
  let data = url;
  for (const k of [...grouped.keys()].sort(byCodeUnit)) {
    const values = [...grouped.get(k)!];
    for (const v of values.length > 1 ? values.sort(byCodeUnit) : values) data += k + v;
  }
  const key = await crypto.subtle.importKey("raw", enc.encode(authToken), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(data)));
  let bin = "";
  for (const b of mac) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** The URL as Twilio may have signed it: as configured, and with or without the scheme's default port. */
function urlForms(url: string): string[] {
  const u = new URL(url);
  const port = u.protocol === "https:" ? "443" : "80";
  const withPort = u.port ? url : url.replace(`//${u.host}`, `//${u.hostname}:${port}`);
  const withoutPort = u.port === port ? url.replace(`//${u.host}`, `//${u.hostname}`) : url;
  return [...new Set([url, withPort, withoutPort])];
}

/** Whether the X-Twilio-Signature header is right for this URL and these fields (constant-time per candidate). */
export async function checkTwilioSignature(authToken: string, url: string, params: FormParams, header: string | null): Promise<boolean> {
  if (!header) return false;
  for (const candidate of urlForms(url)) if (equalText(await twilioSignature(authToken, candidate, params), header)) return true;
  return false;
}
