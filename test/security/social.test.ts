// Attacks on the social doors (issue 15): forged, missing and replayed signatures; an unknown
// account probed for existence; another tenant's secret; bodies that are malformed, oversized, not
// UTF-8, deeply nested or carry thousands of events; a reflected handshake challenge; a config that
// would send a tenant's token to an internal or plain-http host, or claim another tenant's account;
// and agents of another tenant or outside the chat. Each test names the attack and the answer.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { chatStub } from "../../durable-objects/names.ts";
import { hubSignature } from "../../workers/social/signature.ts";
import { tenv, makeTenant, offerFor, post, ready } from "../helpers.ts";
import { signedPost, socialRows, socialTenant, telegramPost, waBody, waText } from "../social-helpers.ts";

const wa = (body: string | Uint8Array, headers: Record<string, string>) => exports.default.fetch(new Request("http://parley.test/api/v1/social/whatsapp", { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body }));
const nothingStored = async (id: string) => (await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM social_messages WHERE tenant_id = ?").bind(id).first<{ n: number }>())!.n;

describe("social webhooks under attack", () => {
  it("answers an unknown number exactly as a known number with a bad signature: 403, the same body", async () => {
    const t = await socialTenant();
    const known = await signedPost("/api/v1/social/whatsapp", waBody(t.phoneNumberId, [waText("wamid.X", "hi", Date.now())]), "guess");
    const unknown = await signedPost("/api/v1/social/whatsapp", waBody("999000111222333", [waText("wamid.X", "hi", Date.now())]), "guess");
    expect([known.status, unknown.status]).toEqual([403, 403]);
    expect(await known.json()).toEqual(await unknown.json());
    const unsigned = await wa(JSON.stringify(waBody(t.phoneNumberId, [])), {});
    expect(unsigned.status).toBe(403);
    const badFormat = await wa(JSON.stringify(waBody(t.phoneNumberId, [])), { "X-Hub-Signature-256": "sha1=abc" });
    expect(badFormat.status).toBe(403);
    expect(await nothingStored(t.id)).toBe(0);
  });

  it("refuses a body signed with another tenant's app secret for this tenant's number", async () => {
    const victim = await socialTenant({}, "victim-secret");
    await socialTenant({}, "attacker-secret");
    const res = await signedPost("/api/v1/social/whatsapp", waBody(victim.phoneNumberId, [waText("wamid.EVIL", "pay here", Date.now())]), "attacker-secret");
    expect(res.status).toBe(403);
    expect(await nothingStored(victim.id)).toBe(0);
  });

  it("takes only the entries of the account whose secret signed, when a body names two tenants' numbers", async () => {
    const a = await socialTenant({}, "secret-a");
    const b = await socialTenant({}, "secret-b");
    const body = waBody(a.phoneNumberId, [waText("wamid.MIX1", "to a", Date.now())]);
    const entryB = waBody(b.phoneNumberId, [waText("wamid.MIX2", "smuggled into b", Date.now())]).entry as unknown[];
    (body.entry as unknown[]).push(...entryB);
    const res = await signedPost("/api/v1/social/whatsapp", body, "secret-a");
    expect(await res.json()).toMatchObject({ received: 1, ignored: 1 });
    expect(await nothingStored(b.id)).toBe(0);
    expect(await nothingStored(a.id)).toBe(1);
  });

  it("gives 400 for a signed but malformed envelope, not UTF-8, deeply nested, or with thousands of events; stores nothing", async () => {
    const t = await socialTenant();
    const id = t.phoneNumberId;
    const signed = async (raw: string | Uint8Array) => {
      const bytes = typeof raw === "string" ? new TextEncoder().encode(raw) : raw;
      return wa(bytes, { "X-Hub-Signature-256": await hubSignature("meta-app-secret-7c1e9a", bytes) });
    };
    const answers = [
      await signed(`{"entry":"not a list","phone_number_id":"${id}"}`),
      await signed(`{"entry":[{"changes":[{"value":{"metadata":{"phone_number_id":"${id}"},"messages":[{"type":"text"}]}}]}]}`),
      await signed(new Uint8Array([...new TextEncoder().encode(`{"phone_number_id":"${id}","x":"`), 0xff, 0xfe, 0x22, 0x7d])),
      await signed(`{"phone_number_id":"${id}","deep":${"[".repeat(100_000)}${"]".repeat(100_000)}}`),
      await signed(JSON.stringify(waBody(id, Array.from({ length: 1001 }, (_, i) => waText(`wamid.F${i}`, "flood", Date.now()))))),
    ];
    for (const r of answers) {
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: { code: string } }).error.code).toMatch(/malformed_envelope|invalid_json/);
    }
    expect(await nothingStored(t.id)).toBe(0);
  });

  it("refuses a body over 3 MB with 413, before reading it whole", async () => {
    const t = await socialTenant();
    const big = JSON.stringify(waBody(t.phoneNumberId, [waText("wamid.BIG", "x".repeat(3 * 1024 * 1024), Date.now())]));
    const r = await wa(big, { "X-Hub-Signature-256": await hubSignature("meta-app-secret-7c1e9a", new TextEncoder().encode(big)) });
    expect(r.status).toBe(413);
    const tg = await exports.default.fetch(new Request(`http://parley.test/api/v1/social/telegram/${t.botId}`, { method: "POST", headers: { "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "tg-hook-secret-0a9b" }, body: `{"update_id":1,"x":"${"y".repeat(3 * 1024 * 1024)}"}` }));
    expect(tg.status).toBe(413);
    expect(await nothingStored(t.id)).toBe(0);
  });

  it("never echoes a handshake challenge that could be markup", async () => {
    await socialTenant();
    const r = await exports.default.fetch(new Request("http://parley.test/api/v1/social/whatsapp?hub.mode=subscribe&hub.verify_token=verify-me-3b8d&hub.challenge=%3Cscript%3Ealert(1)%3C/script%3E"));
    expect(r.status).toBe(400);
    expect(await r.text()).not.toContain("<script>");
  });

  it("gives a malformed Telegram update 400 once the secret token is right, and replays nothing twice", async () => {
    const t = await socialTenant();
    expect((await telegramPost(t, { message: { text: "no update id" } })).status).toBe(400);
    const u = { update_id: 7, message: { message_id: 1, chat: { id: 5 }, from: { id: 5, first_name: "R" }, date: Math.floor(Date.now() / 1000), text: "once" } };
    await telegramPost(t, u);
    await telegramPost(t, u);
    expect(await socialRows(t, "in")).toHaveLength(1);
  });
});

describe("social settings and the agent's side under attack", () => {
  it("refuses an apiBase on plain http, an internal name or an IP address, and another tenant's account", async () => {
    const first = await socialTenant();
    const bad = async (apiBase: string) => {
      try {
        await socialTenantWith({ apiBase });
        return null;
      } catch (e) {
        return String(e);
      }
    };
    expect(await bad("http://graph.facebook.com/v21.0")).toMatch(/https/);
    expect(await bad("https://metadata.internal/v1")).toMatch(/internal/);
    expect(await bad("https://169.254.169.254/latest")).toMatch(/IP address/);
    await expect(
      makeTenant([{ id: "x" }], undefined, { social: { whatsapp: [{ phoneNumberId: first.phoneNumberId, number: "+15550002222", workflow: "main", appSecret: "s", verifyToken: "s", token: "s" }] } }, { secrets: { s: "v" } }),
    ).rejects.toThrow(/belongs to another tenant/);
  });

  it("keeps a template send to the agent in the chat, and another tenant's agent out of its messages", async () => {
    const t = await socialTenant();
    await ready(t, "ana");
    await signedPost("/api/v1/social/whatsapp", waBody(t.phoneNumberId, [waText("wamid.Q", "hello", Date.now())]));
    const id = (await socialRows(t, "in"))[0]!.interaction_id;
    const other = await socialTenant();
    expect((await other.api(`/api/v1/interactions/${id}/social`, { as: "ana" })).status).toBe(404);
    // Not yet accepted: ana is not in the chat, so she sends nothing in it.
    expect((await t.api(`/api/v1/chats/${id}/template`, { method: "POST", as: "ana", json: { name: "follow_up", clientId: "tpl-evil01" } })).status).toBe(403);
    await offerFor(t, "ana", id);
    await post(t, `/api/v1/interactions/${id}/accept`, "ana");
    expect((await t.api(`/api/v1/chats/${id}/template`, { method: "POST", as: "ana", json: { name: "no_such", clientId: "tpl-evil02" } })).status).toBe(404);
    expect(unwrapOk(await chatStub(await tenv(t.id), t.id, id).state()).social?.channel).toBe("whatsapp");
  });
});

function unwrapOk<T>(r: { ok: true; value: T } | { ok: false }): T {
  if (!r.ok) throw new Error("not ok");
  return r.value;
}

async function socialTenantWith(over: { apiBase: string }) {
  return makeTenant([{ id: "x" }], undefined, { social: { telegram: [{ botId: String(Date.now()).slice(-9), workflow: "main", token: "s", webhookSecret: "s", apiBase: over.apiBase }] } }, { secrets: { s: "v" } });
}
