// The generic SMS adapter: JSON signed with HMAC-SHA256 and a timestamp; the same core as Twilio's.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { genericSignature } from "../../workers/sms/generic-signature.ts";
import { makeTenant } from "../helpers.ts";

const SECRET = "tenant-own-generic-secret-8f2d";
let n = 0;

async function genericTenant() {
  const number = `+1312555${String(1000 + (Date.now() % 8000) + n++).padStart(4, "0")}`;
  const t = await makeTenant([{ id: "ana", capacity: { sms: 1 } }], undefined, { numbers: [{ number, provider: "generic", mode: "paging", workflow: "main", secret: "generic" }] }, { secrets: { generic: SECRET } });
  return Object.assign(t, { number });
}

async function send(body: unknown, opts: { secret?: string; at?: number; raw?: string } = {}) {
  const raw = new TextEncoder().encode(opts.raw ?? JSON.stringify(body));
  const ts = String(Math.floor((opts.at ?? Date.now()) / 1000));
  return exports.default.fetch(
    new Request("http://parley.test/api/v1/sms/generic", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Parley-Timestamp": ts, "X-Parley-Signature": await genericSignature(opts.secret ?? SECRET, ts, raw) },
      body: raw,
    }),
  );
}

describe("generic SMS adapter", () => {
  it("takes a signed message once per id, and answers keywords with the reply to send", async () => {
    const t = await genericTenant();
    const m = { id: "g-1", from: "+13125550199", to: t.number, text: "Where is my refund?" };
    const first = await send(m);
    expect(first.status).toBe(200);
    const a = await first.json<{ interactionId: string; duplicate: boolean }>();
    expect(a.duplicate).toBe(false);
    expect(await (await send(m)).json()).toEqual({ interactionId: a.interactionId, duplicate: true });
    const stop = await (await send({ ...m, id: "g-2", text: "stop" })).json<{ keyword: string; reply: string }>();
    expect(stop).toMatchObject({ keyword: "opt_out", reply: expect.stringContaining("unsubscribed") });
    expect((await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM sms_opt_outs WHERE tenant_id = ?").bind(t.id).first<{ n: number }>())!.n).toBe(1);
  });

  it("refuses a forged or stale signature (403) and a malformed body (400/415)", async () => {
    const t = await genericTenant();
    const m = { id: "g-3", from: "+13125550199", to: t.number, text: "hi" };
    expect((await send(m, { secret: "wrong" })).status).toBe(403);
    const stale = await send(m, { at: Date.now() - 3600_000 });
    expect(stale.status).toBe(403);
    expect(await stale.json()).toMatchObject({ error: { code: "stale_signature" } });
    const bad = await send({ id: "g-4", from: "+13125550199", to: "5551234", text: "hi" });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { message: "to: an E.164 number" } });
    expect((await send(null, { raw: "{oops" })).status).toBe(400);
    const wrongType = await exports.default.fetch(new Request("http://parley.test/api/v1/sms/generic", { method: "POST", headers: { "Content-Type": "text/plain" }, body: "x" }));
    expect(wrongType.status).toBe(415);
  });
});
