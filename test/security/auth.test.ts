// Attacks on the doors themselves: oversized streamed bodies, password guessing, weak passwords,
// response headers, and what an ingest or read key can reach (issue 12, items 4, 5 and 10).
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_FORM_BYTES } from "../../workers/forms/body.ts";
import { MAX_JSON_BYTES } from "../../workers/http/api.ts";
import { MAX_MAIL_BYTES } from "../../workers/email/inbound.ts";
import { makeTenant } from "../helpers.ts";

const CHUNK = 64 * 1024;

/** A body with no Content-Length that would be `total` bytes, counting how many chunks were pulled from it. */
function chunked(total: number, byte = 0x20): { body: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  const chunk = new Uint8Array(CHUNK).fill(byte);
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (pulled * CHUNK >= total) return c.close();
      pulled++;
      c.enqueue(chunk.slice());
    },
  }, { highWaterMark: 0 });
  return { body, pulled: () => pulled };
}

const TOTAL = 32 * 1024 * 1024; // 512 chunks: far past every limit below
/** Pulled before the 413: the limit plus what the runtime may read ahead, never the whole stream. */
const pulledWithin = (limit: number) => Math.ceil(limit / CHUNK) + 32;

async function post(path: string, s: ReturnType<typeof chunked>, headers: Record<string, string>): Promise<Response> {
  return exports.default.fetch(new Request(`http://parley.test${path}`, { method: "POST", body: s.body, headers: { "CF-Connecting-IP": "203.0.113.9", ...headers } }));
}

async function refused413(res: Response) {
  expect(res.status).toBe(413);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe("payload_too_large");
}

describe("item 4: a chunked body is refused at its limit, not buffered whole", () => {
  it("a chunked 32 MiB JSON body to the public login gets 413 after about 1 MiB", async () => {
    const s = chunked(TOTAL);
    expect(s.body).toBeInstanceOf(ReadableStream);
    await refused413(await post("/api/v1/auth/login", s, { "Content-Type": "application/json" }));
    expect(s.pulled()).toBeLessThan(pulledWithin(MAX_JSON_BYTES));
  });

  it("a chunked 32 MiB JSON body to the ingest gets 413 after about 1 MiB", async () => {
    const t = await makeTenant([{ id: "a" }]);
    const s = chunked(TOTAL);
    await refused413(await post("/api/v1/interactions", s, { "Content-Type": "application/json", Authorization: `Bearer ${t.key}` }));
    expect(s.pulled()).toBeLessThan(pulledWithin(MAX_JSON_BYTES));
  });

  it("a chunked body to a public form gets 413 at the form limit", async () => {
    const t = await makeTenant([{ id: "a" }], undefined, {
      forms: [{ name: "contact", workflow: "main", title: "Contact", fields: [{ name: "message", label: "Message", type: "textarea", required: true }] }],
    });
    const s = chunked(64 * 1024 * 1024);
    await refused413(await post(`/api/v1/forms/${t.id}.contact`, s, { "Content-Type": "application/x-www-form-urlencoded" }));
    expect(s.pulled()).toBeLessThan(pulledWithin(MAX_FORM_BYTES));
  });

  it("a chunked body to the generic SMS webhook gets 413", async () => {
    const s = chunked(TOTAL);
    await refused413(await post("/api/v1/sms/generic", s, { "Content-Type": "application/json", "X-Parley-Signature": "sha256=00" }));
    expect(s.pulled()).toBeLessThan(TOTAL / CHUNK / 2);
  });

  it("a chunked body to the raw-mail ingest gets 413 past 25 MiB, not after the whole stream", async () => {
    const t = await makeTenant([{ id: "a" }]);
    const s = chunked(64 * 1024 * 1024);
    await refused413(await post("/api/v1/email/inbound", s, { "Content-Type": "message/rfc822", Authorization: `Bearer ${t.key}` }));
    expect(s.pulled()).toBeLessThan(pulledWithin(MAX_MAIL_BYTES));
  });

  it("a mail whose stream is longer than its announced size is refused by email() at the limit", async () => {
    const { handleEmail } = await import("../../workers/email/handler.ts");
    const t = await makeTenant([{ id: "a" }], undefined, { mailboxes: [{ address: `box-${Date.now()}@t.parley.test`, workflow: "main" }] });
    const cfg = await env.DB.prepare("SELECT address FROM mailbox_routes WHERE tenant_id = ?").bind(t.id).first<{ address: string }>();
    const s = chunked(64 * 1024 * 1024, 0x41);
    let rejected = "";
    const message = {
      from: "x@example.com", to: cfg!.address, raw: s.body, rawSize: 100, headers: new Headers(),
      setReject: (r: string) => void (rejected = r), forward: async () => ({ messageId: "" }), reply: async () => ({ messageId: "" }),
    } as unknown as ForwardableEmailMessage;
    await handleEmail(message, env);
    expect(rejected).toMatch(/too large/i);
    expect(s.pulled()).toBeLessThan(pulledWithin(MAX_MAIL_BYTES));
  });
});
