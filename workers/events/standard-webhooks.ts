// Standard Webhooks (https://www.standardwebhooks.com): the secret (`whsec_` + base64 of the key),
// the signature header (`v1,` + base64 HMAC-SHA256 of "{id}.{timestamp}.{body}", several separated by
// spaces while a rotation overlaps), and the retry schedule. Pure (WebCrypto).

const enc = new TextEncoder();
const b64 = (b: ArrayBuffer | Uint8Array) => btoa(String.fromCharCode(...new Uint8Array(b)));

export function newWebhookSecret(): string {
  return `whsec_${b64(crypto.getRandomValues(new Uint8Array(24)))}`;
}

/** Imported keys by secret, per isolate: a pass signs hundreds of events with one. */
const keys = new Map<string, Promise<CryptoKey>>();

function keyOf(secret: string): Promise<CryptoKey> {
  let k = keys.get(secret);
  if (!k) {
    const raw = Uint8Array.from(atob(secret.replace(/^whsec_/, "")), (c) => c.charCodeAt(0));
    k = crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    if (keys.size > 1000) keys.clear();
    keys.set(secret, k);
  }
  return k;
}

export async function signWebhook(secret: string, id: string, timestamp: number, body: string): Promise<string> {
  const key = await keyOf(secret);
  return `v1,${b64(await crypto.subtle.sign("HMAC", key, enc.encode(`${id}.${timestamp}.${body}`)))}`;
}

/** Seconds to wait before attempt n+1 after n failures: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; then no more. */
export const RETRY_SCHEDULE_S = [0, 5, 300, 1800, 7200, 18000, 36000, 36000] as const;

/** When to try again after `attempts` failures, honouring a Retry-After (seconds, capped at a day); null: give up. */
export function nextAttempt(attempts: number, now: number, retryAfter: string | null): number | null {
  if (attempts >= RETRY_SCHEDULE_S.length) return null;
  const scheduled = RETRY_SCHEDULE_S[attempts]! * 1000;
  const asked = retryAfter && /^\d{1,6}$/.test(retryAfter) ? Math.min(Number(retryAfter), 86400) * 1000 : 0;
  return now + Math.max(scheduled, asked);
}

/** An endpoint failing this long is disabled and the tenant's admins are told. */
export const DISABLE_AFTER_MS = 5 * 86400_000;
