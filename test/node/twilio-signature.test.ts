// Our Twilio signature check against the twilio package's own helpers (a devDependency for this test
// only): what Twilio signs, we accept; anything changed, we refuse. Runs in Node (vitest.node.config.ts):
// the twilio package needs Node's crypto.
import { timingSafeEqual } from "node:crypto";
import twilio from "twilio";
import { describe, expect, it } from "vitest";
import { checkTwilioSignature, twilioSignature, type FormParams } from "../../workers/sms/twilio-signature.ts";

// workerd has crypto.subtle.timingSafeEqual, which the signature check uses; Node has it in node:crypto.
(crypto.subtle as SubtleCrypto & { timingSafeEqual?: (a: ArrayBufferView, b: ArrayBufferView) => boolean }).timingSafeEqual ??= (a, b) => timingSafeEqual(a, b);

const TOKEN = "12345678901234567890123456789012";
const URL = "https://parley.example.com/api/v1/sms/twilio";
const asObject = (p: FormParams) => {
  const o: Record<string, string | string[]> = {};
  for (const [k, v] of p) o[k] = k in o ? ([] as string[]).concat(o[k]!, v) : v;
  return o;
};

const inbound: FormParams = [
  ["MessageSid", "SM0123456789abcdef0123456789abcdef"],
  ["AccountSid", "AC0123456789abcdef0123456789abcdef"],
  ["From", "+14155550123"],
  ["To", "+14155550100"],
  ["Body", "Grüße — is my order 👍 shipped? & <b>now</b>"],
  ["NumMedia", "2"],
  ["MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"],
  ["MediaContentType0", "image/jpeg"],
  ["MediaUrl1", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2"],
  ["MediaContentType1", "application/pdf"],
];

describe("Twilio request signatures", () => {
  it("computes what the twilio package computes", async () => {
    for (const [url, params] of [
      [URL, inbound],
      [`${URL}?tenant=demo`, inbound],
      [URL, []],
      [URL, [["b", "2"], ["a", "1"], ["a", "0"], ["a", "1"], ["A", "x"]]],
    ] as [string, FormParams][]) {
      expect(await twilioSignature(TOKEN, url, params)).toBe(twilio.getExpectedTwilioSignature(TOKEN, url, asObject(params)));
    }
  });

  it("accepts what Twilio signed, with or without the default port, and refuses anything changed", async () => {
    const signed = twilio.getExpectedTwilioSignature(TOKEN, URL, asObject(inbound));
    expect(twilio.validateRequest(TOKEN, signed, URL, asObject(inbound))).toBe(true);
    expect(await checkTwilioSignature(TOKEN, URL, inbound, signed)).toBe(true);
    const withPort = twilio.getExpectedTwilioSignature(TOKEN, "https://parley.example.com:443/api/v1/sms/twilio", asObject(inbound));
    expect(await checkTwilioSignature(TOKEN, URL, inbound, withPort)).toBe(true);
    // Forged: another body, another token, another URL, no header.
    const tampered = inbound.map(([k, v]) => [k, k === "Body" ? "Refund me $1000" : v] as [string, string]);
    expect(await checkTwilioSignature(TOKEN, URL, tampered, signed)).toBe(false);
    expect(await checkTwilioSignature("another-token-another-token-0000", URL, inbound, signed)).toBe(false);
    expect(await checkTwilioSignature(TOKEN, `${URL}x`, inbound, signed)).toBe(false);
    expect(await checkTwilioSignature(TOKEN, URL, inbound, null)).toBe(false);
    expect(await checkTwilioSignature(TOKEN, URL, inbound, `${signed.slice(0, -2)}AA`)).toBe(false);
  });
});
