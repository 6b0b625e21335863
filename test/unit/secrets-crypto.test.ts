// Tenant secrets at rest (issue 12, item 1): sealed per tenant, bound to tenant and name. Pure.
import { describe, expect, it } from "vitest";
import { MIN_SECRETS_KEY_CHARS, openSecret, sealSecret, SecretsKeyError } from "../../workers/secrets/crypto.ts";

const KEY = "k".repeat(MIN_SECRETS_KEY_CHARS);

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
    expect(await openSecret("x".repeat(MIN_SECRETS_KEY_CHARS), "acme", "twilio", s)).toBeUndefined();
    const bytes = Uint8Array.from(atob(s.ciphertext), (c) => c.charCodeAt(0));
    bytes[0]! ^= 1;
    expect(await openSecret(KEY, "acme", "twilio", { ...s, ciphertext: btoa(String.fromCharCode(...bytes)) })).toBeUndefined();
  });

  it("refuses a platform key shorter than MIN_SECRETS_KEY_CHARS", async () => {
    await expect(sealSecret("short", "acme", "twilio", "v")).rejects.toBeInstanceOf(SecretsKeyError);
  });
});
