// Issue 12, item 1: a tenant admin could steal a deployment-wide secret. The http mail transport posted
// the platform's MAIL_API_TOKEN to any URL the admin chose (http://, loopback...), `numbers[].secret`
// could name any Worker variable (AUTH_SECRET was accepted), and every tenant's Twilio numbers shared
// one TWILIO_AUTH_TOKEN. Now a tenant's config reaches only that tenant's own secrets (stored
// encrypted in D1, set through an admin API that never reads them back), and outbound URLs are https
// to a public DNS name, checked on save and again before each send.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../workers/index.ts";
import { forgetConfig } from "../../workers/config/store.ts";
import { MAX_SECRETS_PER_TENANT } from "../../workers/secrets/crypto.ts";
import { setTenantSecret, tenantSecret } from "../../workers/secrets/store.ts";
import { planUpgrade, upgradeStatements } from "../../workers/secrets/upgrade.ts";
import { genericSignature } from "../../workers/sms/generic-signature.ts";
import { twilioSignature } from "../../workers/sms/twilio-signature.ts";
import { deliver, mail, mailTenant, mid } from "../email-helpers.ts";
import { tenv, makeTenant, offerFor, post, ready, stateIs, until, type Tenant } from "../helpers.ts";

/** Twilio signs the URL it was given: our PUBLIC_URL (wrangler.toml) and the path. */
const HOOK = "http://localhost:8787/api/v1/sms/twilio";
type Json = Record<string, any>;

afterEach(() => vi.restoreAllMocks());

const number = () => `+1415${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;

const adminTenant = () =>
  makeTenant([{ id: "adm", role: "admin", capacity: {} }, { id: "sup", role: "supervisor", capacity: {} }, { id: "ana", capacity: { sms: 2, email: 1 } }]);

async function getConfig(t: Tenant): Promise<Json> {
  return (await t.call<{ config: Json }>("/api/v1/admin/config", { as: "adm" })).config;
}

/** Loads the tenant's config, changes it, and PUTs it back as the admin: the raw response. */
async function putConfig(t: Tenant, change: (c: Json) => void, envOver?: Partial<Env>): Promise<Response> {
  const c = await getConfig(t);
  change(c);
  const req = new Request("http://parley.test/api/v1/admin/config", { method: "PUT", headers: { Authorization: `Bearer ${t.tokens.adm}`, "Content-Type": "application/json" }, body: JSON.stringify(c) });
  if (!envOver) return exports.default.fetch(req);
  return worker.fetch(req as Request<unknown, IncomingRequestCfProperties>, { ...env, ...envOver } as Env, createExecutionContext());
}

const putSecret = (t: Tenant, name: string, value: string, as = "adm") => t.api(`/api/v1/admin/secrets/${name}`, { method: "PUT", as, json: { value } });

/** Writes a config straight into D1, as an old or hand-edited row would be: no validation on the way. */
async function bypassValidation(t: Tenant, change: (c: Json) => void): Promise<void> {
  const row = await env.SHARD_1.prepare("SELECT config FROM tenants WHERE id = ?").bind(t.id).first<{ config: string }>();
  const c = JSON.parse(row!.config) as Json;
  change(c);
  await env.SHARD_1.batch([
    env.SHARD_1.prepare("UPDATE tenants SET config = ?, config_version = config_version + 1 WHERE id = ?").bind(JSON.stringify(c), t.id),
    ...((c.numbers ?? []) as { number: string }[]).map((n) => env.SHARD_1.prepare("INSERT OR IGNORE INTO number_routes (number, tenant_id) VALUES (?, ?)").bind(n.number, t.id)),
  ]);
  forgetConfig(t.id);
}

async function twilioHook(to: string, token: string): Promise<Response> {
  const sid = `SM${crypto.randomUUID().replace(/-/g, "")}`;
  const params: [string, string][] = [["MessageSid", sid], ["AccountSid", "AC-test"], ["From", "+14155550123"], ["To", to], ["Body", "hello"], ["NumMedia", "0"]];
  return exports.default.fetch(
    new Request("http://parley.test/api/v1/sms/twilio", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": await twilioSignature(token, HOOK, params) },
      body: new URLSearchParams(params).toString(),
    }),
  );
}

async function genericHook(to: string, secret: string): Promise<Response> {
  const raw = JSON.stringify({ id: crypto.randomUUID(), from: "+14155550123", to, text: "hello" });
  const ts = String(Math.floor(Date.now() / 1000));
  return exports.default.fetch(
    new Request("http://parley.test/api/v1/sms/generic", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Parley-Timestamp": ts, "X-Parley-Signature": await genericSignature(secret, ts, new TextEncoder().encode(raw)) },
      body: raw,
    }),
  );
}

const twilioNumber = (n: string, secret: string) => ({ number: n, provider: "twilio", mode: "paging", workflow: "main", accountSid: "AC-test", secret });

describe("1. a tenant's config reaches only that tenant's own secrets", () => {
  describe("outbound URLs of the http mail transport", () => {
    const ATTACKS = [
      "http://mail.provider.example/send",
      "https://localhost/send",
      "https://127.0.0.1:9999/send",
      "https://127.1/send",
      "https://[::1]/send",
      "https://10.0.0.5/send",
      "https://169.254.169.254/latest/meta-data/",
      "https://[fc00::1]/send",
      "https://smtp.corp.internal/send",
      "https://printer.local/send",
      "https://2130706433/send",
    ];

    it("refuses http:, loopback, private, link-local, internal names and IP literals in any form with a 400 naming email.transport.url", async () => {
      const t = await adminTenant();
      await putSecret(t, "mail", "tenant-mail-token");
      for (const url of ATTACKS) {
        const res = await putConfig(t, (c) => (c.email.transport = { kind: "http", url, secret: "mail" }));
        expect(res.status, url).toBe(400);
        const body = (await res.json()) as { error: { code: string; message: string; details: { path: string }[] } };
        expect(body.error.code, url).toBe("invalid_config");
        expect(body.error.message, url).toContain("email.transport.url");
        expect(body.error.details.map((d) => d.path), url).toContain("email.transport.url");
      }
      // A provider's https URL on a public name is taken.
      expect((await putConfig(t, (c) => (c.email.transport = { kind: "http", url: "https://mail.provider.example.com/send", secret: "mail" }))).status).toBe(200);
    });

    it("allows the configured dev host by name (http too), only while it is configured", async () => {
      const t = await adminTenant();
      await putSecret(t, "mail", "tenant-mail-token");
      const dev = (c: Json) => (c.email.transport = { kind: "http", url: "http://mailpit.dev.test:8025/send", secret: "mail" });
      expect((await putConfig(t, dev)).status).toBe(400);
      expect((await putConfig(t, dev, { DEV_OUTBOUND_HOST: "mailpit.dev.test:8025" })).status).toBe(200);
      // The dev host is one name: another http host is refused even then.
      expect((await putConfig(t, (c) => (c.email.transport = { kind: "http", url: "http://127.0.0.1:8025/send", secret: "mail" }), { DEV_OUTBOUND_HOST: "mailpit.dev.test:8025" })).status).toBe(400);
    });
  });

  describe("the transport at send time (defence in depth)", () => {
    /** A tenant with mail in a1's hands, the tenant secret "mail" set, ready to send a reply. */
    async function mailInHand() {
      const t = await mailTenant([{ id: "a1" }, { id: "adm", role: "admin", capacity: {} }]);
      await putSecret(t, "mail", "tenant-mail-token");
      await ready(t, "a1");
      const r = await t.receive(mail({ messageId: mid("sec") }));
      await offerFor(t, "a1", r.interactionId);
      await post(t, `/api/v1/interactions/${r.interactionId}/accept`, "a1");
      return { t, r };
    }
    function recordFetches(answer: (url: string) => Response) {
      const calls: { url: string; auth: string | null; redirect: string | undefined }[] = [];
      vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
        const url = input instanceof Request ? input.url : String(input);
        const headers = new Headers(input instanceof Request ? input.headers : init?.headers);
        calls.push({ url, auth: headers.get("Authorization"), redirect: init?.redirect ?? (input instanceof Request ? input.redirect : undefined) });
        return answer(url);
      });
      return calls;
    }

    it("refuses a stored URL that bypassed validation: marked failed with the reason, nothing sent, no token leaves", async () => {
      const { t, r } = await mailInHand();
      await bypassValidation(t, (c) => (c.email.transport = { kind: "http", url: "http://127.0.0.1:8025/steal", secret: "mail" }));
      const platform = env as unknown as { MAIL_API_TOKEN?: string };
      const before = platform.MAIL_API_TOKEN;
      platform.MAIL_API_TOKEN = "platform-mail-token";
      try {
        const calls = recordFetches(() => Response.json({ id: "stolen" }));
        const d = await t.call<{ id: string; emailId: string }>(`/api/v1/interactions/${r.interactionId}/replies`, { method: "POST", as: "a1", json: { text: "hi", send: true }, expect: 201 });
        await deliver(t.id, [d.emailId]);
        expect(calls).toEqual([]);
        const row = await env.SHARD_1.prepare("SELECT status, last_error FROM emails WHERE tenant_id = ? AND id = ?").bind(t.id, d.emailId).first<{ status: string; last_error: string }>();
        expect(row!.status).toBe("failed");
        expect(row!.last_error).toContain("email.transport.url");
        expect(row!.last_error).toMatch(/https/);
        const i = await stateIs(t, d.id, "failed");
        expect(JSON.stringify(i.history)).not.toMatch(/tenant-mail-token|platform-mail-token/);
      } finally {
        platform.MAIL_API_TOKEN = before;
      }
    });

    it("sends the tenant's own secret (never MAIL_API_TOKEN) and does not follow a redirect", async () => {
      const { t, r } = await mailInHand();
      expect((await putConfig(t, (c) => (c.email.transport = { kind: "http", url: "https://mail.provider.example.com/send", secret: "mail" }))).status).toBe(200);
      const calls = recordFetches((url) => (url.startsWith("https://mail.provider.example.com/") ? new Response(null, { status: 302, headers: { Location: "http://127.0.0.1:8025/steal" } }) : Response.json({})));
      const d = await t.call<{ id: string; emailId: string }>(`/api/v1/interactions/${r.interactionId}/replies`, { method: "POST", as: "a1", json: { text: "hi", send: true }, expect: 201 });
      await deliver(t.id, [d.emailId]);
      expect(calls.map((c) => c.url)).toEqual(["https://mail.provider.example.com/send"]);
      expect(calls[0]!.auth).toBe("Bearer tenant-mail-token");
      expect(calls[0]!.redirect).toBe("manual");
      const row = await env.SHARD_1.prepare("SELECT status, last_error FROM emails WHERE tenant_id = ? AND id = ?").bind(t.id, d.emailId).first<{ status: string; last_error: string }>();
      expect(row!.status).toBe("failed");
      expect(row!.last_error).toMatch(/redirect/);
    });
  });

  describe("numbers[].secret names only the tenant's own secrets", () => {
    it("refuses numbers[].secret: AUTH_SECRET (a Worker variable, not a secret of this tenant) with a 400 naming the field", async () => {
      const t = await adminTenant();
      const res = await putConfig(t, (c) => (c.numbers = [twilioNumber(number(), "AUTH_SECRET")]));
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { message: string } };
      expect(body.error.message).toContain("numbers[0].secret");
    });

    it("cannot use a Worker variable even from a config that bypassed validation: signed with AUTH_SECRET, refused", async () => {
      const t = await adminTenant();
      const tw = number();
      const gen = number();
      await bypassValidation(t, (c) => (c.numbers = [twilioNumber(tw, "AUTH_SECRET"), { number: gen, provider: "generic", mode: "paging", workflow: "main", secret: "AUTH_SECRET" }]));
      expect((await twilioHook(tw, env.AUTH_SECRET)).status).toBe(403);
      expect((await genericHook(gen, env.AUTH_SECRET)).status).toBe(403);
      const made = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM sms_messages WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
      expect(made!.n).toBe(0);
    });
  });

  describe("per-tenant Twilio credentials", () => {
    it("refuses a webhook signed with tenant A's token for tenant B's number (403); B's own signature works", async () => {
      const a = await adminTenant();
      const b = await adminTenant();
      const [na, nb] = [number(), number()];
      expect((await putSecret(a, "twilio", "token-of-tenant-a-0000000000000000")).status).toBe(200);
      expect((await putSecret(b, "twilio", "token-of-tenant-b-1111111111111111")).status).toBe(200);
      expect((await putConfig(a, (c) => (c.numbers = [twilioNumber(na, "twilio")]))).status).toBe(200);
      expect((await putConfig(b, (c) => (c.numbers = [twilioNumber(nb, "twilio")]))).status).toBe(200);
      const cross = await twilioHook(nb, "token-of-tenant-a-0000000000000000");
      expect(cross.status).toBe(403);
      expect((await twilioHook(nb, "token-of-tenant-b-1111111111111111")).status).toBe(200);
      expect((await twilioHook(na, "token-of-tenant-a-0000000000000000")).status).toBe(200);
      // The platform's default token opens nothing.
      expect((await twilioHook(nb, "test-twilio-auth-token-0000000000")).status).toBe(403);
    });

    it("refuses a generic webhook and an MM7 login made with another tenant's secret", async () => {
      const a = await adminTenant();
      const b = await adminTenant();
      const nb = number();
      await putSecret(a, "relay", "secret-of-tenant-a");
      await putSecret(b, "relay", "secret-of-tenant-b");
      expect((await putConfig(b, (c) => (c.numbers = [{ number: nb, provider: "generic", mode: "paging", workflow: "main", secret: "relay" }]))).status).toBe(200);
      expect((await genericHook(nb, "secret-of-tenant-a")).status).toBe(403);
      expect((await genericHook(nb, "secret-of-tenant-b")).status).toBe(200);
      const mm7 = (password: string) =>
        exports.default.fetch(
          new Request("http://parley.test/api/v1/mms/mm7", {
            method: "POST",
            headers: { "Content-Type": "text/xml", Authorization: `Basic ${btoa(`relay:${password}`)}` },
            body: `<?xml version="1.0"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Header><TransactionID xmlns="http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4">${crypto.randomUUID()}</TransactionID></env:Header><env:Body><DeliverReq xmlns="http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4"><MM7Version>6.8.0</MM7Version><Sender><Number>+14155550123</Number></Sender><Recipients><To><Number>${nb}</Number></To></Recipients><Subject>hi</Subject></DeliverReq></env:Body></env:Envelope>`,
          }),
        );
      expect((await mm7("secret-of-tenant-a")).status).toBe(401);
      expect((await mm7("secret-of-tenant-b")).status).toBe(200);
    });
  });

  describe("the secrets API", () => {
    it("never returns a value: not on PUT, not in the list, not by name", async () => {
      const t = await adminTenant();
      const value = "very-secret-value-0123456789";
      const put = await putSecret(t, "twilio", value);
      expect(put.status).toBe(200);
      const putText = await put.text();
      expect(putText).not.toContain(value);
      expect(JSON.parse(putText)).toMatchObject({ name: "twilio" });
      const list = await t.api("/api/v1/admin/secrets", { as: "adm" });
      expect(list.status).toBe(200);
      const listText = await list.text();
      expect(listText).not.toContain(value);
      const names = (JSON.parse(listText) as { secrets: { name: string; updatedAt: number }[] }).secrets;
      expect(names).toEqual([{ name: "twilio", updatedAt: expect.any(Number) }]);
      const one = await t.api("/api/v1/admin/secrets/twilio", { as: "adm" });
      expect(one.status).not.toBe(200);
      expect(await one.text()).not.toContain(value);
      // The config names it; it does not carry it.
      expect((await putConfig(t, (c) => (c.numbers = [twilioNumber(number(), "twilio")]))).status).toBe(200);
      expect(JSON.stringify(await getConfig(t))).not.toContain(value);
    });

    it("is admin-only: a supervisor and an agent get 403 on every verb, and change nothing", async () => {
      const t = await adminTenant();
      await putSecret(t, "twilio", "admin-set-value");
      for (const as of ["sup", "ana"]) {
        expect((await t.api("/api/v1/admin/secrets", { as })).status, as).toBe(403);
        expect((await putSecret(t, "twilio", "overwritten", as)).status, as).toBe(403);
        expect((await t.api("/api/v1/admin/secrets/twilio", { method: "DELETE", as })).status, as).toBe(403);
      }
      // Nor the ingest key.
      expect((await t.api("/api/v1/admin/secrets")).status).toBe(401);
      const rows = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM tenant_secrets WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
      expect(rows!.n).toBe(1);
    });

    it("keeps tenants apart: another tenant's admin sees, overwrites and deletes only its own", async () => {
      const a = await adminTenant();
      const b = await adminTenant();
      const na = number();
      await putSecret(a, "twilio", "token-of-tenant-a-2222222222222222");
      await putConfig(a, (c) => (c.numbers = [twilioNumber(na, "twilio")]));
      await putSecret(a, "only-a", "x");
      const listB = await b.call<{ secrets: { name: string }[] }>("/api/v1/admin/secrets", { as: "adm" });
      expect(listB.secrets).toEqual([]);
      expect((await b.api("/api/v1/admin/secrets/only-a", { method: "DELETE", as: "adm" })).status).toBe(404);
      // B's "twilio" is B's: A's number still verifies with A's token only.
      expect((await putSecret(b, "twilio", "token-of-tenant-b-3333333333333333")).status).toBe(200);
      expect((await twilioHook(na, "token-of-tenant-a-2222222222222222")).status).toBe(200);
      expect((await twilioHook(na, "token-of-tenant-b-3333333333333333")).status).toBe(403);
      // B's token cannot even reach A's number if B's row were copied under A's id: the row is bound to its tenant.
      await env.SHARD_1.prepare("UPDATE tenant_secrets SET ciphertext = (SELECT ciphertext FROM tenant_secrets WHERE tenant_id = ? AND name = 'twilio'), iv = (SELECT iv FROM tenant_secrets WHERE tenant_id = ? AND name = 'twilio') WHERE tenant_id = ? AND name = 'twilio'")
        .bind(b.id, b.id, a.id)
        .run();
      expect((await twilioHook(na, "token-of-tenant-b-3333333333333333")).status).toBe(403);
    });

    it("stores values encrypted: the D1 row holds neither the plaintext nor its base64", async () => {
      const t = await adminTenant();
      const value = "plain-text-token-4444444444444444";
      await putSecret(t, "twilio", value);
      const rows = await env.SHARD_1.prepare("SELECT * FROM tenant_secrets WHERE tenant_id = ?").bind(t.id).all();
      expect(rows.results).toHaveLength(1);
      const dump = JSON.stringify(rows.results);
      expect(dump).not.toContain(value);
      expect(dump).not.toContain(btoa(value));
      expect(dump).not.toContain(btoa(value).slice(0, 16));
    });

    it("refuses a bad name or value, and a delete of a secret the config still uses (409)", async () => {
      const t = await adminTenant();
      expect((await putSecret(t, "no/slash", "x")).status).toBe(404);
      expect((await putSecret(t, "bad name!", "x")).status).toBe(400);
      expect((await putSecret(t, "twilio", "")).status).toBe(400);
      expect((await putSecret(t, "twilio", "x".repeat(10_000))).status).toBe(400);
      await putSecret(t, "twilio", "in-use-value");
      await putConfig(t, (c) => (c.numbers = [twilioNumber(number(), "twilio")]));
      const del = await t.api("/api/v1/admin/secrets/twilio", { method: "DELETE", as: "adm" });
      expect(del.status).toBe(409);
      expect(await del.text()).toContain("numbers[0].secret");
      await putConfig(t, (c) => (c.numbers = []));
      expect((await t.api("/api/v1/admin/secrets/twilio", { method: "DELETE", as: "adm" })).status).toBe(204);
      expect((await t.call<{ secrets: unknown[] }>("/api/v1/admin/secrets", { as: "adm" })).secrets).toEqual([]);
    });

    it("keeps at most MAX_SECRETS_PER_TENANT secrets per tenant (409 too_many_secrets); replacing one still works", async () => {
      const t = await adminTenant();
      await env.SHARD_1.batch(Array.from({ length: MAX_SECRETS_PER_TENANT }, (_, i) => env.SHARD_1.prepare("INSERT INTO tenant_secrets (tenant_id, name, ciphertext, iv, updated_at) VALUES (?, ?, 'x', 'x', 0)").bind(t.id, `s${i}`)));
      const over = await putSecret(t, "one-more", "v");
      expect(over.status).toBe(409);
      expect(await over.json()).toMatchObject({ error: { code: "too_many_secrets" } });
      expect((await putSecret(t, "s0", "v")).status).toBe(200);
    });
  });
});

describe("review follow-up 5: the platform key", () => {
  const hexKey = () => Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, "0")).join("");

  it("refuses to seal or open under a guessable SECRETS_KEY (32 × 'a'): 503 secrets_unavailable, nothing stored", async () => {
    const t = await adminTenant();
    const weak = { ...env, SECRETS_KEY: "a".repeat(32) } as Env;
    const res = await worker.fetch(
      new Request(`http://parley.test/api/v1/admin/secrets/twilio`, { method: "PUT", headers: { Authorization: `Bearer ${t.tokens.adm}`, "Content-Type": "application/json" }, body: JSON.stringify({ value: "v" }) }) as Request<unknown, IncomingRequestCfProperties>,
      weak,
      createExecutionContext(),
    );
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: "secrets_unavailable" } });
    expect((await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM tenant_secrets WHERE tenant_id = ?").bind(t.id).first<{ n: number }>())!.n).toBe(0);
  });

  it("rotates: a secret sealed under SECRETS_KEY_PREVIOUS still opens, and is re-sealed under the new key", async () => {
    const t = await adminTenant();
    const [oldKey, newKey] = [hexKey(), hexKey()];
    await setTenantSecret({ ...(await tenv(t.id)), SECRETS_KEY: oldKey }, t.id, "twilio", "rotated-value");
    const before = await env.SHARD_1.prepare("SELECT ciphertext FROM tenant_secrets WHERE tenant_id = ? AND name = 'twilio'").bind(t.id).first<{ ciphertext: string }>();
    // Without the previous key, the new one alone does not open it.
    expect(await tenantSecret({ ...(await tenv(t.id)), SECRETS_KEY: newKey }, t.id, "twilio")).toBeUndefined();
    const rotating = { ...(await tenv(t.id)), SECRETS_KEY: newKey, SECRETS_KEY_PREVIOUS: oldKey };
    expect(await tenantSecret(rotating, t.id, "twilio")).toBe("rotated-value");
    const after = await env.SHARD_1.prepare("SELECT ciphertext FROM tenant_secrets WHERE tenant_id = ? AND name = 'twilio'").bind(t.id).first<{ ciphertext: string }>();
    expect(after!.ciphertext).not.toBe(before!.ciphertext);
    // Re-sealed: the new key alone opens it now.
    expect(await tenantSecret({ ...(await tenv(t.id)), SECRETS_KEY: newKey }, t.id, "twilio")).toBe("rotated-value");
  });
});

describe("review follow-up 7: the secrets cap and the in-use check are atomic", () => {
  it("lets only one of several concurrent PUTs of new names take the last place under MAX_SECRETS_PER_TENANT", async () => {
    const t = await adminTenant();
    await env.SHARD_1.batch(Array.from({ length: MAX_SECRETS_PER_TENANT - 1 }, (_, i) => env.SHARD_1.prepare("INSERT INTO tenant_secrets (tenant_id, name, ciphertext, iv, updated_at) VALUES (?, ?, 'x', 'x', 0)").bind(t.id, `s${i}`)));
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => putSecret(t, `race${i}`, "v")));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409, 409, 409, 409, 409]);
    const n = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM tenant_secrets WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
    expect(n!.n).toBe(MAX_SECRETS_PER_TENANT);
  });

  it("refuses a DELETE of a secret the stored config names, checked in the same statement as the delete (409, row kept)", async () => {
    const t = await adminTenant();
    await putSecret(t, "relay", "v");
    await putSecret(t, "mail", "w");
    await bypassValidation(t, (c) => {
      c.numbers = [{ number: number(), provider: "generic", mode: "paging", workflow: "main", secret: "relay" }];
      c.email.transport = { kind: "http", url: "https://mail.provider.example.com/send", secret: "mail" };
    });
    for (const name of ["relay", "mail"]) {
      const del = await t.api(`/api/v1/admin/secrets/${name}`, { method: "DELETE", as: "adm" });
      expect(del.status, name).toBe(409);
      expect(await del.json(), name).toMatchObject({ error: { code: "secret_in_use" } });
    }
    expect((await t.api("/api/v1/admin/secrets/nope", { method: "DELETE", as: "adm" })).status).toBe(404);
    const n = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM tenant_secrets WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
    expect(n!.n).toBe(2);
  });
});

// Review follow-up 2: the test Worker no longer binds TWILIO_AUTH_TOKEN or SMS_GENERIC_SECRET, and
// each tenant's token differs from any platform value, so a regression to a platform-wide token
// fails here. Two tenants on the same Twilio account id, each with its own token.
describe("review follow-up 2: every Twilio credential used is the owning tenant's", () => {
  const TOKEN_A = "tenant-a-twilio-token-1c3e5a7b9d";
  const TOKEN_B = "tenant-b-twilio-token-2d4f6b8c0e";
  const basic = (token: string) => `Basic ${btoa(`AC-test:${token}`)}`;

  async function pair() {
    const na = number();
    const nb = number();
    const a = await makeTenant([{ id: "ana", capacity: { sms: 2 } }], undefined, { numbers: [{ number: na, provider: "twilio", mode: "paging", workflow: "main", accountSid: "AC-test", secret: "twilio" }] }, { secrets: { twilio: TOKEN_A } });
    const b = await makeTenant([{ id: "ana", capacity: { sms: 2 } }], undefined, { numbers: [{ number: nb, provider: "twilio", mode: "paging", workflow: "main", accountSid: "AC-test", secret: "twilio" }] }, { secrets: { twilio: TOKEN_B } });
    return { a: Object.assign(a, { number: na }), b: Object.assign(b, { number: nb }) };
  }

  /** Records the Authorization of every call to Twilio's API and answers it. */
  function twilioApi(answer: (url: string) => Response): { url: string; auth: string | null }[] {
    const realFetch = globalThis.fetch;
    const calls: { url: string; auth: string | null }[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!url.startsWith("https://api.twilio.com/")) return realFetch(input, init);
      calls.push({ url, auth: new Headers(init?.headers).get("Authorization") });
      return answer(url);
    });
    return calls;
  }

  async function signedForm(path: string, token: string, params: [string, string][]): Promise<Response> {
    return exports.default.fetch(
      new Request(`http://parley.test${path}`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": await twilioSignature(token, `http://localhost:8787${path}`, params) },
        body: new URLSearchParams(params).toString(),
      }),
    );
  }

  it("fetches MMS media with the owning tenant's token, never another tenant's", async () => {
    const { a, b } = await pair();
    const calls = twilioApi(() => new Response(new Uint8Array([0xff, 0xd8, 0xff, 1])));
    for (const [t, token] of [[b, TOKEN_B], [a, TOKEN_A]] as const) {
      const sid = `MM${crypto.randomUUID().replace(/-/g, "")}`;
      const media = `https://api.twilio.com/2010-04-01/Accounts/AC-test/Messages/${sid}/Media/ME1`;
      const p: [string, string][] = [["MessageSid", sid], ["AccountSid", "AC-test"], ["From", "+14155550123"], ["To", t.number], ["Body", "photo"], ["NumMedia", "1"], ["MediaUrl0", media], ["MediaContentType0", "image/jpeg"]];
      expect((await signedForm("/api/v1/sms/twilio", token, p)).status).toBe(200);
      expect(calls.filter((c) => c.url === media).map((c) => c.auth)).toEqual([basic(token)]);
    }
  });

  it("sends an agent's SMS with the owning tenant's token, and takes its status callback only when signed with that token", async () => {
    const { a, b } = await pair();
    const outSid = `SM${crypto.randomUUID().replace(/-/g, "")}`;
    const calls = twilioApi(() => Response.json({ sid: outSid, status: "queued" }, { status: 201 }));
    // A customer writes to B; B's agent answers.
    await ready(b, "ana");
    const inSid = `SM${crypto.randomUUID().replace(/-/g, "")}`;
    const inbound: [string, string][] = [["MessageSid", inSid], ["AccountSid", "AC-test"], ["From", "+14155550123"], ["To", b.number], ["Body", "hello"], ["NumMedia", "0"]];
    expect((await signedForm("/api/v1/sms/twilio", TOKEN_B, inbound)).status).toBe(200);
    const row = await env.SHARD_1.prepare("SELECT interaction_id FROM sms_messages WHERE tenant_id = ?").bind(b.id).first<{ interaction_id: string }>();
    await offerFor(b, "ana", row!.interaction_id);
    await post(b, `/api/v1/interactions/${row!.interaction_id}/accept`, "ana");
    const sent = await b.call<{ smsId: string }>(`/api/v1/interactions/${row!.interaction_id}/sms`, { method: "POST", as: "ana", json: { text: "On its way" }, expect: 202 });
    const batch = createMessageBatch("parley-sends", [{ id: `m-${sent.smsId}`, timestamp: new Date(), attempts: 1, body: { tenant: b.id, smsId: sent.smsId } }]);
    const ctx = createExecutionContext();
    await worker.queue!(batch, env, ctx);
    await getQueueResult(batch, ctx);
    const status = () => env.SHARD_1.prepare("SELECT status FROM sms_messages WHERE tenant_id = ? AND id = ?").bind(b.id, sent.smsId).first<{ status: string }>();
    await until(async () => (await status())?.status === "queued", "the SMS handed to Twilio");
    const sends = calls.filter((c) => c.url.endsWith("/Messages.json"));
    expect(sends.length).toBeGreaterThan(0);
    for (const c of sends) expect(c.auth).toBe(basic(TOKEN_B));
    // Its status callback: A's token (same account id) is refused; B's is taken.
    const cb: [string, string][] = [["MessageSid", outSid], ["MessageStatus", "delivered"], ["From", b.number], ["To", "+14155550123"], ["AccountSid", "AC-test"]];
    expect((await signedForm("/api/v1/sms/twilio/status", TOKEN_A, cb)).status).toBe(403);
    expect((await status())!.status).toBe("queued");
    expect((await signedForm("/api/v1/sms/twilio/status", TOKEN_B, cb)).status).toBe(204);
    expect((await status())!.status).toBe("delivered");
    void a;
  });
});

// Review follow-up 1: configs stored before tenant secrets name the old Worker variables
// (numbers[].secret: "TWILIO_AUTH_TOKEN", the old default; http transports have no secret and used
// MAIL_API_TOKEN). The operator's one-time upgrade (scripts/upgrade-secrets.ts, built on
// workers/secrets/upgrade.ts) seals the values the operator gives under tenant-secret names and
// rewrites the references; until then GET /api/v1/admin/config names what does not resolve.
describe("review follow-up 1: the upgrade of configs that name legacy Worker variables", () => {
  const PLATFORM_TWILIO = "platform-twilio-token-before-upgrade-77";
  const PLATFORM_MAIL = "platform-mail-token-before-upgrade-88";

  async function legacyTenant() {
    const t = await adminTenant();
    const n = number();
    await bypassValidation(t, (c) => {
      c.numbers = [{ number: n, provider: "twilio", mode: "paging", workflow: "main", accountSid: "AC-test", secret: "TWILIO_AUTH_TOKEN", idleTimeoutSeconds: 1800 }];
      c.email.transport = { kind: "http", url: "https://mail.provider.example.com/send" };
    });
    return Object.assign(t, { number: n });
  }

  async function upgrade(t: Tenant, values: Record<string, string>) {
    const row = await env.SHARD_1.prepare("SELECT config, config_version FROM tenants WHERE id = ?").bind(t.id).first<{ config: string; config_version: number }>();
    const have = await env.SHARD_1.prepare("SELECT name FROM tenant_secrets WHERE tenant_id = ?").bind(t.id).all<{ name: string }>();
    const plan = planUpgrade({ tenantId: t.id, config: JSON.parse(row!.config), version: row!.config_version, secrets: have.results.map((r) => r.name) }, values);
    const st = await upgradeStatements(plan, env.SECRETS_KEY!);
    if (st.length) await env.SHARD_1.batch(st.map((s) => env.SHARD_1.prepare(s.sql).bind(...s.params)));
    forgetConfig(t.id);
    return plan;
  }

  type Warned = { warnings?: { path: string; message: string }[] };

  it("names every secret reference that does not resolve in GET /api/v1/admin/config (warnings), none once upgraded", async () => {
    const t = await legacyTenant();
    const before = await t.call<Warned>("/api/v1/admin/config", { as: "adm" });
    expect(before.warnings?.map((w) => w.path).sort()).toEqual(["email.transport.secret", "numbers[0].secret"]);
    expect(JSON.stringify(before.warnings)).toContain("TWILIO_AUTH_TOKEN");
    await upgrade(t, { TWILIO_AUTH_TOKEN: PLATFORM_TWILIO, MAIL_API_TOKEN: PLATFORM_MAIL });
    const after = await t.call<Warned & { config: Json }>("/api/v1/admin/config", { as: "adm" });
    expect(after.warnings ?? []).toEqual([]);
    expect(after.config.numbers[0].secret).toBe("twilio");
    expect(after.config.email.transport.secret).toBe("mail");
  });

  it("makes a legacy number's webhooks work again with the value the operator gave, as the tenant's own secret", async () => {
    const t = await legacyTenant();
    expect((await twilioHook(t.number, PLATFORM_TWILIO)).status).toBe(403);
    const plan = await upgrade(t, { TWILIO_AUTH_TOKEN: PLATFORM_TWILIO, MAIL_API_TOKEN: PLATFORM_MAIL });
    expect(plan.seal.map((x) => [x.legacy, x.name]).sort()).toEqual([["MAIL_API_TOKEN", "mail"], ["TWILIO_AUTH_TOKEN", "twilio"]]);
    expect((await twilioHook(t.number, PLATFORM_TWILIO)).status).toBe(200);
    expect(await tenantSecret(await tenv(t.id), t.id, "mail")).toBe(PLATFORM_MAIL);
    // The config is valid again: the admin can save it unchanged.
    expect((await putConfig(t, () => {})).status).toBe(200);
    // A second run changes nothing.
    const again = await upgrade(t, { TWILIO_AUTH_TOKEN: PLATFORM_TWILIO, MAIL_API_TOKEN: PLATFORM_MAIL });
    expect(again.seal).toEqual([]);
    expect(again.changes).toEqual([]);
  });

  it("never seals a platform-only variable (AUTH_SECRET, SECRETS_KEY...) into a tenant, even if the operator passes it", async () => {
    const t = await adminTenant();
    await bypassValidation(t, (c) => (c.numbers = [{ number: number(), provider: "generic", mode: "paging", workflow: "main", secret: "AUTH_SECRET" }]));
    const plan = await upgrade(t, { AUTH_SECRET: "test-secret-not-for-production" });
    expect(plan.seal).toEqual([]);
    expect(plan.problems.join(" ")).toContain("AUTH_SECRET");
    expect((await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM tenant_secrets WHERE tenant_id = ?").bind(t.id).first<{ n: number }>())!.n).toBe(0);
  });

  it("keeps a tenant secret the tenant already set under the new name: the legacy value goes under the legacy name", async () => {
    const t = await legacyTenant();
    await putSecret(t, "twilio", "tenant-chose-this-for-a-new-number");
    const plan = await upgrade(t, { TWILIO_AUTH_TOKEN: PLATFORM_TWILIO, MAIL_API_TOKEN: PLATFORM_MAIL });
    expect(plan.seal.find((x) => x.legacy === "TWILIO_AUTH_TOKEN")?.name).toBe("TWILIO_AUTH_TOKEN");
    expect(await tenantSecret(await tenv(t.id), t.id, "twilio")).toBe("tenant-chose-this-for-a-new-number");
    expect((await twilioHook(t.number, PLATFORM_TWILIO)).status).toBe(200);
  });
});
