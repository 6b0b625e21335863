// A tenant's secrets at rest: AES-256-GCM under a key derived (HKDF-SHA-256) from the platform's
// SECRETS_KEY with the tenant id in the info, so each tenant has its own key; the tenant id and the
// secret's name are the additional data, so a row copied to another tenant or name does not open.
// Pure (WebCrypto only): the Worker and the local scripts (Node 22) seal the same way.

/** Shortest platform key accepted: this many bytes once decoded from hex or base64 (256 bits). */
export const MIN_SECRETS_KEY_BYTES = 32;
/** Fewest distinct byte values a key's bytes must hold: 32 random bytes hold ~30, so a key below
 *  this (a repeated character or pattern) was typed, not generated. */
export const MIN_SECRETS_KEY_DISTINCT_BYTES = 16;
/** How to make a key that passes: what the errors suggest. */
export const SECRETS_KEY_HINT = "make one with `openssl rand -hex 32`";
/** A secret's value, at most (characters): tokens and passwords, not documents. */
export const MAX_SECRET_CHARS = 4096;
/** Secrets one tenant may keep: a few per provider account is the need. */
export const MAX_SECRETS_PER_TENANT = 100;

export interface Sealed {
  /** base64 of the AES-GCM ciphertext and tag. */
  ciphertext: string;
  /** base64 of the 12-byte nonce, fresh for each seal. */
  iv: string;
}

const enc = new TextEncoder();
const SALT = enc.encode("parley/tenant-secrets/v1");

const b64 = (bytes: Uint8Array): string => {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
};
const unb64 = (s: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

export class SecretsKeyError extends Error {}

/** A key's bytes, decoded from hex or from standard base64 (padded or not; what `openssl rand
 *  -hex 32` and `-base64 32` print), or null. Not URL-safe base64: a dashed phrase would pass as it. */
function keyBytes(key: string): Uint8Array | null {
  if (/^(?:[0-9a-fA-F]{2})+$/.test(key)) return Uint8Array.from(key.match(/../g)!, (h) => Number.parseInt(h, 16));
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key)) return null;
  const std = key.replace(/=+$/, "");
  if (std.length % 4 === 1) return null;
  try {
    return unb64(std + "=".repeat((4 - (std.length % 4)) % 4));
  } catch {
    return null;
  }
}

/** Why this can't be the platform key, or null when it can: at least MIN_SECRETS_KEY_BYTES bytes
 *  given as hex or base64, with some variety (so 32 × 'a' is refused, as is 'ab' × 32). */
export function secretsKeyProblem(key: string): string | null {
  const bytes = keyBytes(key.trim());
  if (!bytes) return `SECRETS_KEY must be hex or base64 of ${MIN_SECRETS_KEY_BYTES}+ random bytes (${SECRETS_KEY_HINT})`;
  if (bytes.length < MIN_SECRETS_KEY_BYTES) return `SECRETS_KEY holds ${bytes.length} bytes; it needs ${MIN_SECRETS_KEY_BYTES}+ random bytes (${SECRETS_KEY_HINT})`;
  if (new Set(bytes).size < MIN_SECRETS_KEY_DISTINCT_BYTES) return `SECRETS_KEY repeats itself (${new Set(bytes).size} distinct bytes); it must be random (${SECRETS_KEY_HINT})`;
  return null;
}

/** Derived keys, per isolate: a webhook opens its number's secret without deriving again. Keyed by
 *  the platform key too, so a rotated SECRETS_KEY is never served from here. Non-extractable. */
const derived = new Map<string, CryptoKey>();
const MAX_DERIVED = 1000;

async function tenantKey(platformKey: string, tenantId: string): Promise<CryptoKey> {
  const id = `${platformKey}\u0000${tenantId}`;
  const hit = derived.get(id);
  if (hit) return hit;
  const problem = secretsKeyProblem(platformKey);
  if (problem) throw new SecretsKeyError(problem);
  const ikm = await crypto.subtle.importKey("raw", enc.encode(platformKey), "HKDF", false, ["deriveKey"]);
  const key = await crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: SALT, info: enc.encode(`tenant:${tenantId}`) }, ikm, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  if (derived.size >= MAX_DERIVED) derived.clear();
  derived.set(id, key);
  return key;
}

const aad = (tenantId: string, name: string) => enc.encode(`${tenantId}\u0000${name}`);

export async function sealSecret(platformKey: string, tenantId: string, name: string, value: string): Promise<Sealed> {
  const key = await tenantKey(platformKey, tenantId);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad(tenantId, name) }, key, enc.encode(value));
  return { ciphertext: b64(new Uint8Array(ct)), iv: b64(iv) };
}

/** The value, or undefined when the row does not open (another key, tenant or name; tampered). */
export async function openSecret(platformKey: string, tenantId: string, name: string, sealed: Sealed): Promise<string | undefined> {
  const key = await tenantKey(platformKey, tenantId);
  try {
    const pt = await crypto.subtle.decrypt({ name: "AES-GCM", iv: unb64(sealed.iv), additionalData: aad(tenantId, name) }, key, unb64(sealed.ciphertext));
    return new TextDecoder().decode(pt);
  } catch {
    return undefined;
  }
}
