// The platform console (/platform/) in a real browser against `wrangler dev` (test/browser/global-setup.ts):
// a wrong platform secret is refused in the server's words; an operator signs in, creates a tenant on
// SHARD_1 (eu), reads its one-time admin password and keys off the page; that admin follows the
// "Sign in as" link into the supervisor console (tenant and login filled in), adds a mailbox in the
// admin section and saves it; mail to that mailbox is then accepted through the email() handler and
// the shown ingest key works; the operator suspends the tenant (its mail refused), resumes it, moves
// it to SHARD_0 and deletes it from its row. The tenant is this file's own: the demo tenant is untouched.
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devVar } from "../../scripts/local.ts";
import { api, ART, base, launch, ok, until } from "./lib.ts";

const TENANT = `pt-${Date.now().toString(36)}`;
const ADMIN = "owner";
const MAILBOX = `support@${TENANT}.parley.test`;

interface TenantView {
  id: string;
  name: string;
  shard: string;
  jurisdiction: string;
  status: string;
  statusReason: string | null;
  usage: { interactions: number; storageBytes: number; agents: number } | null;
}
interface Stored {
  config: { mailboxes?: { address: string; workflow: string; name?: string }[] };
  version: number;
}

let secret: string;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];
/** What the page showed once. */
const shown = { password: "", ingest: "", read: "", signIn: "" };

async function newPage(): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  contexts.push(ctx);
  ctx.on("page", (p) => p.on("pageerror", (e) => pageErrors.push(`${p.url()}: ${e.message}`)));
  const page = await ctx.newPage();
  return { ctx, page };
}

/** The platform API as an operator: the platform secret itself is a bearer the API takes (scripts). */
const platform = <T = Record<string, unknown>>(path: string, init: Parameters<typeof api>[1] = {}) => api<T>(`/api/platform/v1${path}`, { token: secret, ...init });

function rawMail(subject: string, to = MAILBOX): string {
  const id = `<pt-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com>`;
  return [`From: Pat Lee <pat@example.com>`, `To: ${to}`, `Subject: ${subject}`, `Message-ID: ${id}`, "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", "Hello from the platform test.", ""].join("\r\n");
}

/** Through wrangler dev's local email() path, as Email Routing would deliver it. */
async function smtp(subject: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${base}/cdn-cgi/handler/email?from=${encodeURIComponent("pat@example.com")}&to=${encodeURIComponent(MAILBOX)}`, {
    method: "POST",
    headers: { "content-type": "message/rfc822" },
    body: rawMail(subject),
  });
  return { status: res.status, text: await res.text() };
}

beforeAll(async () => {
  // global-setup's ensureDevVars wrote it, and wrangler dev read it from there.
  const s = devVar("PLATFORM_SECRET");
  if (!s) throw new Error(".dev.vars has no PLATFORM_SECRET");
  secret = s;
  browser = await launch();
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  // A run that stopped midway leaves nothing behind.
  if (secret && (await platform(`/tenants/${TENANT}`)).status === 200) await platform(`/tenants/${TENANT}?confirm=${TENANT}`, { method: "DELETE" });
});

describe("platform console", () => {
  let operator: Page;
  let operatorCtx: BrowserContext;

  it("refuses a wrong platform secret with the server's message", async () => {
    ({ page: operator, ctx: operatorCtx } = await newPage());
    const res = await operator.goto(`${base}/platform/`);
    // The page runs only its own scripts (public/_headers), like the desktop and the console.
    expect(res?.headers()["content-security-policy"]).toContain("script-src 'self'");
    await operator.getByLabel("Platform secret").fill("not-the-platform-secret");
    await operator.getByRole("button", { name: "Sign in" }).click();
    const alert = operator.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toContain("wrong platform secret");
    expect(await operator.evaluate<string | null>('sessionStorage.getItem("parley.platform.session")')).toBeNull();
  });

  it("signs in, creates a tenant on SHARD_1 and shows its keys and admin password once", async () => {
    await operator.getByLabel("Platform secret").fill(secret);
    await operator.getByLabel("Your name").fill("browser-test");
    await operator.getByRole("button", { name: "Sign in" }).click();
    await operator.getByRole("heading", { name: "Tenants" }).waitFor();
    await operator.getByText("Operator browser-test").waitFor();
    // Only the operator token is kept, never the secret.
    const stored = await operator.evaluate<string>("JSON.stringify({ session: { ...sessionStorage }, local: { ...localStorage } })");
    expect(stored).not.toContain(secret);
    expect(stored).toContain("parley.platform.session");

    await operator.getByRole("button", { name: "New tenant" }).click();
    const form = operator.getByRole("form", { name: "New tenant" });
    await form.getByLabel("Tenant id").fill(TENANT);
    await form.getByLabel("Tenant name").fill("Platform Test GmbH");
    expect(await form.getByLabel("Jurisdiction").inputValue()).toBe("eu");
    await form.getByLabel("Shard").selectOption("SHARD_1");
    await form.getByLabel("Admin login").fill(ADMIN);
    await form.getByLabel("Admin full name").fill("Olive Owner");
    await form.getByRole("button", { name: "Create tenant" }).click();

    const panel = operator.getByRole("region", { name: `Tenant ${TENANT} created` });
    await panel.waitFor();
    expect(await panel.textContent()).toContain("Shown only once");
    const secretOf = async (label: string) => ((await panel.locator(`[data-secret="${label}"]`).textContent()) ?? "").trim();
    shown.password = await secretOf("Admin password");
    shown.ingest = await secretOf("Ingest key");
    shown.read = await secretOf("Read key");
    expect(await secretOf("Admin login")).toBe(ADMIN);
    expect(shown.password.length).toBeGreaterThanOrEqual(16);
    expect(shown.ingest).not.toBe(shown.read);
    const link = panel.getByRole("link", { name: `Sign in as ${ADMIN}` });
    shown.signIn = (await link.getAttribute("href")) ?? "";
    const target = new URL(shown.signIn);
    expect(target.pathname).toBe("/console/");
    expect(target.searchParams.get("tenant")).toBe(TENANT);
    expect(target.searchParams.get("login")).toBe(ADMIN);
    // The one-time values never reach storage.
    expect(await operator.evaluate<string>("JSON.stringify({ ...sessionStorage, ...localStorage })")).not.toContain(shown.password);

    // Its row: the shard and jurisdiction asked for, active, one agent.
    const row = operator.locator(`tr[data-tenant="${TENANT}"]`);
    await row.waitFor();
    expect(await row.textContent()).toMatch(/Platform Test GmbH.*SHARD_1.*eu.*active/);
    const view = (await platform<TenantView>(`/tenants/${TENANT}`)).body;
    expect(view).toMatchObject({ id: TENANT, shard: "SHARD_1", jurisdiction: "eu", status: "active" });
    expect(view.usage?.agents).toBe(1);
    await operator.screenshot({ path: `${ART}platform-created.png` });

    // The same id again: the form shows the server's refusal.
    await operator.getByRole("button", { name: "New tenant" }).click();
    await form.getByLabel("Tenant id").fill(TENANT);
    await form.getByLabel("Tenant name").fill("Again");
    await form.getByRole("button", { name: "Create tenant" }).click();
    const refusal = form.getByRole("alert");
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain(`a tenant '${TENANT}' exists already`);
    await form.getByRole("button", { name: "Cancel" }).click();
    // The one-time panel is still there until dismissed.
    await panel.waitFor();
  });

  it("lets the new admin sign in through the link, add a mailbox and receive mail on it", async () => {
    expect(shown.signIn).not.toBe("");
    // The link points at PUBLIC_URL (wrangler.toml's localhost:8787); this run's wrangler dev listens elsewhere.
    const publicOrigin = new URL(shown.signIn).origin;
    if (publicOrigin !== base) {
      await operatorCtx.route(`${publicOrigin}/**`, (r) => {
        const u = new URL(r.request().url());
        return r.fulfill({ status: 302, headers: { location: `${base}${u.pathname}${u.search}` } });
      });
    }
    // Followed from the operator's page: it opens the console in a new tab.
    const panel = operator.getByRole("region", { name: `Tenant ${TENANT} created` });
    const [page] = await Promise.all([operatorCtx.waitForEvent("page"), panel.getByRole("link", { name: `Sign in as ${ADMIN}` }).click()]);
    await page.waitForURL(`${base}/console/**`);
    await page.getByLabel("Password").waitFor();
    expect(await page.getByLabel("Tenant").inputValue()).toBe(TENANT);
    expect(await page.getByLabel("Login").inputValue()).toBe(ADMIN);
    await page.getByLabel("Password").fill(shown.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Parley console" }).waitFor();
    await page.getByText("Olive Owner").waitFor();

    await page.getByRole("navigation", { name: "Sections" }).getByRole("button", { name: "Admin" }).click();
    await page.getByRole("tab", { name: "Mailboxes" }).click();
    await page.getByText("No mailboxes yet.").waitFor();
    await page.getByRole("button", { name: "Add mailbox" }).click();
    const box = page.getByRole("textbox", { name: /^mailbox .* \(JSON\)$/ });
    await box.fill(JSON.stringify({ address: MAILBOX, name: "Platform Test support", workflow: "main" }, null, 2));
    await page.getByRole("textbox", { name: `mailbox ${MAILBOX} (JSON)` }).waitFor();
    const bar = page.getByRole("region", { name: "Config changes" });
    await bar.getByText("Unsaved changes").waitFor();
    await bar.getByRole("button", { name: "Save" }).click();
    await bar.getByText("No unsaved changes").waitFor();
    await page.getByText(/Saved: the config is now version \d+/).waitFor();
    await page.screenshot({ path: `${ART}platform-mailbox.png` });

    // Stored: what the admin's own API answers.
    const { token } = await ok<{ token: string }>("/api/v1/auth/login", { json: { tenant: TENANT, login: ADMIN, password: shown.password } });
    const cfg = (await api<Stored>("/api/v1/admin/config", { token })).body;
    expect(cfg.config.mailboxes).toEqual([expect.objectContaining({ address: MAILBOX, workflow: "main" })]);

    // Mail to it: accepted by the email() handler and waiting in the tenant's queue.
    const sent = await smtp("Hello via email()");
    expect(sent, sent.text).toMatchObject({ status: 200 });
    expect(sent.text).toContain("successfully");
    // The ingest key shown once works on the HTTP ingest too.
    const ingested = await api<{ interactionId?: string }>("/api/v1/email/inbound", { token: shown.ingest, raw: rawMail("Hello via the ingest key"), type: "message/rfc822" });
    expect(ingested.status, JSON.stringify(ingested.body)).toBeLessThan(300);
    const subjects = await until(async () => {
      const r = await ok<{ items: { item: { subject?: string } }[] }>("/api/v1/queues/inbound/interactions", { token });
      const s = r.items.map((i) => i.item.subject ?? "");
      return s.includes("Hello via email()") && s.includes("Hello via the ingest key") ? s : null;
    }, "both messages in the inbound queue");
    expect(subjects).toHaveLength(2);
    await page.close(); // the admin is done; the operator takes over
  });

  it("suspends the tenant with a reason (its mail refused), resumes, moves and deletes it from its row", async () => {
    const row = operator.locator(`tr[data-tenant="${TENANT}"]`);
    // Its usage counts both messages (the refresh reads it again).
    await until(async () => (await platform<TenantView>(`/tenants/${TENANT}`)).body.usage?.interactions === 2, "usage: 2 interactions");
    await operator.getByRole("button", { name: "Refresh" }).click();
    await expect.poll(async () => (await row.locator("td.num").first().textContent())?.trim()).toBe("2");

    // Suspend, with a reason the operator keeps (senders are told only that the tenant is suspended).
    await row.getByRole("button", { name: `Suspend ${TENANT}` }).click();
    const suspend = operator.getByRole("dialog", { name: "Suspend tenant" });
    await suspend.getByLabel("Reason").fill("unpaid invoice");
    await suspend.getByRole("button", { name: "Suspend" }).click();
    await row.locator('[data-status="suspended"]').waitFor();
    expect(await row.textContent()).toContain("unpaid invoice");
    const refused = await until(async () => {
      const r = await smtp("While suspended");
      return r.status !== 200 ? r : null;
    }, "mail refused while suspended", 15_000);
    expect(refused.text).toContain("suspended");
    expect(refused.text).not.toContain("unpaid invoice");

    await row.getByRole("button", { name: `Resume ${TENANT}` }).click();
    await row.locator('[data-status="active"]').waitFor();

    // Move to the other EU shard: the row and the API say SHARD_0, its history came along.
    await row.getByRole("button", { name: `Move ${TENANT}` }).click();
    const move = operator.getByRole("dialog", { name: "Move tenant" });
    expect(await move.getByLabel("Target shard").inputValue()).toBe("SHARD_0");
    await move.getByRole("button", { name: "Move" }).click();
    await move.waitFor({ state: "detached", timeout: 60_000 });
    await expect.poll(async () => row.textContent()).toContain("SHARD_0");
    const moved = (await platform<TenantView>(`/tenants/${TENANT}`)).body;
    expect(moved).toMatchObject({ shard: "SHARD_0", status: "active" });
    expect(moved.usage?.interactions).toBe(2);

    // Delete: only with its id typed again.
    await row.getByRole("button", { name: `Delete ${TENANT}` }).click();
    const del = operator.getByRole("dialog", { name: "Delete tenant" });
    const go = del.getByRole("button", { name: "Delete for good" });
    expect(await go.isDisabled()).toBe(true);
    await del.getByLabel(`Type ${TENANT} to confirm`).fill(TENANT.slice(0, -1));
    expect(await go.isDisabled()).toBe(true);
    await del.getByLabel(`Type ${TENANT} to confirm`).fill(TENANT);
    await go.click();
    await row.waitFor({ state: "detached", timeout: 60_000 });
    await operator.getByText(`Deleted ${TENANT}`).waitFor();
    expect((await platform(`/tenants/${TENANT}`)).status).toBe(404);
    expect((await api("/api/v1/auth/login", { json: { tenant: TENANT, login: ADMIN, password: shown.password } })).status).toBe(401);

    // Signing out forgets the operator token.
    await operator.getByRole("button", { name: "Sign out" }).click();
    await operator.getByLabel("Platform secret").waitFor();
    expect(await operator.evaluate<string | null>('sessionStorage.getItem("parley.platform.session")')).toBeNull();
    expect(pageErrors).toEqual([]);
  });
});
