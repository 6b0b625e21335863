// Shared by the desktop and console browser tests: the API from Node, waiting, a browser with
// Debian's chromium, logging in through the apps' own login forms, and screenshots.
import { mkdirSync } from "node:fs";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, inject } from "vitest";

export const base = inject("baseUrl");
export const ingestKey = inject("ingestKey");
export const readKey = inject("readKey");
export const ART = new URL("../../test-artifacts/", import.meta.url).pathname;
mkdirSync(ART, { recursive: true });

export interface Answer<T> {
  status: number;
  body: T;
}

export async function api<T = Record<string, unknown>>(path: string, init: { token?: string; json?: unknown; method?: string; raw?: string; type?: string; headers?: Record<string, string> } = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body: string | undefined;
  if (init.raw !== undefined) {
    body = init.raw;
    headers["content-type"] = init.type ?? "text/plain";
  } else if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers["content-type"] = "application/json";
  }
  const res = await fetch(`${base}${path}`, { method: init.method ?? (body === undefined ? "GET" : "POST"), headers, body });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed as T };
}

export async function ok<T = Record<string, unknown>>(path: string, init: Parameters<typeof api>[1] = {}): Promise<T> {
  const r = await api<T>(path, init);
  if (r.status >= 300) throw new Error(`${init.method ?? "request"} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function until<T>(fn: () => Promise<T | null | undefined | false>, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
}

const tokens = new Map<string, Promise<string>>();

/** A login's API token (one sign-in per login and test file: the tokens last hours). */
export function tokenOf(login: string): Promise<string> {
  let t = tokens.get(login);
  if (!t) {
    t = ok<{ token: string }>("/api/v1/auth/login", { json: { tenant: "demo", login, password: "parley-demo" } }).then((r) => r.token);
    t.catch(() => tokens.delete(login));
    tokens.set(login, t);
  }
  return t;
}

/** An agent logged in to routing and ready on every media, through the API; answers the token. */
export async function readyAgent(login: string): Promise<string> {
  const token = await tokenOf(login);
  await ok("/api/v1/me/login", { token, json: { ready: true } });
  return token;
}

const AGENTS = ["ana", "ben", "chloe", "dev", "sam"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every demo agent out of routing with nothing in hand, so work goes only where a test sends it and
 *  no agent is full from an earlier test (the test files share one tenant). */
export async function everyoneOut(): Promise<void> {
  for (const login of AGENTS) {
    const token = await tokenOf(login);
    const me = await ok<{ work: { interactionId: string }[] }>("/api/v1/me", { token });
    for (const w of me.work) await api(`/api/v1/interactions/${w.interactionId}/done`, { token, method: "POST" });
    await ok("/api/v1/me/logout", { token, method: "POST" });
  }
}

/** The state every test starts from: every agent out of routing with nothing in hand or offered,
 *  and every queue and shared workbin empty of waiting work (stopped by a supervisor), so nothing an
 *  earlier test left (an email nobody took, the offline form's message) is offered in this one. */
export async function cleanSlate(): Promise<void> {
  await everyoneOut();
  const sam = await tokenOf("sam");
  const { queues } = await ok<{ queues: { name: string }[] }>("/api/v1/queues", { token: sam });
  let stuck: string[] = [];
  for (let round = 0; round < 40; round++) {
    stuck = [];
    for (const q of queues) {
      const waiting = (await ok<{ items: { id: string }[] }>(`/api/v1/queues/${q.name}/interactions`, { token: sam })).items.map((i) => i.id);
      const parked = (await ok<{ items: { interactionId: string }[] }>(`/api/v1/queues/${q.name}/workbin`, { token: sam })).items.map((i) => i.interactionId);
      for (const id of [...waiting, ...parked]) {
        const r = await api<{ error?: { code: string } }>(`/api/v1/interactions/${id}/stop`, { token: sam, json: { reason: "browser test: clean slate" } });
        // A reply waiting for QA review is never offered to an agent: it may stay.
        if (r.status >= 300 && r.body.error?.code !== "in_review") stuck.push(`${q.name}/${id}: ${r.status} ${r.body.error?.code ?? ""}`);
      }
    }
    // An item being offered or written to D1 at this instant answers 409: once more in a moment.
    if (stuck.length === 0) return;
    await sleep(250);
  }
  throw new Error(`clean slate: could not stop ${stuck.join(", ")}`);
}

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

export interface Opened {
  page: Page;
  ctx: BrowserContext;
  /** Uncaught errors and dialogs (alert, confirm) the page raised: a script that ran. */
  problems: string[];
}

export async function open(browser: Browser, path: string, viewport = { width: 1440, height: 900 }, initScript?: string): Promise<Opened> {
  const ctx = await browser.newContext({ viewport });
  if (initScript) await ctx.addInitScript({ content: initScript });
  const page = await ctx.newPage();
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("dialog", (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  await page.goto(`${base}${path}`);
  return { page, ctx, problems };
}

/** Signs in through the app's own login form. */
export async function signIn(page: Page, login: string): Promise<void> {
  await page.getByLabel("Login").fill(login);
  await page.getByLabel("Password").fill("parley-demo");
  await page.getByRole("button", { name: "Sign in" }).click();
}

export const shot = (page: Page, name: string) => page.screenshot({ path: `${ART}${name}.png`, fullPage: false });

/** A raw email into the demo mailbox, through the HTTP ingest (the same path as email()). */
export async function mail(subject: string, body: string, opts: { html?: boolean; from?: string } = {}): Promise<string> {
  const from = opts.from ?? "pat@example.com";
  const id = `<t-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com>`;
  const raw = [`From: Pat Lee <${from}>`, "To: support@demo.parley.test", `Subject: ${subject}`, `Message-ID: ${id}`, "MIME-Version: 1.0", `Content-Type: ${opts.html ? "text/html" : "text/plain"}; charset=utf-8`, "", body, ""].join("\r\n");
  const r = await ok<{ interactionId: string }>("/api/v1/email/inbound", { token: ingestKey, raw, type: "message/rfc822" });
  return r.interactionId;
}

/** An agent's desktop, signed in and ready on every media. */
export async function deskAs(browser: Browser, login: string, initScript?: string): Promise<Opened> {
  const o = await open(browser, "/desk/", undefined, initScript);
  await signIn(o.page, login);
  await o.page.getByRole("button", { name: "Log in to routing" }).click();
  await o.page.locator("[data-presence=ready]").waitFor();
  return o;
}

/** Accepts, from its toast, the offer whose text matches. */
export async function acceptOffer(page: Page, text: string | RegExp): Promise<void> {
  const offer = page.getByRole("alertdialog").filter({ hasText: text });
  await offer.waitFor({ timeout: 30_000 });
  await offer.getByRole("button", { name: "Accept" }).click();
  await page.locator("[data-interaction]").filter({ hasText: text }).first().waitFor();
}

/** A test file's browser: launched before, closed after; each test starts from the clean slate (the
 *  files share one tenant), and the desktops and pages it opened are closed when it ends. */
export function browserSuite(): { desk: (login: string, initScript?: string) => Promise<Opened>; page: (path: string, viewport?: { width: number; height: number }) => Promise<Opened> } {
  let browser: Browser;
  const opened: Opened[] = [];
  const closeAll = async () => {
    for (const o of opened.splice(0)) await o.ctx.close().catch(() => {});
  };
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await closeAll();
    await browser?.close();
    await cleanSlate();
  });
  beforeEach(async () => {
    await cleanSlate();
  });
  afterEach(closeAll);
  const keep = (o: Opened) => (opened.push(o), o);
  return {
    desk: async (login, initScript) => keep(await deskAs(browser, login, initScript)),
    page: async (path, viewport) => keep(await open(browser, path, viewport)),
  };
}
