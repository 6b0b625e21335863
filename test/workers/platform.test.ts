// Platform operators provision, list, suspend, resume and delete tenants across two shards
// (issue 18). Every door of a suspended tenant refuses and stores nothing; a provider's retry after
// resumption is taken once.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ready, uniq, until } from "../helpers.ts";
import { chatTenant, client, startChat } from "../chat-helpers.ts";
import { call, login, platform, provision } from "../platform-helpers.ts";
import { handleEmail } from "../../workers/email/handler.ts";
import { routedMessage, mid } from "../email-helpers.ts";
import { twilioSignature } from "../../workers/sms/twilio-signature.ts";

const count = async (db: D1Database, table: string, tenant: string) => (await db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE tenant_id = ?`).bind(tenant).first<{ n: number }>())!.n;
const other = (shard: string) => (shard === "SHARD_0" ? env.SHARD_1 : env.SHARD_0);
const dbOf = (shard: string) => (shard === "SHARD_0" ? env.SHARD_0 : env.SHARD_1);

const ingest = (key: string, externalId: string) => call("/api/v1/interactions", key, { method: "POST", json: { media: "generic", queue: "inbound", externalId, subject: "Hello", text: "hi" } });

describe("tenant provisioning", () => {
  it("creates a tenant on each shard: keys and the admin's password shown once, rows only on its shard", async () => {
    for (const shard of ["SHARD_0", "SHARD_1"]) {
      const id = uniq("p");
      const made = await provision({ id, name: "Provisioned Co", shard, admin: { login: "owner", fullName: "The Owner" } });
      expect(made.tenant).toMatchObject({ id, shard, jurisdiction: "eu", status: "active" });
      expect(made.keys.ingest).toMatch(/^pk_ingest_[0-9a-f]{64}$/);
      expect(made.admin.password.length).toBeGreaterThanOrEqual(20);
      expect(made.signIn).toContain(`tenant=${id}`);
      // The admin signs in with the one password, and sees a config with itself as admin.
      const token = await login(id, "owner", made.admin.password);
      const cfg = (await (await call("/api/v1/admin/config", token)).json()) as { config: { agents: { login: string; role: string }[] } };
      expect(cfg.config.agents).toEqual([expect.objectContaining({ login: "owner", role: "admin" })]);
      // The keys work, and what they write lands on the tenant's shard only.
      expect((await ingest(made.keys.ingest, "x-1")).status).toBe(201);
      expect(await count(dbOf(shard), "interactions", id)).toBe(1);
      expect(await count(other(shard), "interactions", id)).toBe(0);
      expect(await count(other(shard), "credentials", id)).toBe(0);
      // Nothing stores the password or the keys in the clear.
      const stored = JSON.stringify(await dbOf(shard).prepare("SELECT * FROM credentials WHERE tenant_id = ?").bind(id).all());
      expect(stored).not.toContain(made.admin.password);
    }
  });

  it("refuses an unknown shard, a duplicate id, a bad jurisdiction and a bad config with 400, leaving nothing", async () => {
    const id = uniq("p");
    const bad = async (body: Record<string, unknown>, code: string) => {
      const res = await platform("/api/platform/v1/tenants", { method: "POST", json: { id, name: "X", admin: { login: "owner" }, ...body } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
    };
    await bad({ shard: "SHARD_9" }, "unknown_shard");
    await bad({ jurisdiction: "mars" }, "bad_jurisdiction");
    await bad({ jurisdiction: "global" }, "no_shard_in_jurisdiction");
    await bad({ config: { tenant: { id, name: "X" }, queues: "not a list" } }, "invalid_config");
    await bad({ config: { tenant: { id: "someone-else", name: "X" } } }, "invalid_config");
    expect(await env.CONTROL.prepare("SELECT COUNT(*) AS n FROM tenant_directory WHERE tenant_id = ?").bind(id).first<{ n: number }>()).toEqual({ n: 0 });
    // After all that, the id is still free; then it is taken.
    await provision({ id, name: "X", admin: { login: "owner" } });
    await bad({}, "tenant_exists");
  });

  it("keeps a mailbox and a number to one tenant across shards", async () => {
    const box = `sales@${uniq("x")}.parley.test`;
    const number = `+44207946${String(1000 + Math.floor(Math.random() * 8999)).padStart(4, "0")}`;
    const cfg = (id: string) => ({
      tenant: { id, name: "X" }, queues: [{ name: "inbound", media: ["email", "sms"], steps: [] }], workflows: [{ name: "main", queue: "inbound" }],
      mailboxes: [{ address: box, workflow: "main" }], numbers: [{ number, provider: "generic", mode: "paging", workflow: "main", secret: "sms" }],
    });
    const a = uniq("ua");
    await provision({ id: a, name: "A", shard: "SHARD_0", admin: { login: "owner" }, secrets: { sms: "shared-secret-123456" }, config: cfg(a) });
    const b = uniq("ub");
    const res = await platform("/api/platform/v1/tenants", { method: "POST", json: { id: b, name: "B", shard: "SHARD_1", admin: { login: "owner" }, secrets: { sms: "shared-secret-123456" }, config: cfg(b) } });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain("belongs to another tenant");
    // Nor can a tenant on the other shard take it later by replacing its config.
    const c = uniq("uc");
    const made = await provision({ id: c, name: "C", shard: "SHARD_1", admin: { login: "owner" }, secrets: { sms: "shared-secret-123456" } });
    const token = await login(c, "owner", made.admin.password);
    const current = (await (await call("/api/v1/admin/config", token)).json()) as { config: Record<string, unknown> };
    const put = await call("/api/v1/admin/config", token, { method: "PUT", json: { ...current.config, mailboxes: [{ address: box, workflow: "main" }] } });
    expect(put.status).toBe(400);
    expect(JSON.stringify(await put.json())).toContain("belongs to another tenant");
  });

  it("places a tenant with no shard named on the jurisdiction's least used shard, and lists usage", async () => {
    const made = await provision({ id: uniq("p"), name: "Auto", admin: { login: "owner" } });
    expect(["SHARD_0", "SHARD_1"]).toContain(made.tenant.shard);
    for (let i = 0; i < 3; i++) expect((await ingest(made.keys.ingest, `u-${i}`)).status).toBe(201);
    const one = (await (await platform(`/api/platform/v1/tenants/${made.tenant.id}`)).json()) as { usage: { interactions: number; agents: number } };
    expect(one.usage).toMatchObject({ interactions: 3, agents: 1 });
    const page = (await (await platform(`/api/platform/v1/tenants?limit=200&after=${made.tenant.id.slice(0, -1)}`)).json()) as { tenants: { id: string; usage: unknown }[] };
    expect(page.tenants.find((t) => t.id === made.tenant.id)?.usage).toMatchObject({ interactions: 3 });
    const shards = (await (await platform("/api/platform/v1/shards")).json()) as { shards: { binding: string; jurisdiction: string; tenants: number }[] };
    expect(shards.shards.map((s) => s.binding)).toEqual(["SHARD_0", "SHARD_1"]);
  });
});

describe("suspension", () => {
  it("closes every door without storing anything, and takes a provider's retry once after resumption", async () => {
    const id = uniq("s");
    const box = `help@${id}.parley.test`;
    const number = `+44207946${String(1000 + Math.floor(Math.random() * 8999)).padStart(4, "0")}`;
    const made = await provision({
      id, name: "Suspendable", shard: "SHARD_0", admin: { login: "owner" }, secrets: { twilio: "suspended-tenant-twilio-token" },
      config: {
        tenant: { id, name: "Suspendable" },
        agents: [{ id: "ana", login: "ana", fullName: "Ana", role: "agent", password: "Lamp-Harbor-Violet-93", capacity: { email: 1, sms: 1, chat: 1 } }],
        queues: [{ name: "inbound", media: ["email", "sms", "chat", "generic"], steps: [{ type: "route", targets: [{ skills: "*" }] }] }],
        workflows: [{ name: "main", queue: "inbound" }],
        mailboxes: [{ address: box, workflow: "main" }],
        numbers: [{ number, provider: "twilio", mode: "paging", workflow: "main", secret: "twilio" }],
        chat: { workflow: "main", allowedOrigins: ["https://shop.example"] },
      },
    });
    const token = await login(id, "owner", made.admin.password);
    const sid = `SM${crypto.randomUUID().replace(/-/g, "")}`;
    const sms = async () => {
      const params: [string, string][] = [["MessageSid", sid], ["From", "+14155550123"], ["To", number], ["Body", "hello"]];
      const sig = await twilioSignature("suspended-tenant-twilio-token", "http://localhost:8787/api/v1/sms/twilio", params);
      return call("/api/v1/sms/twilio", null, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig }, body: new URLSearchParams(params).toString() });
    };
    const mailId = mid("susp");
    const email = () => routedMessage(`From: jane@customer.example\r\nTo: ${box}\r\nSubject: Hi\r\nMessage-ID: <${mailId}>\r\n\r\nHello`, box);

    expect((await platform(`/api/platform/v1/tenants/${id}/suspend`, { method: "POST", json: { reason: "unpaid invoice" } })).status).toBe(200);
    // The API (keys and tokens), chat, SMS and mail all refuse, each saying why.
    const api = await ingest(made.keys.ingest, "s-1");
    expect(api.status).toBe(403);
    expect(((await api.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: "tenant_suspended", message: expect.stringContaining("suspended") });
    // The operator's reason stays with the operator; the right password learns of the suspension, a wrong one doesn't.
    const view = (await (await platform(`/api/platform/v1/tenants/${id}`)).json()) as { status: string; statusReason: string };
    expect(view).toMatchObject({ status: "suspended", statusReason: "unpaid invoice" });
    expect((await call("/api/v1/auth/login", null, { method: "POST", json: { tenant: id, login: "owner", password: "wrong-password-123" } })).status).toBe(401);
    expect((await call("/api/v1/auth/login", null, { method: "POST", json: { tenant: id, login: "owner", password: made.admin.password } })).status).toBe(403);
    expect((await call("/api/v1/me", token)).status).toBe(403);
    expect((await call(`/api/v1/chat/${id}/config`, null, { headers: { Origin: "https://shop.example" } })).status).toBe(403);
    const refusedSms = await sms();
    expect(refusedSms.status).toBe(503);
    expect(refusedSms.headers.get("Retry-After")).toBeTruthy();
    const m1 = email();
    await handleEmail(m1.m, env);
    expect(m1.rejected()).toContain("suspended");
    for (const table of ["interactions", "sms_messages", "emails"]) expect(await count(env.SHARD_0, table, id)).toBe(0);

    expect((await platform(`/api/platform/v1/tenants/${id}/resume`, { method: "POST" })).status).toBe(200);
    // The provider tries again: taken once, and a second retry is a duplicate.
    expect((await sms()).status).toBe(200);
    expect((await sms()).status).toBe(200);
    expect(await count(env.SHARD_0, "sms_messages", id)).toBe(1);
    const m2 = email();
    await handleEmail(m2.m, env);
    expect(m2.rejected()).toBeNull();
    await handleEmail(email().m, env);
    expect(await count(env.SHARD_0, "emails", id)).toBe(1);
    expect((await ingest(made.keys.ingest, "s-1")).status).toBe(201);
  });

  it("answers 404 for an unknown tenant's suspension", async () => {
    const res = await platform(`/api/platform/v1/tenants/${uniq("nobody")}/suspend`, { method: "POST", json: {} });
    expect(res.status).toBe(404);
  });
});

describe("deletion", () => {
  it("removes the tenant's rows, files and directory entry; its keys and logins stop working", async () => {
    const made = await provision({ id: uniq("d"), name: "Doomed", shard: "SHARD_1", admin: { login: "owner" } });
    const id = made.tenant.id;
    const oldToken = await login(id, "owner", made.admin.password);
    expect((await ingest(made.keys.ingest, "d-1")).status).toBe(201);
    await env.BLOBS.put(`${id}/att/some-file`, "bytes");
    expect((await platform(`/api/platform/v1/tenants/${id}`, { method: "DELETE" })).status).toBe(400);
    const res = await platform(`/api/platform/v1/tenants/${id}?confirm=${id}`, { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ tenant: id, blobs: 1 });
    expect(await count(env.SHARD_1, "interactions", id)).toBe(0);
    expect(await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM tenants WHERE id = ?").bind(id).first<{ n: number }>()).toEqual({ n: 0 });
    expect(await env.BLOBS.get(`${id}/att/some-file`)).toBeNull();
    expect((await ingest(made.keys.ingest, "d-2")).status).toBe(401);
    expect((await call("/api/v1/auth/login", null, { method: "POST", json: { tenant: id, login: "owner", password: made.admin.password } })).status).toBe(401);
    expect((await platform(`/api/platform/v1/tenants/${id}`)).status).toBe(404);
    // The id can be used again, for a new tenant with nothing of the old one.
    const again = await provision({ id, name: "Reborn", shard: "SHARD_1", admin: { login: "owner" } });
    expect((await ingest(again.keys.ingest, "d-1")).status).toBe(201);
    // The old tenant's admin token names the same tenant and login, and opens nothing of the new one.
    expect((await call("/api/v1/admin/config", oldToken)).status).toBe(401);
    expect((await call("/api/v1/admin/config", await login(id, "owner", again.admin.password))).status).toBe(200);
    await until(async () => (await count(env.SHARD_1, "interactions", id)) === 1, "the new tenant's one interaction");
  });
});

describe("suspension and open sockets", () => {
  it("stores nothing a chat socket opened before the suspension sends, until the tenant is resumed", async () => {
    const t = await chatTenant();
    await ready(t, "ana");
    const s = await startChat(t);
    const c = await client(s.chatId, s.token);
    expect((await platform(`/api/platform/v1/tenants/${t.id}/suspend`, { method: "POST", json: {} })).status).toBe(200);
    c.send({ type: "msg", clientId: "while-suspended", text: "Anyone there?" });
    const refused = await c.next((f) => f.type === "error" && f.clientId === "while-suspended", "the refusal");
    expect(refused.error?.code).toBe("tenant_suspended");
    expect(c.messages().some((m) => m.clientId === "while-suspended")).toBe(false);
    expect((await platform(`/api/platform/v1/tenants/${t.id}/resume`, { method: "POST" })).status).toBe(200);
    c.send({ type: "msg", clientId: "after", text: "Anyone there?" });
    await c.next((f) => f.type === "ack" && f.clientId === "after", "the ack after resumption");
  });
});
