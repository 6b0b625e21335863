// Meta's webhook signature (WhatsApp, Messenger, Instagram): X-Hub-Signature-256 is "sha256=" and
// the hex HMAC-SHA256 of the raw body keyed with the app secret. Telegram's is a shared secret
// token in a header. Both compared in constant time. Pure (WebCrypto).
import { equalText } from "../kernel/constant-time.ts";

const enc = new TextEncoder();
const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");

export async function hubSignature(secret: string, body: Uint8Array): Promise<string> {
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return `sha256=${hex(await crypto.subtle.sign("HMAC", key, body))}`;
}

export async function hubSignatureValid(secret: string, body: Uint8Array, header: string | null): Promise<boolean> {
  if (!header || !/^sha256=[0-9a-f]{64}$/i.test(header)) return false;
  return equalText(await hubSignature(secret, body), header.toLowerCase());
}

/** Two secrets of any length, compared by their digests so neither length nor content leaks. */
export async function sameSecret(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([crypto.subtle.digest("SHA-256", enc.encode(a)), crypto.subtle.digest("SHA-256", enc.encode(b))]);
  return equalText(hex(x), hex(y));
}
