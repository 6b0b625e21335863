// Bad input gets a 4xx JSON error that names what is wrong, and loses or doubles nothing.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { issueToken } from "../../workers/auth/tokens.ts";
import { makeTenant, offerFor, PASSWORD, post, ready, submit, upgradeRefusal } from "../helpers.ts";

async function expectError(res: Response, status: number, code: string, message?: RegExp) {
  expect(res.status).toBe(status);
  expect(res.headers.get("Content-Type")).toMatch(/application\/json/);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
  if (message) expect(body.error.message).toMatch(message);
  return body;
}

const raw = (path: string, init: RequestInit) => exports.default.fetch(new Request(`http://parley.test${path}`, init));

describe("bad input", () => {
  it("malformed JSON, wrong content type, wrong encoding, oversized body", async () => {
    const t = await makeTenant([{ id: "a" }]);
    const h = { Authorization: `Bearer ${t.key}`, "Content-Type": "application/json" };
    await expectError(await raw("/api/v1/interactions", { method: "POST", headers: h, body: '{"media": "email",' }), 400, "invalid_json", /not valid JSON/);
    await expectError(await raw("/api/v1/interactions", { method: "POST", headers: { ...h, "Content-Type": "text/plain" }, body: "{}" }), 415, "unsupported_media_type");
    await expectError(await raw("/api/v1/interactions", { method: "POST", headers: h, body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) }), 400, "invalid_encoding");
    const big = JSON.stringify({ media: "email", queue: "inbound", text: "x".repeat(1_100_000) });
    await expectError(await raw("/api/v1/interactions", { method: "POST", headers: h, body: big }), 413, "payload_too_large");
    const n = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM interactions WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
    expect(n!.n).toBe(0);
  });

  it("missing or invalid fields are named", async () => {
    const t = await makeTenant([{ id: "a" }]);
    const r1 = await expectError(await t.api("/api/v1/interactions", { method: "POST", json: { queue: "inbound" } }), 400, "invalid_request", /^media:/);
    expect((r1 as unknown as { error: { details: { path: string }[] } }).error.details[0]!.path).toBe("media");
    await expectError(await t.api("/api/v1/interactions", { method: "POST", json: { media: "fax", queue: "inbound" } }), 400, "invalid_request", /^media:/);
    await expectError(await t.api("/api/v1/interactions", { method: "POST", json: { media: "email" } }), 400, "invalid_request", /exactly one of queue or workflow/);
    await expectError(await t.api("/api/v1/interactions", { method: "POST", json: { media: "email", queue: "inbound", bogus: 1 } }), 400, "invalid_request", /bogus/);
    await expectError(await t.api("/api/v1/interactions", { method: "POST", json: { media: "email", queue: "inbound", contact: { phone: "12" } } }), 400, "invalid_phone", /contact\.phone/);
    await expectError(await t.api("/api/v1/interactions", { method: "POST", json: { media: "email", queue: "inbound", contact: { email: "nope" } } }), 400, "invalid_email");
    await expectError(await t.api("/api/v1/me/ready", { method: "POST", as: "a", json: { ready: "yes" } }), 400, "invalid_request", /^ready:/);
  });

  it("unknown queue, workflow, agent and media the queue does not take", async () => {
    const t = await makeTenant([{ id: "a" }, { id: "sup", role: "supervisor" }], [{ name: "inbound", media: ["email"], steps: [{ type: "route", targets: [{ skills: "*" }] }] }]);
    await expectError(await t.api("/api/v1/interactions", { method: "POST", json: { media: "email", queue: "nowhere" } }), 400, "unknown_queue", /no queue 'nowhere'/);
    await expectError(await t.api("/api/v1/interactions", { method: "POST", json: { media: "email", workflow: "nope" } }), 400, "unknown_workflow");
    await expectError(await t.api("/api/v1/interactions", { method: "POST", json: { media: "sms", queue: "inbound" } }), 400, "media_not_accepted");
    const id = await submit(t, {});
    await expectError(await t.api(`/api/v1/interactions/${id}/move`, { method: "POST", as: "sup", json: { queue: "ghost" } }), 400, "unknown_queue");
    await expectError(await t.api(`/api/v1/interactions/${id}/assign`, { method: "POST", as: "sup", json: { agent: "ghost" } }), 400, "unknown_agent");
    await expectError(await t.api("/api/v1/queues/ghost/interactions", { as: "sup" }), 404, "unknown_queue");
  });

  it("another tenant's interaction is not found, whichever credential asks", async () => {
    const mine = await makeTenant([{ id: "a" }, { id: "sup", role: "supervisor" }]);
    const theirs = await makeTenant([{ id: "a" }, { id: "sup", role: "supervisor" }]);
    const id = await submit(theirs, { subject: "secret" });
    await expectError(await mine.api(`/api/v1/interactions/${id}`), 404, "unknown_interaction");
    await expectError(await mine.api(`/api/v1/interactions/${id}`, { as: "sup" }), 404, "unknown_interaction");
    await expectError(await mine.api(`/api/v1/interactions/${id}/pull`, { method: "POST", as: "sup", json: {} }), 404, "unknown_interaction");
    await expectError(await mine.api(`/api/v1/interactions/${id}/notes`, { method: "POST", as: "a", json: { text: "hi" } }), 404, "unknown_interaction");
    await expectError(await mine.api(`/api/v1/interactions/${id}/accept`, { method: "POST", as: "a" }), 404, "no_offer");
    // Their interaction is untouched.
    expect((await theirs.call<{ state: string }>(`/api/v1/interactions/${id}`)).state).toMatch(/queued|new/);
  });

  it("the wrong role is forbidden", async () => {
    const t = await makeTenant([{ id: "a" }, { id: "sup", role: "supervisor" }]);
    await expectError(await t.api("/api/v1/stats", { as: "a" }), 403, "forbidden", /supervisor role/);
    await expectError(await t.api("/api/v1/admin/config", { as: "sup" }), 403, "forbidden", /admin role/);
    await expectError(await t.api("/api/v1/agents", { as: "a" }), 403, "forbidden");
    const id = await submit(t, {});
    await expectError(await t.api(`/api/v1/interactions/${id}/move`, { method: "POST", as: "a", json: { queue: "inbound" } }), 403, "forbidden");
    await expectError(await t.api(`/api/v1/interactions/${id}/stop`, { method: "POST", as: "a", json: { reason: "x" } }), 403, "forbidden");
    // The ingest key is not an agent token, and an agent token is not an ingest key.
    await expectError(await t.api("/api/v1/me"), 401, "invalid_token");
    await expectError(await t.api("/api/v1/interactions", { method: "POST", as: "a", json: { media: "email", queue: "inbound" } }), 401, "invalid_key");
  });

  it("expired, forged and missing credentials are refused", async () => {
    const t = await makeTenant([{ id: "a" }]);
    const expired = (await issueToken(env.AUTH_SECRET, { tenant: t.id, agentId: "a", role: "agent" }, 60, Date.now() - 3_600_000)).token;
    await expectError(await t.api("/api/v1/me", { headers: { Authorization: `Bearer ${expired}` } }), 401, "token_expired");
    const forged = (await issueToken("not-the-secret", { tenant: t.id, agentId: "a", role: "admin" }, 600)).token;
    await expectError(await t.api("/api/v1/me", { headers: { Authorization: `Bearer ${forged}` } }), 401, "invalid_token");
    await expectError(await raw("/api/v1/me", {}), 401, "unauthorized");
    await expectError(await raw("/api/v1/me", { headers: { Authorization: "Basic abc" } }), 401, "unauthorized", /Bearer/);
    await expectError(await t.api("/api/v1/interactions", { method: "POST", json: {}, headers: { Authorization: "Bearer wrong-key" } }), 401, "invalid_key");
  });

  it("login failures say nothing about which part was wrong", async () => {
    const t = await makeTenant([{ id: "a" }]);
    const h = { "Content-Type": "application/json" };
    for (const body of [{ tenant: t.id, login: "a", password: "wrong-password" }, { tenant: t.id, login: "ghost", password: PASSWORD }, { tenant: "nope", login: "a", password: PASSWORD }])
      await expectError(await raw("/api/v1/auth/login", { method: "POST", headers: h, body: JSON.stringify(body) }), 401, "invalid_credentials", /wrong tenant, login or password/);
    await expectError(await raw("/api/v1/auth/login", { method: "POST", headers: h, body: JSON.stringify({ tenant: t.id }) }), 400, "invalid_request", /^login:/);
  });

  it("unknown endpoints, wrong methods and actions out of turn", async () => {
    const t = await makeTenant([{ id: "a" }, { id: "b" }]);
    await expectError(await t.api("/api/v1/nothing-here"), 404, "not_found");
    await expectError(await t.api("/api/v1/interactions", { method: "DELETE" }), 405, "method_not_allowed", /POST/);
    await ready(t, "a");
    const id = await submit(t, {});
    await offerFor(t, "a", id);
    await expectError(await t.api(`/api/v1/interactions/${id}/accept`, { method: "POST", as: "b" }), 404, "no_offer");
    await expectError(await t.api(`/api/v1/interactions/${id}/done`, { method: "POST", as: "a" }), 409, "not_accepted");
    await expectError(await t.api(`/api/v1/interactions/${id}/transfer`, { method: "POST", as: "a", json: { queue: "inbound", agent: "b" } }), 400, "invalid_request");
    await post(t, `/api/v1/interactions/${id}/accept`, "a");
    await expectError(await t.api(`/api/v1/interactions/${id}/accept`, { method: "POST", as: "a" }), 404, "no_offer");
    await expectError(await t.api(`/api/v1/interactions/${id}/transfer`, { method: "POST", as: "a", json: { agent: "a" } }), 400, "same_agent");
    await expectError(await t.api("/api/v1/me/ready", { method: "POST", as: "a", json: { ready: false, reason: "nap" } }), 400, "unknown_reason", /break/);
    await expectError(await t.api("/api/v1/me/ready", { method: "POST", as: "a", json: { ready: true, media: ["sms"] } }), 400, "no_capacity");
    await post(t, "/api/v1/me/logout", "b");
    await expectError(await t.api("/api/v1/me/ready", { method: "POST", as: "b", json: { ready: true } }), 409, "logged_out");
    await expectError(await t.api(`/api/v1/interactions/${id}/abandon`, { method: "POST", json: {} }), 409, "not_waiting");
  });

  it("a WebSocket needs a token and an upgrade", async () => {
    const t = await makeTenant([{ id: "a" }]);
    // A browser never reads a refused upgrade's body: the refusal comes as a frame and a close code.
    expect(await upgradeRefusal(await raw("/api/v1/me/ws", { headers: { Upgrade: "websocket" } }))).toMatchObject({ status: 401, error: { code: "unauthorized" } });
    await expectError(await t.api("/api/v1/me/ws", { as: "a" }), 426, "upgrade_required");
  });
});
