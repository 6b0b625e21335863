// Tenant secrets at rest (issue 12, item 1): sealed per tenant, bound to tenant and name. Pure.
import { describe, expect, it } from "vitest";
import { MIN_SECRETS_KEY_BYTES, openSecret, sealSecret, secretsKeyProblem, SecretsKeyError } from "../../workers/secrets/crypto.ts";

const hex = (n: number) => Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16).padStart(2, "0")).join("");
const b64 = (n: number) => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(n))));
const KEY = hex(32);

describe("tenant secret sealing", () => {
  it("opens what it sealed, with a fresh nonce each time, and shows no plaintext", async () => {
    const a = await sealSecret(KEY, "acme", "twilio", "token-123");
    const b = await sealSecret(KEY, "acme", "twilio", "token-123");
    expect(a.iv).not.toBe(b.iv);
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(JSON.stringify(a)).not.toContain("token-123");
    expect(await openSecret(KEY, "acme", "twilio", a)).toBe("token-123");
  });

  it("does not open under another tenant, another name, another platform key, or when tampered", async () => {
    const s = await sealSecret(KEY, "acme", "twilio", "token-123");
    expect(await openSecret(KEY, "other", "twilio", s)).toBeUndefined();
    expect(await openSecret(KEY, "acme", "mail", s)).toBeUndefined();
    expect(await openSecret(hex(32), "acme", "twilio", s)).toBeUndefined();
    const bytes = Uint8Array.from(atob(s.ciphertext), (c) => c.charCodeAt(0));
    bytes[0]! ^= 1;
    expect(await openSecret(KEY, "acme", "twilio", { ...s, ciphertext: btoa(String.fromCharCode(...bytes)) })).toBeUndefined();
  });

  it("refuses a platform key shorter than MIN_SECRETS_KEY_BYTES", async () => {
    await expect(sealSecret("short", "acme", "twilio", "v")).rejects.toBeInstanceOf(SecretsKeyError);
  });

  // Review follow-up 5: the length was counted in characters, so 32 × 'a' was a key.
  it("takes only a key of MIN_SECRETS_KEY_BYTES random bytes, as hex or base64; refuses long but guessable keys", async () => {
    expect(MIN_SECRETS_KEY_BYTES).toBe(32);
    for (const good of [hex(32), hex(48), b64(32), b64(32).replace(/=+$/, "")]) expect(secretsKeyProblem(good), good).toBeNull();
    for (const bad of ["a".repeat(32), "a".repeat(64), "ab".repeat(32), "0123456789abcdef".repeat(4), hex(16), b64(16), "test-secrets-key-not-for-production-0123456789abcdef", "correct horse battery staple and then some more words"]) {
      expect(secretsKeyProblem(bad), bad).toMatch(/SECRETS_KEY/);
      await expect(sealSecret(bad, "acme", "twilio", "v"), bad).rejects.toBeInstanceOf(SecretsKeyError);
    }
  });
});
