// The generic SMS adapter's signature: HMAC-SHA256, keyed with the number's secret, over
// "{timestamp}.{raw body}", hex, sent as `X-Parley-Signature: sha256=<hex>` with
// `X-Parley-Timestamp: <unix seconds>`. The timestamp bounds replays to five minutes. Pure (WebCrypto).
import { equalText } from "../kernel/constant-time.ts";

const enc = new TextEncoder();
export const MAX_SKEW_SECONDS = 300;

export async function genericSignature(secret: string, timestamp: string, body: Uint8Array): Promise<string> {
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const prefix = enc.encode(`${timestamp}.`);
  const data = new Uint8Array(prefix.length + body.length);
  data.set(prefix);
  data.set(body, prefix.length);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
  return `sha256=${[...mac].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export async function checkGenericSignature(secret: string, timestamp: string | null, header: string | null, body: Uint8Array, now = Date.now()): Promise<"ok" | "stale" | "invalid"> {
  if (!timestamp || !header || !/^\d{1,12}$/.test(timestamp)) return "invalid";
  if (!equalText(await genericSignature(secret, timestamp, body), header)) return "invalid";
  return Math.abs(now / 1000 - Number(timestamp)) > MAX_SKEW_SECONDS ? "stale" : "ok";
}
