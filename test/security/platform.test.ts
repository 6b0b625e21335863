// Attacks on the platform operators' API (issue 18): tenants' own credentials, forged and expired
// operator tokens, a wrong secret, hostile tenant ids and oversized or deep bodies.
import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { makeTenant, uniq } from "../helpers.ts";
import { platform, PLATFORM_SECRET, provision } from "../platform-helpers.ts";
import { authenticateOperator } from "../../workers/platform/auth.ts";

const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

describe("platform routes", () => {
  it("answer a tenant's admin token with 403, its keys and no credentials with 401", async () => {
    const t = await makeTenant([{ id: "adm", role: "admin" }]);
    const list = (as: string | null) => platform("/api/platform/v1/tenants", { as });
    expect((await list(t.tokens.adm!)).status).toBe(403);
    expect((await list(t.key)).status).toBe(401);
    expect((await list(t.readKey)).status).toBe(401);
    expect((await list(null)).status).toBe(401);
    // Nor can the admin create, suspend or delete anything.
    expect((await platform("/api/platform/v1/tenants", { method: "POST", as: t.tokens.adm!, json: { id: uniq("x"), name: "X", admin: { login: "o" } } })).status).toBe(403);
    expect((await platform(`/api/platform/v1/tenants/${t.id}/suspend`, { method: "POST", as: t.tokens.adm!, json: {} })).status).toBe(403);
    expect((await platform(`/api/platform/v1/tenants/${t.id}?confirm=${t.id}`, { method: "DELETE", as: t.tokens.adm! })).status).toBe(403);
  });

  it("trade only the right secret for an operator token, which works until it expires", async () => {
    const wrong = await platform("/api/platform/v1/session", { method: "POST", as: null, json: { secret: "guess" } });
    expect(wrong.status).toBe(401);
    const ok = await platform("/api/platform/v1/session", { method: "POST", as: null, json: { secret: PLATFORM_SECRET, name: "ops" } });
    const { token } = (await ok.json()) as { token: string };
    expect((await platform("/api/platform/v1/shards", { as: token })).status).toBe(200);
    // Tokens signed with the tenants' key, with no key, or with the raw secret are not operator tokens.
    const forge = async (key: string, iss = "parley-platform", exp = Math.floor(Date.now() / 1000) + 600) => new SignJWT({ op: "x" }).setProtectedHeader({ alg: "HS256" }).setSubject("operator:x").setIssuer(iss).setIssuedAt().setExpirationTime(exp).sign(new TextEncoder().encode(key));
    expect((await platform("/api/platform/v1/shards", { as: await forge(env.AUTH_SECRET) })).status).toBe(401);
    expect((await platform("/api/platform/v1/shards", { as: await forge(PLATFORM_SECRET) })).status).toBe(401);
    const header = btoa(JSON.stringify({ alg: "none" })).replace(/=/g, "");
    const body = btoa(JSON.stringify({ sub: "operator:x", iss: "parley-platform", exp: 9e9 })).replace(/=/g, "");
    expect((await platform("/api/platform/v1/shards", { as: `${header}.${body}.` })).status).toBe(401);
    // An expired operator token.
    const key = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`parley-platform-token\n${PLATFORM_SECRET}`)));
    const expired = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject("operator:x").setIssuer("parley-platform").setIssuedAt(1).setExpirationTime(2).sign(key);
    const res = await platform("/api/platform/v1/shards", { as: expired });
    expect(res.status).toBe(401);
    expect(await code(res)).toBe("token_expired");
  });

  it("stay closed without a long enough PLATFORM_SECRET", async () => {
    await expect(authenticateOperator({ ...env, PLATFORM_SECRET: "" } as Env, "anything")).rejects.toMatchObject({ status: 503, code: "platform_disabled" });
    await expect(authenticateOperator({ ...env, PLATFORM_SECRET: "short" } as Env, "short")).rejects.toMatchObject({ status: 503 });
  });

  it("refuse hostile tenant ids, oversized and deeply nested bodies with 4xx, creating nothing", async () => {
    for (const id of ["../etc", "UPPER", "a".repeat(65), "x y", "", "demo/other", "\u0000"]) {
      const res = await platform("/api/platform/v1/tenants", { method: "POST", json: { id, name: "X", admin: { login: "owner" } } });
      expect(res.status).toBe(400);
    }
    const big = await platform("/api/platform/v1/tenants", { method: "POST", json: { id: uniq("big"), name: "X", admin: { login: "owner" }, config: { pad: "x".repeat(1_100_000) } } });
    expect(big.status).toBe(413);
    let deep: unknown = {};
    for (let i = 0; i < 5000; i++) deep = { a: deep };
    const id = uniq("deep");
    const nested = await platform("/api/platform/v1/tenants", { method: "POST", json: { id, name: "X", admin: { login: "owner" }, config: { tenant: { id, name: "X" }, deep } } });
    expect(nested.status).toBe(400);
    expect(await env.CONTROL.prepare("SELECT COUNT(*) AS n FROM tenant_directory WHERE tenant_id = ?").bind(id).first<{ n: number }>()).toEqual({ n: 0 });
    // A query that tries to page with SQL gets a 400, not a query.
    expect((await platform("/api/platform/v1/tenants?after=' OR 1=1 --")).status).toBe(400);
  });

  it("repeat a create as a 400, never a second tenant or new keys", async () => {
    const id = uniq("once");
    const first = await provision({ id, name: "Once", admin: { login: "owner" } });
    const again = await platform("/api/platform/v1/tenants", { method: "POST", json: { id, name: "Once", admin: { login: "owner" } } });
    expect(again.status).toBe(400);
    expect(JSON.stringify(await again.json())).not.toContain(first.keys.ingest.slice(10));
  });
});
