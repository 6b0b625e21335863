// Attacks on CORS and WebSocket upgrades now that routes declare them (issue 13, item 5): a foreign
// origin's preflight and posts, errors that must carry exactly one CORS answer, and upgrades refused
// in a way a browser can read (an error frame and a 4000 + status close), never a body it cannot see.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TenantConfigInput } from "../../workers/config/schema.ts";
import { chatTenant, connect, SHOP, startChat } from "../chat-helpers.ts";
import { makeTenant, ready, upgradeRefusal, uniq } from "../helpers.ts";

const PAGE = "https://shop.example.com";
const form = {
  name: "contact", workflow: "main", title: "Contact", allowedOrigins: [PAGE], thankYouUrl: `${PAGE}/thanks`, rateLimit: { max: 100, perSeconds: 600 },
  fields: [{ name: "email", label: "Email", type: "email", required: true }],
} satisfies NonNullable<TenantConfigInput["forms"]>[number];

const call = (path: string, init: RequestInit = {}) => exports.default.fetch(new Request(`http://parley.test${path}`, init));
const preflight = (path: string, origin: string, method = "POST") => call(path, { method: "OPTIONS", headers: { Origin: origin, "Access-Control-Request-Method": method } });

describe("CORS declared on routes", () => {
  it("answers a preflight from a listed origin with what may be sent, and refuses a foreign one without allowing it", async () => {
    const t = await makeTenant([{ id: "a" }], undefined, { forms: [form] });
    const ok = await preflight(`/api/v1/forms/${t.id}.contact`, PAGE);
    expect(ok.status).toBe(204);
    expect(ok.headers.get("Access-Control-Allow-Origin")).toBe(PAGE);
    expect(ok.headers.get("Access-Control-Allow-Methods")).toContain("POST");
    for (const evil of ["https://evil.example", "null", "https://shop.example.com.evil.example", "http://shop.example.com"]) {
      const no = await preflight(`/api/v1/forms/${t.id}.contact`, evil);
      expect(no.status).toBe(403);
      expect(no.headers.get("Access-Control-Allow-Origin")).toBeNull();
    }
    // A path with no CORS declared has no preflight at all: the method is not allowed.
    expect((await preflight("/api/v1/interactions", PAGE)).status).toBe(405);
  });

  it("refuses a post from a foreign origin before storing anything, with no CORS answer", async () => {
    const t = await makeTenant([{ id: "a" }], undefined, { forms: [form] });
    const res = await call(`/api/v1/forms/${t.id}.contact`, { method: "POST", headers: { Origin: "https://evil.example", "Content-Type": "application/json" }, body: JSON.stringify({ email: "kim@example.com" }) });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("origin_not_allowed");
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
    const stored = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM interactions WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
    expect(stored!.n).toBe(0);
  });

  it("puts exactly one CORS answer on an error to an allowed origin, so the page can read why", async () => {
    const t = await makeTenant([{ id: "a" }], undefined, { forms: [form] });
    const res = await call(`/api/v1/forms/${t.id}.contact`, { method: "POST", headers: { Origin: PAGE, "Content-Type": "application/json" }, body: JSON.stringify({ email: "not an email" }) });
    expect(res.status).toBe(400);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(PAGE);
    expect(res.headers.get("Access-Control-Allow-Origin")!.split(",")).toHaveLength(1);
    expect(res.headers.get("Vary")).toContain("Origin");
    // The chat's errors too: a session with a forged token.
    const c = await chatTenant();
    await ready(c, "ana");
    const s = await startChat(c);
    const bad = await call(`/api/v1/chat/sessions/${s.chatId}/messages?after=0`, { headers: { Origin: SHOP, Authorization: "Bearer forged.token.here" } });
    expect(bad.status).toBe(401);
    expect(bad.headers.get("Access-Control-Allow-Origin")).toBe(SHOP);
  });
});

describe("WebSocket upgrades declared on routes", () => {
  it("refuses a bad, lapsed-looking or missing token on every socket as an error frame and a 44xx close", async () => {
    const t = await makeTenant([{ id: "a" }, { id: "sup", role: "supervisor" }]);
    for (const path of ["/api/v1/me/ws", "/api/v1/supervisor/ws"]) {
      for (const token of ["", "forged.jwt.token", t.key]) {
        const r = await upgradeRefusal(await call(`${path}?token=${encodeURIComponent(token)}`, { headers: { Upgrade: "websocket" } }));
        expect(r.status, `${path} with '${token}'`).toBe(401);
        expect(r.error.message.length).toBeGreaterThan(0);
      }
    }
    // An agent on the supervisor's socket: the role is refused the same readable way.
    expect(await upgradeRefusal(await call(`/api/v1/supervisor/ws?token=${t.tokens.a}`, { headers: { Upgrade: "websocket" } }))).toMatchObject({ status: 403, error: { code: "forbidden" } });
  });

  it("answers a plain request to a socket route with a JSON 426, whoever asks", async () => {
    const t = await makeTenant([{ id: "a" }]);
    for (const res of [await t.api("/api/v1/me/ws", { as: "a" }), await call("/api/v1/me/ws"), await call(`/api/v1/chat/sessions/${uniq("x")}/ws`)]) {
      expect(res.status).toBe(426);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("upgrade_required");
    }
  });

  it("refuses a chat socket to someone else's chat as a frame a page can read", async () => {
    const t = await chatTenant();
    await ready(t, "ana");
    const mine = await startChat(t);
    const theirs = await startChat(t, { name: "Lou" });
    expect(await connect(theirs.chatId, mine.token, { origin: SHOP })).toMatchObject({ status: 404, body: { error: { code: "no_chat" } } });
    expect(await connect(mine.interactionId, t.tokens.ben!)).toMatchObject({ status: 403, body: { error: { code: "not_a_participant" } } });
  });
});
