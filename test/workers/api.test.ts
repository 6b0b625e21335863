// The agent, supervisor and admin API: login, OpenAPI, statistics, config, contacts and search.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { makeTenant, me, offerFor, PASSWORD, post, ready, stateIs, submit } from "../helpers.ts";

const json = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  exports.default.fetch(new Request(`http://parley.test${path}`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) }));

describe("API", () => {
  it("logs in with a PBKDF2-hashed password and returns an expiring token", async () => {
    const t = await makeTenant([{ id: "a", role: "supervisor" }]);
    const stored = await env.SHARD_1.prepare("SELECT password_hash FROM credentials WHERE tenant_id = ? AND login = 'a'").bind(t.id).first<{ password_hash: string }>();
    expect(stored!.password_hash).toMatch(/^pbkdf2-sha256\$100000\$/);
    const res = await json("/api/v1/auth/login", { tenant: t.id, login: "A", password: PASSWORD });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: string; expiresAt: number; agent: { role: string } };
    expect(body.agent.role).toBe("supervisor");
    expect(body.expiresAt).toBeGreaterThan(Date.now() + 3_000_000);
    const s = await exports.default.fetch(new Request("http://parley.test/api/v1/stats", { headers: { Authorization: `Bearer ${body.token}` } }));
    expect(s.status).toBe(200);
  });

  it("serves health and an OpenAPI 3.1 document built from the request schemas", async () => {
    const h = await exports.default.fetch(new Request("http://parley.test/api/health"));
    expect(await h.json()).toMatchObject({ ok: true, d1: true });
    const doc = (await (await exports.default.fetch(new Request("http://parley.test/api/openapi.json"))).json()) as {
      openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown>; required: string[] } }> }; security: unknown[] }>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    const ingest = doc.paths["/api/v1/interactions"]!.post!;
    const schema = ingest.requestBody!.content["application/json"]!.schema;
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(["media", "externalId", "contact", "queue", "workflow", "subject", "text"]));
    expect(schema.required).toContain("media");
    expect(ingest.security).toEqual([{ ingestKey: [] }]);
    for (const p of ["/api/v1/auth/login", "/api/v1/interactions/{id}/accept", "/api/v1/interactions/{id}/move", "/api/v1/stats", "/api/v1/admin/config", "/api/v1/me/ws"]) expect(doc.paths[p], p).toBeDefined();
  });

  it("reports live statistics per queue and per agent", async () => {
    const t = await makeTenant([{ id: "a", capacity: { email: 2 } }, { id: "b" }, { id: "sup", role: "supervisor", capacity: {} }], [
      { name: "inbound", media: ["email"], serviceLevelSeconds: 20, steps: [{ type: "route", targets: [{ skills: "*" }] }] },
    ]);
    await ready(t, "a");
    await post(t, "/api/v1/me/login", "b", {});
    await post(t, "/api/v1/me/ready", "b", { ready: false, reason: "training" });
    const one = await submit(t, {});
    const two = await submit(t, {});
    const three = await submit(t, {});
    await offerFor(t, "a", one);
    await offerFor(t, "a", two);
    await post(t, `/api/v1/interactions/${one}/accept`, "a");
    await post(t, `/api/v1/interactions/${one}/done`, "a");
    await offerFor(t, "a", three);
    await post(t, `/api/v1/interactions/${three}/accept`, "a");
    const s = await t.call<{ queues: Record<string, number | null | string>[]; agents: { id: string; state: string; reasons: Record<string, string>; load: Record<string, number> }[] }>("/api/v1/stats", { as: "sup" });
    const q = s.queues[0]!;
    expect(q).toMatchObject({ queue: "inbound", entered: 3, distributed: 2, waiting: 0, offered: 1, abandoned: 0, serviceLevelPct: 100, serviceLevelSeconds: 20 });
    expect(q.avgWaitMs).toEqual(expect.any(Number));
    expect(q.avgHandleMs).toEqual(expect.any(Number));
    expect(q.oldestWaitMs).toEqual(expect.any(Number));
    const byId = Object.fromEntries(s.agents.map((a) => [a.id, a]));
    expect(byId.a).toMatchObject({ state: "busy", load: { email: 2 } });
    expect(byId.b).toMatchObject({ state: "not_ready", reasons: { email: "training" } });
    expect(byId.sup!.state).toBe("logged_out");
  });

  it("refuses a config save over a newer version when the editor says which version it loaded (If-Match)", async () => {
    const t = await makeTenant([{ id: "a" }, { id: "adm", role: "admin", capacity: {} }]);
    const cur = await t.call<{ config: Record<string, unknown>; version: number }>("/api/v1/admin/config", { as: "adm" });
    const put = (v: string) => t.api("/api/v1/admin/config", { method: "PUT", as: "adm", json: cur.config, headers: { "If-Match": v } });
    const first = await put(`"${cur.version}"`);
    expect(first.status).toBe(200);
    // A second editor still holding the old version is refused, and nothing changes.
    const stale = await put(`"${cur.version}"`);
    expect(stale.status).toBe(409);
    expect(await stale.json()).toMatchObject({ error: { code: "version_conflict", message: expect.stringContaining(`now ${cur.version + 1}`) } });
    expect((await t.call<{ version: number }>("/api/v1/admin/config", { as: "adm" })).version).toBe(cur.version + 1);
    expect((await put("soon")).status).toBe(400);
    // Without If-Match the save goes through (scripts, the CLI).
    expect((await t.api("/api/v1/admin/config", { method: "PUT", as: "adm", json: cur.config })).status).toBe(200);
  });

  it("lets an admin read and replace the config; a bad config names the field and changes nothing", async () => {
    const t = await makeTenant([{ id: "a" }, { id: "adm", role: "admin", capacity: {} }]);
    const cur = await t.call<{ config: { agents: { id: string; password?: string }[]; queues: unknown[] }; version: number }>("/api/v1/admin/config", { as: "adm" });
    expect(cur.config.agents.every((a) => a.password === undefined)).toBe(true);
    const bad = structuredClone(cur.config) as Record<string, any>;
    bad.queues[0].steps[0].targets[0].skills = "wizardry >= 3";
    const r = await t.api("/api/v1/admin/config", { method: "PUT", as: "adm", json: bad });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: { code: "invalid_config", message: expect.stringMatching(/queues\[0\]\.steps\[0\]\.targets\[0\]\.skills: unknown skill 'wizardry'/) } });

    const next = structuredClone(cur.config) as Record<string, any>;
    next.agents.push({ id: "newbie", login: "newbie", fullName: "New Bie", role: "agent", password: "welcome-harbor-123", skills: {}, capacity: { email: 1 } });
    next.queues.push({ name: "extra", media: ["email"], steps: [] });
    const ok = await t.call<{ version: number }>("/api/v1/admin/config", { method: "PUT", as: "adm", json: next });
    expect(ok.version).toBe(cur.version + 1);
    expect((await json("/api/v1/auth/login", { tenant: t.id, login: "newbie", password: "welcome-harbor-123" })).status).toBe(200);
    // Existing agents keep their passwords.
    expect((await json("/api/v1/auth/login", { tenant: t.id, login: "a", password: PASSWORD })).status).toBe(200);
    const noPw = structuredClone(next);
    noPw.agents.push({ id: "nopw", login: "nopw", fullName: "No Password", role: "agent", skills: {}, capacity: {} });
    const r2 = await t.api("/api/v1/admin/config", { method: "PUT", as: "adm", json: noPw });
    expect(await r2.json()).toMatchObject({ error: { code: "invalid_config", message: expect.stringMatching(/password: required for a new login 'nopw'/) } });
    const other = structuredClone(next);
    other.tenant.id = "someone-else";
    expect((await t.api("/api/v1/admin/config", { method: "PUT", as: "adm", json: other })).status).toBe(400);
  });

  it("finds contacts and messages by full text, merges contacts, keeps notes", async () => {
    const t = await makeTenant([{ id: "a" }]);
    const one = await submit(t, { subject: "Broken espresso machine", text: "The grinder makes a terrible noise", contact: { email: "zoe@example.com", name: "Zoë Quinn" } });
    const two = await submit(t, { subject: "Invoice", text: "Second request", contact: { phone: "+1 415 555 0199", name: "Z Quinn" } });
    const hits = await t.call<{ results: { kind: string; ref: string }[] }>("/api/v1/search?q=grinder%20noise", { as: "a" });
    expect(hits.results).toEqual([expect.objectContaining({ kind: "message", ref: one })]);
    const people = await t.call<{ results: { kind: string; ref: string }[] }>("/api/v1/search?q=zoe", { as: "a" });
    expect(people.results.some((r) => r.kind === "contact")).toBe(true);
    expect((await t.api("/api/v1/search?q=", { as: "a" })).status).toBe(400);

    const c1 = (await t.call<{ contactId: string }>(`/api/v1/interactions/${one}`)).contactId;
    const c2 = (await t.call<{ contactId: string }>(`/api/v1/interactions/${two}`)).contactId;
    expect(c1).not.toBe(c2);
    const merged = await t.call<{ identifiers: { kind: string; value: string }[] }>(`/api/v1/contacts/${c1}/merge`, { method: "POST", as: "a", json: { from: c2 } });
    expect(merged.identifiers.map((i) => i.value)).toEqual(expect.arrayContaining(["zoe@example.com", "+14155550199"]));
    const c = await t.call<{ interactions: { id: string }[] }>(`/api/v1/contacts/${c1}`, { as: "a" });
    expect(c.interactions.map((i) => i.id).sort()).toEqual([one, two].sort());
    // New work from the merged-away contact's phone lands on the survivor.
    const three = await submit(t, { contact: { phone: "+14155550199" } });
    expect((await t.call<{ contactId: string }>(`/api/v1/interactions/${three}`)).contactId).toBe(c1);
    expect((await t.api(`/api/v1/contacts/${c1}/merge`, { method: "POST", as: "a", json: { from: c2 } })).status).toBe(409);

    await post(t, `/api/v1/interactions/${one}/notes`, "a", { text: "Customer called twice" });
    const full = await t.call<{ notes: { text: string; author: string }[]; history: { action: string }[] }>(`/api/v1/interactions/${one}`, { as: "a" });
    expect(full.notes).toMatchObject([{ text: "Customer called twice", author: "agent:a" }]);
    expect(full.history.map((e) => e.action)).toContain("note");
  });

  it("keeps the event history append-only", async () => {
    const t = await makeTenant([{ id: "a" }]);
    const id = await submit(t, {});
    await stateIs(t, id, "queued");
    await expect(env.SHARD_1.prepare("UPDATE interaction_events SET action = 'x' WHERE tenant_id = ?").bind(t.id).run()).rejects.toThrow(/append-only/);
    await expect(env.SHARD_1.prepare("DELETE FROM interaction_events WHERE tenant_id = ?").bind(t.id).run()).rejects.toThrow(/append-only/);
  });

  it("lets a supervisor see every agent and log one out", async () => {
    const t = await makeTenant([{ id: "a" }, { id: "sup", role: "supervisor" }]);
    await ready(t, "a");
    const list = await t.call<{ agents: { id: string; presence: string }[] }>("/api/v1/agents", { as: "sup" });
    expect(list.agents.find((x) => x.id === "a")!.presence).toBe("ready");
    await post(t, "/api/v1/agents/a/logout", "sup");
    expect((await me(t, "a")).presence).toBe("logged_out");
  });

  it("applies the current config to tokens: a removed login is refused, a changed role revokes the old token", async () => {
    const t = await makeTenant([{ id: "a" }, { id: "boss", role: "supervisor" }, { id: "adm", role: "admin", capacity: {} }]);
    const cur = await t.call<{ config: Record<string, any> }>("/api/v1/admin/config", { as: "adm" });
    const next = structuredClone(cur.config);
    next.agents = next.agents.filter((a: { id: string }) => a.id !== "a");
    next.agents.find((a: { id: string }) => a.id === "boss").role = "agent";
    await t.call("/api/v1/admin/config", { method: "PUT", as: "adm", json: next });
    const gone = await t.api("/api/v1/me", { as: "a" });
    expect(gone.status).toBe(401);
    expect(((await gone.json()) as { error: { code: string } }).error.code).toBe("invalid_token");
    // The role change revoked boss's token (test/security/revoke.test.ts): logging in again gives the new role.
    const demoted = await t.api("/api/v1/stats", { as: "boss" });
    expect(demoted.status).toBe(401);
    expect(((await demoted.json()) as { error: { code: string } }).error.code).toBe("token_revoked");
  });

  it("replaces a config with hundreds of agents", async () => {
    const t = await makeTenant([{ id: "adm", role: "admin", capacity: {} }]);
    const cur = await t.call<{ config: Record<string, any> }>("/api/v1/admin/config", { as: "adm" });
    const next = structuredClone(cur.config);
    for (let i = 0; i < 150; i++) next.agents.push({ id: `bulk-${i}`, login: `bulk-${i}`, fullName: `Bulk ${i}`, role: "agent", password: "Bulk-Lantern-Orbit-7", skills: {}, capacity: { email: 1 } });
    const r = await t.call<{ version: number }>("/api/v1/admin/config", { method: "PUT", as: "adm", json: next });
    expect(r.version).toBe(2);
    const n = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM credentials WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
    expect(n!.n).toBe(151);
  });
});
