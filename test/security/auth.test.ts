// Attacks on the doors themselves: oversized streamed bodies, password guessing, weak passwords,
// response headers, and what an ingest or read key can reach (issue 12, items 4, 5 and 10).
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_FORM_BYTES } from "../../workers/forms/body.ts";
import { MAX_JSON_BYTES } from "../../workers/http/api.ts";
import { MAX_MAIL_BYTES } from "../../workers/email/inbound.ts";
import { makeTenant, PASSWORD as STRONG } from "../helpers.ts";
import headersFile from "../../public/_headers?raw";
import { routedMessage } from "../email-helpers.ts";

/** Cloudflare's _headers format: a path pattern (with * splats) and indented `Name: value` lines. */
function headerRules(text: string): { pattern: RegExp; headers: [string, string][] }[] {
  const out: { pattern: RegExp; headers: [string, string][] }[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim() || line.trim().startsWith("#")) continue;
    if (!/^\s/.test(line)) out.push({ pattern: new RegExp(`^${line.trim().replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`), headers: [] });
    else {
      const i = line.indexOf(":");
      out.at(-1)!.headers.push([line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim()]);
    }
  }
  return out;
}
const headersFor = (rules: ReturnType<typeof headerRules>, path: string) => new Map(rules.filter((r) => r.pattern.test(path)).flatMap((r) => r.headers));

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
    const cfg = await env.SHARD_1.prepare("SELECT address FROM mailbox_routes WHERE tenant_id = ?").bind(t.id).first<{ address: string }>();
    const s = chunked(64 * 1024 * 1024, 0x41);
    const { m: message, rejected } = routedMessage(s.body, cfg!.address, "x@example.com", 100);
    await handleEmail(message, env);
    expect(rejected()).toMatch(/too large/i);
    expect(s.pulled()).toBeLessThan(pulledWithin(MAX_MAIL_BYTES));
  });
});

const login = (body: { tenant: string; login: string; password: string }, ip: string) =>
  exports.default.fetch(new Request("http://parley.test/api/v1/auth/login", { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip } }));
let ipN = 0;
const uniqueIp = () => `2001:db8::${Date.now().toString(16).slice(-4)}:${(ipN++).toString(16)}:${Math.floor(Math.random() * 0xffff).toString(16)}`;

describe("item 5: login guessing is throttled before the password hash is computed", () => {
  it("guessing one login: after a few wrong passwords every attempt gets 429 with Retry-After, the right one included", async () => {
    const t = await makeTenant([{ id: "a" }]);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await login({ tenant: t.id, login: "a", password: `wrong-${i}` }, uniqueIp())).status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(6);
    expect(statuses.slice(-4)).toEqual([429, 429, 429, 429]);
    const right = await login({ tenant: t.id, login: "a", password: STRONG }, uniqueIp());
    expect(right.status).toBe(429);
    expect(Number(right.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    expect(((await right.json()) as { error: { code: string } }).error.code).toBe("too_many_attempts");
  });

  it("a burst of 40 parallel guesses at one login: at most the free attempts reach the password check", async () => {
    const t = await makeTenant([{ id: "a" }]);
    const res = await Promise.all(Array.from({ length: 40 }, (_, i) => login({ tenant: t.id, login: "a", password: `wrong-${i}` }, uniqueIp())));
    expect(res.filter((r) => r.status === 401).length).toBeLessThanOrEqual(6);
    expect(res.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(34);
  });

  it("spraying many logins from one IP: the IP is throttled", async () => {
    const t = await makeTenant([{ id: "a" }]);
    const ip = uniqueIp();
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await login({ tenant: t.id, login: `user${i}`, password: "Spray-Guess-2024" }, ip)).status);
    expect(statuses.slice(-3)).toEqual([429, 429, 429]);
    // Another IP is not held back by it.
    expect((await login({ tenant: t.id, login: "a", password: STRONG }, uniqueIp())).status).toBe(200);
  });

  it("a successful login resets the login's count: typos before and after do not add up", async () => {
    const t = await makeTenant([{ id: "a" }]);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 3; i++) expect((await login({ tenant: t.id, login: "a", password: `typo-${i}` }, uniqueIp())).status).toBe(401);
      expect((await login({ tenant: t.id, login: "a", password: STRONG }, uniqueIp())).status).toBe(200);
    }
  });
});

describe("item 5: weak passwords are refused where a password is set", () => {
  const agent = (password: string) => ({ id: "b", login: "bob", fullName: "Bob Weak", role: "agent" as const, password, skills: {}, capacity: { email: 1 } });
  async function putAgent(password: string) {
    const t = await makeTenant([{ id: "admin", role: "admin" }]);
    const cur = await t.call<{ config: { agents: unknown[] } & Record<string, unknown> }>("/api/v1/admin/config", { as: "admin" });
    return t.api("/api/v1/admin/config", { method: "PUT", as: "admin", json: { ...cur.config, agents: [...cur.config.agents, agent(password)] } });
  }
  for (const weak of ["12345678", "password123", "qwertyuiop", "bobweak1"]) {
    it(`the admin API refuses '${weak}' with a 400 naming the field`, async () => {
      const res = await putAgent(weak);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("weak_password");
      expect(body.error.message).toMatch(/^agents\[1\]\.password: /);
    });
  }
  it("the admin API accepts a strong password, and the demo's 'parley-demo'", async () => {
    expect((await putAgent("Lantern-Orbit-Cactus-42")).status).toBe(200);
    expect((await putAgent("parley-demo")).status).toBe(200);
  });
  it("tenant creation (provisioning, the demo loader) refuses a weak password too", async () => {
    const { createTenant } = await import("../../workers/config/tenants.ts");
    const { baseConfig } = await import("../helpers.ts");
    const cfg = baseConfig(`weak-${Date.now()}`, [{ id: "a" }]);
    cfg.agents[0]!.password = "12345678";
    await expect(createTenant(env.SHARD_1, cfg)).rejects.toThrow(/agents\[0\]\.password/);
  });
});

describe("item 10: response headers", () => {
  const get = (path: string, headers: Record<string, string> = {}) => exports.default.fetch(new Request(`http://parley.test${path}`, { headers }));
  async function apiHeaders(res: Response) {
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    await res.body?.cancel();
  }
  it("API JSON answers are not cached and not sniffed: success, error and 404", async () => {
    const t = await makeTenant([{ id: "a" }]);
    await apiHeaders(await get("/api/health"));
    await apiHeaders(await get("/api/v1/me", { Authorization: `Bearer ${t.tokens.a}` }));
    await apiHeaders(await get("/api/v1/me"));
    await apiHeaders(await get("/api/v1/no-such-thing"));
    await apiHeaders(await login({ tenant: t.id, login: "a", password: STRONG }, uniqueIp()));
  });
  // Static assets are served by Workers assets with public/_headers (not through the Worker's fetch,
  // so not in reach of exports.default here): the rules are read as the platform applies them.
  const rules = headerRules(headersFile);
  for (const page of ["/desk/", "/desk/index.html", "/console/", "/platform/", "/demo/", "/demo/index.html", "/widget.js", "/thanks.html"])
    it(`the page ${page} is served with Strict-Transport-Security`, () => {
      expect(headersFor(rules, page).get("strict-transport-security")).toMatch(/max-age=\d{7,}/);
    });
});

describe("item 10: ingest keys write, read keys read, each for one tenant", () => {
  const as = (t: { api: (p: string, i?: RequestInit & { json?: unknown }) => Promise<Response> }, key: string, path: string, init: RequestInit & { json?: unknown } = {}) =>
    t.api(path, { ...init, headers: { ...(init.headers as Record<string, string>), Authorization: `Bearer ${key}` } });
  const ingestBody = (externalId: string) => ({ media: "email", queue: "inbound", externalId, subject: "Order", text: "Hello", contact: { email: "pat@example.com" } });
  const readRoutes = (id: string) => [`/api/v1/interactions/${id}`, `/api/v1/interactions/${id}/messages`, `/api/v1/interactions/${id}/parts/p-1/content`, "/api/v1/outbox", "/api/v1/outbox/o-1"];

  it("the ingest key cannot read history, notes, messages, attachments or outbound raw MIME: 403", async () => {
    const t = await makeTenant([{ id: "a" }]);
    const made = (await (await as(t, t.key, "/api/v1/interactions", { method: "POST", json: ingestBody("k-1") })).json()) as { id: string };
    expect(made.id).toBeTruthy();
    for (const path of readRoutes(made.id)) {
      const res = await as(t, t.key, path);
      expect(res.status, path).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code, path).toBe("forbidden");
    }
  });

  it("the read key reads but cannot ingest, abandon or send", async () => {
    const t = await makeTenant([{ id: "a" }]);
    expect(t.readKey).not.toBe(t.key);
    const made = (await (await as(t, t.key, "/api/v1/interactions", { method: "POST", json: ingestBody("k-2") })).json()) as { id: string };
    const got = await as(t, t.readKey, `/api/v1/interactions/${made.id}`);
    expect(got.status).toBe(200);
    expect((await as(t, t.readKey, "/api/v1/outbox")).status).toBe(200);
    for (const [path, init] of [
      ["/api/v1/interactions", { method: "POST", json: ingestBody("k-3") }],
      [`/api/v1/interactions/${made.id}/abandon`, { method: "POST", json: {} }],
      ["/api/v1/email/inbound", { method: "POST", body: "From: a@b.example\r\n\r\nhi", headers: { "Content-Type": "message/rfc822" } }],
      ["/api/v1/sms", { method: "POST", json: { to: "+14155550100", text: "hi" } }],
    ] as const) {
      const res = await as(t, t.readKey, path, init as RequestInit & { json?: unknown });
      expect(res.status, path).toBe(403);
      await res.body?.cancel();
    }
  });

  it("neither key reaches another tenant", async () => {
    const a = await makeTenant([{ id: "a" }]);
    const b = await makeTenant([{ id: "a" }]);
    const inB = (await (await as(b, b.key, "/api/v1/interactions", { method: "POST", json: ingestBody("k-4") })).json()) as { id: string };
    for (const path of readRoutes(inB.id).slice(0, 2)) expect((await as(a, a.readKey, path)).status, path).toBe(404);
    // A's ingest key files into A, whatever the body says.
    const inA = (await (await as(a, a.key, "/api/v1/interactions", { method: "POST", json: ingestBody("k-4") })).json()) as { id: string };
    expect((await as(b, b.readKey, `/api/v1/interactions/${inA.id}`)).status).toBe(404);
    expect((await as(a, a.readKey, `/api/v1/interactions/${inA.id}`)).status).toBe(200);
  });

  it("keys are stored hashed, never as given", async () => {
    const t = await makeTenant([{ id: "a" }]);
    const rows = await env.SHARD_1.batch([env.SHARD_1.prepare("SELECT * FROM tenants WHERE id = ?").bind(t.id), env.SHARD_1.prepare("SELECT * FROM tenant_keys WHERE tenant_id = ?").bind(t.id)]);
    expect(rows[1]!.results.map((r) => (r as { kind: string }).kind).sort()).toEqual(["ingest", "read"]);
    const dump = JSON.stringify(rows.map((r) => r.results));
    expect(dump).not.toContain(t.key);
    expect(dump).not.toContain(t.readKey);
  });
});
