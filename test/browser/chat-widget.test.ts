// The website chat widget in a real browser (Debian's chromium through playwright-core) against a
// real `wrangler dev` (test/browser/global-setup.ts): the demo page, the widget in its shadow root,
// an agent on the other side over HTTP and the chat WebSocket, the transcript in the history, the
// offline form, keyboard use, and an embed from another origin. Screenshots go to test-artifacts/.
import { createServer, type Server } from "node:http";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { api, ART, base, cleanSlate, launch, ok, readKey, readyAgent as agentLogin, until } from "./lib.ts";

const otherPort = inject("otherPort");

// ---- the agent's side, from Node (test/browser/lib.ts) ----

interface Frame {
  type: string;
  message?: { seq: number; text?: string; from: string; clientId?: string | null };
  [k: string]: unknown;
}

/** The agent's chat WebSocket: every frame kept, waits by predicate. */
class AgentSocket {
  readonly frames: Frame[] = [];
  private readonly ws: WebSocket;
  private wake: (() => void)[] = [];

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.addEventListener("message", (e) => {
      this.frames.push(JSON.parse(String(e.data)) as Frame);
      for (const w of this.wake.splice(0)) w();
    });
  }

  async next(pred: (f: Frame) => boolean, what: string, ms = 20_000): Promise<Frame> {
    const end = Date.now() + ms;
    for (;;) {
      const f = this.frames.find(pred);
      if (f) return f;
      if (Date.now() > end) throw new Error(`agent socket: timed out waiting for ${what}; got ${JSON.stringify(this.frames.slice(-8))}`);
      await new Promise<void>((r) => {
        this.wake.push(r);
        setTimeout(r, 250);
      });
    }
  }

  count(text: string): number {
    return this.frames.filter((f) => f.type === "msg" && f.message?.text === text).length;
  }

  send(frame: object): void {
    this.ws.send(JSON.stringify(frame));
  }

  close(): void {
    this.ws.close();
  }
}

// ---- the browser ----

let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];
let other: Server;

beforeAll(async () => {
  browser = await launch();
  // Another site that embeds the widget from Parley's origin.
  other = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Elsewhere Ltd.</title></head><body><h1>Elsewhere Ltd.</h1><p>A site on another origin.</p><script src="${base}/widget.js" data-tenant="demo" async></script></body></html>`);
  });
  await new Promise<void>((r) => other.listen(otherPort, "127.0.0.1", r));
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await new Promise((r) => other?.close(r));
  await cleanSlate();
});

// Each test starts with nobody in routing and nothing waiting (the files share one tenant).
beforeEach(cleanSlate);

async function openPage(url = `${base}/demo/`): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 820 } });
  contexts.push(ctx);
  const page = await ctx.newPage();
  page.on("pageerror", (e) => pageErrors.push(`${url}: ${e.message}`));
  await page.goto(url);
  return page;
}

const shot = (page: Page, name: string) => page.screenshot({ path: `${ART}${name}.png` });

/** The interaction id of the chat the page holds (sessionStorage keeps `demo.{interactionId}`). */
async function chatOf(page: Page): Promise<string> {
  const raw = await page.evaluate<string | null>('sessionStorage.getItem("parley-chat:demo")');
  const chatId = (JSON.parse(raw ?? "{}") as { chatId?: string }).chatId ?? "";
  expect(chatId).toMatch(/^demo\./);
  return chatId.slice("demo.".length);
}

async function startChat(page: Page, name: string, email?: string): Promise<void> {
  await page.getByRole("button", { name: "Chat with us" }).click();
  const dialog = page.getByRole("dialog", { name: "Chat with us" });
  await dialog.getByLabel("Your name").fill(name);
  if (email) await dialog.getByLabel("Email (for a transcript)").fill(email);
  await dialog.getByRole("button", { name: "Start chat" }).click();
  await dialog.getByLabel("Your message").waitFor();
}

async function say(page: Page, text: string): Promise<void> {
  const box = page.getByRole("dialog").getByLabel("Your message");
  await box.fill(text);
  await box.press("Enter");
}

/** The customer's own message, stored by the server (no longer pending). */
const mine = (page: Page, text: string) => page.locator("parley-chat .m.me:not(.pd)").filter({ hasText: text });

describe("chat widget in a real browser", () => {
  it("carries a chat from the demo page to an agent and back, survives a reload and a drop, and ends with the transcript in the history", async () => {
    const ben = await agentLogin("ben");
    const page = await openPage();
    await page.getByRole("button", { name: "Chat with us" }).waitFor();
    await shot(page, "01-demo-page");

    // The page's own CSS (global button and * rules) does not reach the widget.
    // (Callbacks run in the page; written without DOM globals, which the Worker's type-check lacks.)
    const launcherStyle = await page.locator("parley-chat .l").evaluate((b) => {
      const s = b.ownerDocument.defaultView!.getComputedStyle(b);
      return { radius: s.borderRadius, transform: s.textTransform, width: b.getBoundingClientRect().width };
    });
    expect(launcherStyle).toEqual({ radius: "50%", transform: "none", width: 58 });

    await page.getByRole("button", { name: "Chat with us" }).click();
    const dialog = page.getByRole("dialog", { name: "Chat with us" });
    await dialog.getByText("Tell us who you are and we'll find the right person.").waitFor(); // the tenant's chat.strings
    await dialog.getByLabel("Your name").fill("Pat Lee");
    await dialog.getByLabel("Email (for a transcript)").fill("pat@example.com");
    await shot(page, "02-pre-chat");
    await dialog.getByRole("button", { name: "Start chat" }).click();
    await dialog.getByText("Hi! Thanks for contacting Parley Demo Co.").waitFor();
    const id = await chatOf(page);

    const question = "My Lumen Desk flickers when I dim it.";
    await say(page, question);
    await mine(page, question).waitFor();
    await shot(page, "03-waiting");

    // The agent gets the offer, accepts, joins the chat's socket and sees the question.
    await until(async () => (await ok<{ offers: { interactionId: string; media: string }[] }>("/api/v1/me", { token: ben })).offers.find((o) => o.interactionId === id && o.media === "chat"), "the chat offered to ben");
    await ok(`/api/v1/interactions/${id}/accept`, { token: ben, method: "POST" });
    await dialog.getByText(/Ben Okafor joined/).waitFor();
    const agent = new AgentSocket(`${base.replace(/^http/, "ws")}/api/v1/chat/sessions/${id}/ws?token=${ben}`);
    const asked = await agent.next((f) => f.type === "msg" && f.message?.text === question, "the question at ben");

    // Typing, the reply, read receipts both ways.
    agent.send({ type: "typing", on: true });
    await dialog.getByText("Ben Okafor is typing…").waitFor();
    const reply = "Hi Pat! Hold the dimmer for ten seconds to update its firmware.";
    agent.send({ type: "msg", clientId: "ben-1", text: reply, visibility: "all" });
    const ack = await agent.next((f) => f.type === "ack" && f.clientId === "ben-1", "ben's ack");
    await dialog.getByText(reply).waitFor();
    expect(await dialog.getByText("Ben Okafor is typing…").count()).toBe(0);
    await agent.next((f) => f.type === "read" && f.from === "customer" && (f.seq as number) >= (ack.seq as number), "the customer's read receipt");
    agent.send({ type: "read", seq: asked.message!.seq });
    await page.locator("parley-chat .m.me .rd").waitFor();
    await shot(page, "04-reply");

    // Minimized, a new message from the agent shows as a count on the launcher.
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    const nudge = "Let me know how it goes.";
    agent.send({ type: "msg", clientId: "ben-2", text: nudge, visibility: "all" });
    await page.getByRole("button", { name: "Chat with us (1)" }).click();
    await dialog.getByText(nudge).waitFor();
    expect(await page.locator("parley-chat .bg").isVisible()).toBe(false);

    // A reload resumes the chat: the panel open, the history there, new messages flow, nothing doubled.
    await page.reload();
    await dialog.getByText(reply).waitFor();
    const again = "Done, it works now.";
    await say(page, again);
    await mine(page, again).waitFor();
    await agent.next((f) => f.type === "msg" && f.message?.text === again, "the message after the reload");

    // A drop: written while offline, pending, delivered once when the network is back.
    const offline = "Sent while offline.";
    await page.context().setOffline(true);
    await say(page, offline);
    await page.locator("parley-chat .m.me.pd").filter({ hasText: offline }).waitFor();
    await page.getByRole("dialog").getByText("You're offline.").waitFor();
    await shot(page, "04b-offline");
    await new Promise((r) => setTimeout(r, 1000));
    expect(agent.count(offline)).toBe(0);
    await page.context().setOffline(false);
    await mine(page, offline).waitFor({ timeout: 30_000 });
    await agent.next((f) => f.type === "msg" && f.message?.text === offline, "the offline message at ben", 30_000);
    await new Promise((r) => setTimeout(r, 1500));
    for (const t of [question, again, offline]) {
      expect(agent.count(t), t).toBe(1);
      expect(await page.locator("parley-chat .m.me").filter({ hasText: t }).count(), t).toBe(1);
    }
    expect(await page.locator("parley-chat .m").filter({ hasText: reply }).count()).toBe(1);

    // The agent ends the chat; the widget says so and offers the transcript.
    await ok(`/api/v1/chats/${id}/end`, { token: ben, method: "POST" });
    await dialog.getByText("The agent ended the chat.").waitFor();
    expect(await dialog.getByLabel("Your message").isVisible()).toBe(false);
    await dialog.getByRole("button", { name: "Email me the transcript" }).click();
    await dialog.getByText("We'll email the transcript to pat@example.com.").waitFor();
    await shot(page, "05-ended");
    agent.close();

    // The transcript is in the contact history.
    const history = await until(async () => {
      const i = await ok<{ transcript?: { text: string }[]; history?: { action: string }[] }>(`/api/v1/interactions/${id}`, { token: ben });
      return i.transcript?.length ? i : null;
    }, "the transcript in the interaction");
    const texts = history.transcript!.map((m) => m.text);
    for (const t of [question, reply, again, offline]) expect(texts.filter((x) => x === t), t).toHaveLength(1);
    expect(history.history?.map((h) => h.action)).toContain("chat_ended");
    await ok(`/api/v1/interactions/${id}/done`, { token: ben, method: "POST" });
  });

  it("works embedded on another origin: start, message, a file, the customer ends it", async () => {
    const ben = await agentLogin("ben");
    const page = await openPage(`http://127.0.0.1:${otherPort}/`);
    await startChat(page, "Kim Novak");
    const dialog = page.getByRole("dialog");
    await say(page, "Hello from another site");
    await mine(page, "Hello from another site").waitFor();
    const id = await chatOf(page);
    await until(async () => (await ok<{ offers: { interactionId: string }[] }>("/api/v1/me", { token: ben })).offers.find((o) => o.interactionId === id), "the chat offered to ben");
    await ok(`/api/v1/interactions/${id}/accept`, { token: ben, method: "POST" });
    await dialog.getByText(/Ben Okafor joined/).waitFor();

    // A file: checked locally first (type), then sent with the session token.
    await page.locator("parley-chat input[type=file]").setInputFiles({ name: "tool.exe", mimeType: "application/x-msdownload", buffer: Buffer.from("MZ") });
    await dialog.getByText("tool.exe: files of this type can't be sent.").waitFor();
    await page.locator("parley-chat input[type=file]").setInputFiles({ name: "receipt.txt", mimeType: "text/plain", buffer: Buffer.from("Order 1234, Lumen Desk") });
    const link = dialog.getByRole("link", { name: /receipt\.txt/ });
    await link.waitFor();
    const href = await link.getAttribute("href");
    expect(href).toMatch(new RegExp(`^${base}/api/v1/chat/files/`));
    expect(await (await fetch(href!)).text()).toBe("Order 1234, Lumen Desk");
    await shot(page, "06-other-origin-file");

    await dialog.getByRole("button", { name: "End chat" }).click();
    await dialog.getByText("You ended the chat.").waitFor();
    await dialog.getByRole("button", { name: "Start a new chat" }).waitFor();
    const transcript = await until(async () => (await ok<{ transcript?: { text: string }[] }>(`/api/v1/interactions/${id}`, { token: ben })).transcript, "the transcript");
    expect(transcript.map((m) => m.text)).toContain("Hello from another site");
    await ok(`/api/v1/interactions/${id}/done`, { token: ben, method: "POST" });
  });

  it("falls back to HTTP polling when WebSockets cannot get through", async () => {
    const ben = await agentLogin("ben");
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 820 } });
    contexts.push(ctx);
    // Every chat socket is cut at once, as a proxy that does not pass WebSockets would.
    let attempts = 0;
    let blocked = true;
    let through = 0;
    await ctx.routeWebSocket(/\/api\/v1\/chat\/sessions\/.*\/ws/, (ws) => {
      attempts++;
      if (blocked) void ws.close({ code: 1011, reason: "blocked" });
      else {
        through++;
        ws.connectToServer();
      }
    });
    const page = await ctx.newPage();
    page.on("pageerror", (e) => pageErrors.push(`polling: ${e.message}`));
    await page.goto(`${base}/demo/`);
    await startChat(page, "Lee Poll", "lee@example.com");
    const dialog = page.getByRole("dialog");
    const hello = "Hello over plain HTTP";
    await say(page, hello);
    await mine(page, hello).waitFor({ timeout: 30_000 });
    expect(attempts).toBeGreaterThanOrEqual(3);
    const id = await chatOf(page);

    await until(async () => (await ok<{ offers: { interactionId: string }[] }>("/api/v1/me", { token: ben })).offers.find((o) => o.interactionId === id), "the chat offered to ben");
    await ok(`/api/v1/interactions/${id}/accept`, { token: ben, method: "POST" });
    const agent = new AgentSocket(`${base.replace(/^http/, "ws")}/api/v1/chat/sessions/${id}/ws?token=${ben}`);
    await agent.next((f) => f.type === "msg" && f.message?.text === hello, "the polled message at ben");
    await dialog.getByText(/Ben Okafor joined/).waitFor();

    // Typing notices and read receipts go over HTTP too.
    await dialog.getByLabel("Your message").fill("still typ");
    await agent.next((f) => f.type === "typing" && f.from === "customer" && f.on === true, "the customer typing (HTTP)");
    await dialog.getByLabel("Your message").fill("");
    const reply = "Got it, over the fallback.";
    agent.send({ type: "msg", clientId: "ben-poll-1", text: reply, visibility: "all" });
    await dialog.getByText(reply).waitFor();
    await agent.next((f) => f.type === "read" && f.from === "customer", "the customer's read receipt (HTTP)");
    await shot(page, "06b-polling");

    // The widget keeps trying the socket: once it gets through, messages go that way again.
    let posts = 0;
    page.on("request", (r) => void (r.method() === "POST" && r.url().endsWith("/messages") && posts++));
    blocked = false;
    await until(async () => through > 0, "the widget back on a WebSocket", 40_000);
    await new Promise((r) => setTimeout(r, 500));
    const back = "Back on the socket.";
    await say(page, back);
    await mine(page, back).waitFor();
    await agent.next((f) => f.type === "msg" && f.message?.text === back, "the message over the socket");
    expect(posts).toBe(0);

    await ok(`/api/v1/chats/${id}/end`, { token: ben, method: "POST" });
    await dialog.getByRole("button", { name: "Start a new chat" }).waitFor();
    expect(agent.count(hello)).toBe(1);
    expect(await page.locator("parley-chat .m.me").filter({ hasText: hello }).count()).toBe(1);
    agent.close();
    await ok(`/api/v1/interactions/${id}/done`, { token: ben, method: "POST" });
  });

  it("is usable from the keyboard: Tab to the launcher, Enter opens, Escape closes", async () => {
    const page = await openPage();
    const launcher = page.getByRole("button", { name: "Chat with us" });
    await launcher.waitFor();
    const onLauncher = () => page.locator("parley-chat").evaluate((host) => host.ownerDocument.activeElement === host && !!host.shadowRoot?.activeElement?.classList.contains("l"));
    let tabs = 0;
    while (!(await onLauncher()) && tabs < 40) {
      await page.keyboard.press("Tab");
      tabs++;
    }
    expect(await onLauncher()).toBe(true);
    expect(await launcher.getAttribute("aria-expanded")).toBe("false");

    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Chat with us" });
    await dialog.waitFor();
    expect(await page.locator("parley-chat .l").getAttribute("aria-expanded")).toBe("true");
    // Focus moved into the dialog.
    await until(() => page.locator("parley-chat").evaluate((host) => !!host.shadowRoot?.activeElement?.closest("[role=dialog]")), "focus in the dialog", 5000);
    await shot(page, "07-keyboard-open");

    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    expect(await onLauncher()).toBe(true);

    // Space opens it too; the close button closes it.
    await page.keyboard.press(" ");
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Minimize chat" }).click();
    await dialog.waitFor({ state: "hidden" });
  });

  it("offers the message form when no agent is logged in, and the message becomes an interaction", async () => {
    // Nobody is in routing (the clean slate).
    expect(await ok(`/api/v1/chat/demo/config`)).toMatchObject({ available: false, reason: "no_agents", offline: { form: "contact-us" } });

    const page = await openPage();
    await page.getByRole("button", { name: "Chat with us" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("heading", { name: "Leave us a message" }).waitFor();
    await dialog.getByLabel("Your name").fill("Robin Park");
    await dialog.getByLabel("Email").fill("robin@example.com");
    const text = "My Lumen Floor arrived with a dent. Can I get a replacement?";
    await dialog.getByLabel("How can we help?").fill(text);
    await shot(page, "08-offline-form");
    const posted = page.waitForResponse((r) => r.url().endsWith("/api/v1/forms/demo.contact-us") && r.request().method() === "POST");
    await dialog.getByRole("button", { name: "Send message" }).click();
    const res = await posted;
    expect(res.status()).toBeLessThan(300);
    const { interactionId } = (await res.json()) as { interactionId: string };
    await dialog.getByText("Thank you! We got your message").waitFor();
    await shot(page, "09-offline-thanks");

    const i = await ok<{ channel: string; text?: string; parts?: { text?: string }[] }>(`/api/v1/interactions/${interactionId}`, { token: readKey });
    expect(i.channel).toBe("webform");
    expect(JSON.stringify(i)).toContain(text);
  });

  it("threw nothing in any page", () => {
    expect(pageErrors).toEqual([]);
  });
});
