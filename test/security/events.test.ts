// Attacks on the integrator and data-protection doors (issue 16): keys scoped to events used for
// anything else, another tenant's events, endpoints, exports and contacts, forged or altered signed
// links and receipts, webhook URLs aimed inside, and pathological ids and ranges.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signPath } from "../../workers/chat/signed-url.ts";
import { makeTenant, stateIs, submit, type Tenant } from "../helpers.ts";

const staff = () => makeTenant([{ id: "adm", role: "admin", capacity: {} }, { id: "sup", role: "supervisor", capacity: {} }, { id: "ana", capacity: { email: 2 } }]);
const bearer = (path: string, key: string, init: RequestInit = {}) => exports.default.fetch(new Request(`http://parley.test${path}`, { ...init, headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json", ...init.headers } }));
const eventsKey = async (t: Tenant) => (await t.call<{ key: string }>("/api/v1/admin/event-keys", { method: "POST", as: "adm", expect: 201 })).key;

describe("keys scoped to events", () => {
  it("read the owner's events and nothing else: no other route, no other tenant", async () => {
    const a = await staff();
    const b = await staff();
    await submit(a, { subject: "in a" });
    await submit(b, { subject: "in b" });
    const key = await eventsKey(a);
    const page = await (await bearer("/api/v1/events?after=0&limit=1000", key)).json<{ events: { source: string; id: string }[] }>();
    expect(page.events.length).toBeGreaterThan(0);
    expect(page.events.every((e) => e.id.startsWith(`${a.id}:`))).toBe(true);
    for (const [method, path] of [["GET", "/api/v1/audit"], ["GET", "/api/v1/interactions/i_x"], ["POST", "/api/v1/interactions"], ["GET", "/api/v1/admin/webhooks"], ["POST", "/api/v1/admin/event-keys"], ["POST", "/api/v1/admin/contacts/c_x/erase"]] as const) {
      const res = await bearer(path, key, { method, ...(method === "POST" ? { body: "{}" } : {}) });
      expect([401, 403], `${method} ${path}`).toContain(res.status);
    }
    // Revoked keys stop at once.
    await a.call("/api/v1/admin/event-keys", { method: "DELETE", as: "adm" });
    expect((await bearer("/api/v1/events", key)).status).toBe(401);
  });

  it("refuse pathological cursors and filters with 400, never a 500", async () => {
    const t = await staff();
    const key = await eventsKey(t);
    for (const q of ["after=-1", "after=1e3", `after=${"9".repeat(40)}`, "limit=0", "limit=100000", `type=${"parley.a,".repeat(50)}`, "type=%00", `type=${"x".repeat(5000)}`])
      expect((await bearer(`/api/v1/events?${q}`, key)).status, q).toBe(400);
  });
});

describe("the audit view", () => {
  it("is read-only for everyone, admins included, and closed to agents", async () => {
    const t = await staff();
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) expect([404, 405], method).toContain((await t.api("/api/v1/audit", { method, as: "adm", json: {} })).status);
    expect((await t.api("/api/v1/audit", { as: "ana" })).status).toBe(403);
    expect((await t.api(`/api/v1/audit?subject=${"s".repeat(1000)}`, { as: "adm" })).status).toBe(400);
  });
});

describe("webhook endpoints", () => {
  it("refuse URLs aimed inside, in every spelling, and belong to their tenant only", async () => {
    const t = await staff();
    for (const url of ["http://hooks.example.com/x", "https://127.0.0.1/x", "https://2130706433/x", "https://0x7f000001/x", "https://[::1]/x", "https://[::ffff:127.0.0.1]/x", "https://localhost/x", "https://10.1.2.3/x", "https://169.254.169.254/latest", "https://192.168.0.1/x", "https://user:pw@hooks.example.com/x", "ftp://hooks.example.com/x", `https://${"a".repeat(3000)}.com/x`]) {
      const res = await t.api("/api/v1/admin/webhooks", { method: "POST", as: "adm", json: { url } });
      expect(res.status, url).toBe(400);
    }
    const ep = await t.call<{ id: string }>("/api/v1/admin/webhooks", { method: "POST", as: "adm", json: { url: "https://hooks.receiver-test.com/a" }, expect: 201 });
    expect((await t.api("/api/v1/admin/webhooks", { method: "POST", as: "sup", json: { url: "https://hooks.receiver-test.com/b" } })).status).toBe(403);
    const other = await staff();
    for (const [method, path, json] of [["GET", `/deliveries`, undefined], ["PUT", "", { url: "https://hooks.receiver-test.com/c" }], ["POST", "/rotate", {}], ["POST", "/replay", { from: 1, to: 2 }], ["DELETE", "", undefined]] as const)
      expect((await other.api(`/api/v1/admin/webhooks/${ep.id}${path}`, { method, as: "adm", ...(json ? { json } : {}) })).status, `${method} ${path}`).toBe(404);
    // A replay is bounded: a range of a billion events is refused, not queued.
    expect((await t.api(`/api/v1/admin/webhooks/${ep.id}/replay`, { method: "POST", as: "adm", json: { from: 1, to: 1_000_000_000 } })).status).toBe(400);
  });
});

describe("exports and erasures", () => {
  it("a signed export link opens only its own archive: altered, re-pointed at another tenant or forged, it is refused", async () => {
    const t = await staff();
    const id = await submit(t, { subject: "exported", contact: { email: "sec-export@privacy.example" } });
    const contact = (await t.call<{ contactId: string }>(`/api/v1/interactions/${id}`)).contactId;
    const r = await t.call<{ url: string; export: string }>(`/api/v1/admin/contacts/${contact}/export`, { method: "POST", as: "adm", expect: 201 });
    const path = new URL(r.url).pathname + new URL(r.url).search;
    expect((await exports.default.fetch(new Request(`http://parley.test${path}`))).status).toBe(200);
    const other = await staff();
    expect((await exports.default.fetch(new Request(`http://parley.test${path.replace(t.id, other.id)}`))).status).toBe(403);
    expect((await exports.default.fetch(new Request(`http://parley.test${path.replace(/exp=\d+/, "exp=99999999999")}`))).status).toBe(403);
    expect((await exports.default.fetch(new Request(`http://parley.test/api/v1/exports/${t.id}/${r.export}`))).status).toBe(403);
    // Signed with the wrong secret: refused; expired: 410.
    const forged = await signPath("not-the-secret", `/api/v1/exports/${t.id}/${r.export}`);
    expect((await exports.default.fetch(new Request(`http://parley.test${forged}`))).status).toBe(403);
    const expired = await signPath(env.AUTH_SECRET, `/api/v1/exports/${t.id}/${r.export}`, Date.now() - 2 * 86_400_000, 60);
    expect((await exports.default.fetch(new Request(`http://parley.test${expired}`))).status).toBe(410);
    // Only admins export or erase.
    for (const who of ["sup", "ana"]) {
      expect((await t.api(`/api/v1/admin/contacts/${contact}/export`, { method: "POST", as: who })).status).toBe(403);
      expect((await t.api(`/api/v1/admin/contacts/${contact}/erase`, { method: "POST", as: who })).status).toBe(403);
    }
    expect([401, 403]).toContain((await bearer(`/api/v1/admin/contacts/${contact}/erase`, t.key, { method: "POST" })).status);
  });

  it("pathological contact ids get 404, another tenant's receipt does not verify here, and a forged receipt is refused", async () => {
    const t = await staff();
    for (const id of ["x".repeat(5000), "' OR 1=1 --", "%00", "c_%25"]) {
      const res = await t.api(`/api/v1/admin/contacts/${encodeURIComponent(id)}/erase`, { method: "POST", as: "adm" });
      expect([404, 414], id.slice(0, 10)).toContain(res.status);
    }
    const id = await submit(t, { subject: "erase me", contact: { email: "sec-erase@privacy.example" } });
    // Finished (the queue's own write of "queued" lands first, so it cannot undo this).
    await stateIs(t, id, "queued");
    await env.SHARD_1.prepare("UPDATE interactions SET state = 'done' WHERE tenant_id = ? AND id = ?").bind(t.id, id).run();
    const contact = (await t.call<{ contactId: string }>(`/api/v1/interactions/${id}`)).contactId;
    const done = await t.call<{ state: string; receipt: Record<string, unknown> }>(`/api/v1/admin/contacts/${contact}/erase`, { method: "POST", as: "adm" });
    expect(done.state).toBe("done");
    const verify = (receipt: unknown) => t.api("/api/v1/admin/erasures/verify", { method: "POST", as: "adm", json: { receipt } });
    expect(await (await verify({ ...done.receipt, tenant: "someone-else" })).json()).toEqual({ valid: false });
    expect(await (await verify({ ...done.receipt, signature: "v1,AAAA" })).json()).toEqual({ valid: false });
    expect((await verify({ kind: "nope" })).status).toBe(400);
    let deep: unknown = {};
    for (let i = 0; i < 2000; i++) deep = { d: deep };
    expect((await verify({ ...done.receipt, removed: deep })).status).toBeLessThan(500);
    // The erasure's own record is the tenant's alone.
    const other = await staff();
    const erasure = (done as unknown as { erasure: string }).erasure;
    expect((await other.api(`/api/v1/admin/erasures/${erasure}`, { as: "adm" })).status).toBe(404);
  });
});
