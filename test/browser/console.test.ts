// The supervisor console in a real browser (Debian's chromium through playwright-core) against a
// real `wrangler dev` (test/browser/global-setup.ts): the live dashboard following a supervisor's
// move between queues, the queue browser's filters and a refused intervention, the QA review inbox
// (approve, edit then approve, return), the outbox marked as not delivered, and a live chat
// monitored, coached and barged into. Work is created through the API, as the channels would.
// Screenshots go to test-artifacts/console-*.png.
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, ART, base, cleanSlate, ingestKey, launch, ok, readyAgent as agentLogin, tokenOf, until } from "./lib.ts";

const run = Date.now().toString(36);

interface Msg {
  seq: number;
  text?: string;
  visibility?: string;
}
const chatMessages = async (id: string, token: string) => (await ok<{ messages: Msg[] }>(`/api/v1/chat/sessions/${id}/messages?after=0`, { token })).messages;

// ---- the browser ----

let browser: Browser;
let sam: string;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  browser = await launch();
  sam = await tokenOf("sam");
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
});

/** The console, signed in as sam. */
async function console_(): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  contexts.push(ctx);
  const page = await ctx.newPage();
  page.on("pageerror", (e) => pageErrors.push(`console: ${e.message}`));
  await page.goto(`${base}/console/`);
  await page.getByLabel("Login").fill("sam");
  await page.getByLabel("Password").fill("parley-demo");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Sections" }).waitFor();
  return page;
}

const section = (page: Page, name: string) => page.getByRole("navigation", { name: "Sections" }).getByRole("button", { name, exact: true }).click();
const shot = (page: Page, name: string) => page.screenshot({ path: `${ART}console-${name}.png`, fullPage: true });

/** The dashboard's waiting count for a queue, as the page shows it. */
async function waiting(page: Page, queue: string): Promise<number> {
  const t = await page.locator(`tr[data-queue="${queue}"] [data-field="waiting"]`).textContent();
  return Number(t);
}

// ---- QA review: an email in, dev (always reviewed) answers it ----

let mailSeq = 0;
async function replyInReview(subject: string, question: string, answer: string): Promise<{ original: string; reply: string }> {
  const n = ++mailSeq;
  const raw = [
    `From: Pat Review <pat.review.${run}.${n}@example.com>`,
    "To: support@demo.parley.test",
    `Subject: ${subject}`,
    `Message-ID: <console-${run}-${n}@example.com>`,
    `Date: ${new Date().toUTCString()}`,
    "Content-Type: text/plain; charset=utf-8",
    "",
    question,
    "",
  ].join("\r\n");
  const { interactionId } = await ok<{ interactionId: string }>("/api/v1/email/inbound", { token: ingestKey, raw, type: "message/rfc822" });
  const dev = await agentLogin("dev");
  // Support's first target wants tech >= 7: a supervisor offers it to dev at once instead.
  await until(async () => (await api(`/api/v1/interactions/${interactionId}/assign`, { token: sam, json: { agent: "dev" } })).status === 200, "the email assigned to dev");
  await until(async () => (await ok<{ offers: { interactionId: string }[] }>("/api/v1/me", { token: dev })).offers.some((o) => o.interactionId === interactionId), "the email offered to dev");
  await ok(`/api/v1/interactions/${interactionId}/accept`, { token: dev, method: "POST" });
  const r = await ok<{ id: string; state?: string }>(`/api/v1/interactions/${interactionId}/replies`, { token: dev, json: { text: answer, send: true, quote: false } });
  await until(async () => (await ok<{ items: { id: string }[] }>("/api/v1/reviews", { token: sam })).items.some((i) => i.id === r.id), "the reply in review");
  await ok(`/api/v1/interactions/${interactionId}/done`, { token: dev, method: "POST" });
  await ok("/api/v1/me/logout", { token: dev, method: "POST" });
  return { original: interactionId, reply: r.id };
}

describe("supervisor console in a real browser", () => {
  it("A supervisor moves a waiting interaction to another queue, and sees the dashboard update", async () => {
    await cleanSlate();
    const page = await console_();
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    await page.locator('tr[data-queue="sales"] [data-field="waiting"]').waitFor();
    await page.locator('tr[data-queue="billing"] [data-field="waiting"]').waitFor();
    const sales0 = await waiting(page, "sales");
    const billing0 = await waiting(page, "billing");

    // A task arrives in sales, where nobody is ready: the dashboard counts it without a reload.
    const subject = `Console move ${run}: quote for 40 desks`;
    const made = await ok<{ id: string; queue: string }>("/api/v1/interactions", {
      token: ingestKey,
      json: { media: "generic", queue: "sales", externalId: `console-move-${run}`, subject, text: "Please send a quote.", contact: { email: `buyer.${run}@example.com`, name: "Robin Buyer" } },
    });
    expect(made.queue).toBe("sales");
    await expect.poll(() => waiting(page, "sales"), { timeout: 20_000 }).toBe(sales0 + 1);
    // The charts are drawn from samples (the socket's history, or the poller's own).
    await page.locator("svg.chart").first().waitFor();
    expect(await page.locator("svg.chart").count()).toBe(2);
    expect(await page.locator('tr[data-agent="ben"] [data-field="state"]').textContent()).toBe("Logged out");
    await shot(page, "dashboard");

    // The queue browser: sales in view order, filtered down to the task by its subject.
    await section(page, "Queues");
    await page.getByRole("combobox", { name: "Queue", exact: true }).selectOption("sales");
    const row = page.locator(`tr[data-interaction="${made.id}"]`);
    await row.waitFor();
    await page.getByLabel("Media").selectOption("email");
    await page.locator("[data-empty]").waitFor();
    expect(await row.count()).toBe(0);
    await page.getByLabel("Media").selectOption("generic");
    await page.getByLabel("Subject contains").fill(`move ${run}`);
    await row.waitFor();
    expect(await page.locator("tr[data-interaction]").count()).toBe(1);
    await page.getByLabel("Waiting over (min)").fill("30");
    await page.locator("[data-empty]").waitFor();
    await page.getByLabel("Waiting over (min)").fill("");
    await row.waitFor();

    // Its details: subject, contact and history.
    await row.click();
    const detail = page.locator(`[data-detail="${made.id}"]`);
    await detail.getByRole("heading", { name: subject }).waitFor();
    await detail.locator('[data-field="contact"]').filter({ hasText: "Robin" }).waitFor();
    await detail.locator('tr[data-event="queued"]').first().waitFor();
    await shot(page, "queues");

    // Move it to billing.
    await row.getByRole("button", { name: "Move" }).click();
    const dialog = page.getByRole("dialog", { name: "Move to another queue" });
    await dialog.getByLabel("Queue").selectOption("billing");
    await shot(page, "move-dialog");
    await dialog.getByRole("button", { name: "Move", exact: true }).click();
    await page.getByRole("status").filter({ hasText: "Moved" }).waitFor();
    await row.waitFor({ state: "detached" });
    await until(async () => (await ok<{ queue: string; state: string }>(`/api/v1/interactions/${made.id}`, { token: sam })).queue === "billing", "the task in billing");

    // The dashboard follows: one fewer waiting in sales, one more in billing.
    await section(page, "Dashboard");
    await page.locator('tr[data-queue="sales"]').waitFor();
    await expect.poll(() => waiting(page, "sales"), { timeout: 20_000 }).toBe(sales0);
    await expect.poll(() => waiting(page, "billing"), { timeout: 20_000 }).toBe(billing0 + 1);
    await shot(page, "dashboard-after-move");

    // An intervention the server refuses shows its words: the task left the queue meanwhile.
    await section(page, "Queues");
    await page.getByRole("combobox", { name: "Queue", exact: true }).selectOption("billing");
    const moved = page.locator(`tr[data-interaction="${made.id}"]`);
    await moved.waitFor();
    await moved.getByRole("button", { name: "Stop" }).click();
    const stop = page.getByRole("dialog", { name: "Stop processing" });
    // Meanwhile the customer gives up: it is no longer waiting when the supervisor confirms.
    await ok(`/api/v1/interactions/${made.id}/abandon`, { token: ingestKey, json: { reason: "hung up" } });
    await until(async () => (await ok<{ state: string }>(`/api/v1/interactions/${made.id}`, { token: sam })).state !== "queued", "the task abandoned");
    await stop.getByLabel("Reason").fill("duplicate lead");
    await stop.getByRole("button", { name: "Stop interaction" }).click();
    await stop.getByRole("alert").filter({ hasText: "not_waiting" }).waitFor();
    expect(await stop.getByRole("alert").textContent()).toContain("supervisors act on waiting work");
    await shot(page, "stop-refused");
    await stop.getByRole("button", { name: "Cancel" }).click();
    await moved.waitFor({ state: "detached" });
  });

  it("keeps the dashboard current by polling when the supervisor socket cannot open", async () => {
    await cleanSlate();
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    contexts.push(ctx);
    // Every attempt at the socket is refused (a proxy that blocks WebSockets, say).
    await ctx.routeWebSocket(/\/api\/v1\/supervisor\/ws/, (ws) => ws.close({ code: 1011, reason: "blocked by the test" }));
    const page = await ctx.newPage();
    page.on("pageerror", (e) => pageErrors.push(`console (no socket): ${e.message}`));
    await page.goto(`${base}/console/`);
    await page.getByLabel("Login").fill("sam");
    await page.getByLabel("Password").fill("parley-demo");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator('[data-source="polling"]').waitFor();
    await page.locator('tr[data-queue="spanish"] [data-field="waiting"]').waitFor();
    const before = await waiting(page, "spanish");
    const task = await ok<{ id: string }>("/api/v1/interactions", { token: ingestKey, json: { media: "generic", queue: "spanish", externalId: `console-poll-${run}`, subject: `Console poll ${run}` } });
    await expect.poll(() => waiting(page, "spanish"), { timeout: 20_000 }).toBe(before + 1);
    await page.locator('[data-source="polling"]').waitFor();
    await shot(page, "dashboard-polling");
    await ok(`/api/v1/interactions/${task.id}/stop`, { token: sam, json: { reason: "test over" } });
  });

  it("QA review: approve, edit then approve, and return with a comment; the outbox says NOT DELIVERED", async () => {
    await cleanSlate();
    const a = await replyInReview(`Console QA ${run} A: printer shows E5`, "My printer shows error E5 since this morning.", "Hello Pat, turn it off for a minute and on again.");
    const b = await replyInReview(`Console QA ${run} B: scanner`, "The scanner makes a grinding noise.", "Hello Pat, that sounds bad.");
    const c = await replyInReview(`Console QA ${run} C: toner`, "Which toner fits the model P-200?", "Hi, toner.");

    const page = await console_();
    await section(page, "QA review");
    const item = (id: string) => page.locator(`li[data-review-item="${id}"] button`);
    await item(a.reply).waitFor();
    await item(b.reply).waitFor();
    await item(c.reply).waitFor();

    // A: the customer's message above the reply; approved as written.
    await item(a.reply).click();
    const pane = page.locator(`[data-review="${a.reply}"]`);
    await pane.locator('[data-direction="inbound"]').getByText("My printer shows error E5 since this morning.").waitFor();
    await pane.locator('[data-direction="outbound"]').getByText("Hello Pat, turn it off for a minute and on again.").waitFor();
    expect(await pane.locator('[data-direction="outbound"] [data-field="to"]').textContent()).toContain(`pat.review.${run}.1@example.com`);
    await shot(page, "review");
    await pane.getByRole("button", { name: "Approve and send" }).click();
    await page.getByRole("status").filter({ hasText: "Approved" }).first().waitFor();
    await item(a.reply).waitFor({ state: "detached" });

    // B: edited (text and cc), then approved; the mail that goes out is the edited one.
    await item(b.reply).click();
    const paneB = page.locator(`[data-review="${b.reply}"]`);
    await paneB.getByRole("button", { name: "Edit…" }).click();
    const edited = "Hello Pat, a grinding noise means a worn roller: we are sending a replacement today.";
    await paneB.getByLabel("Text").fill(edited);
    await paneB.getByLabel("Cc").fill("Lead <lead@example.com>");
    await paneB.getByLabel("Comment").fill("Be specific about what happens next.");
    await shot(page, "review-edit");
    await paneB.getByRole("button", { name: "Approve with edits" }).click();
    await item(b.reply).waitFor({ state: "detached" });
    const sentB = await ok<{ messages: { interactionId: string; direction: string; text: string; cc: { addr: string }[]; status: string }[] }>(`/api/v1/interactions/${b.reply}/messages`, { token: sam });
    const outB = sentB.messages.find((m) => m.interactionId === b.reply && m.direction === "outbound")!;
    expect(outB.text).toBe(edited);
    expect(outB.cc.map((x) => x.addr)).toEqual(["lead@example.com"]);

    // C: returned to dev with a comment: a draft again, the comment in its note; return needs one.
    await item(c.reply).click();
    const paneC = page.locator(`[data-review="${c.reply}"]`);
    await paneC.locator('[data-direction="outbound"]').getByText("Hi, toner.").waitFor();
    expect(await paneC.getByRole("button", { name: "Return to author" }).isDisabled()).toBe(true);
    await paneC.getByLabel("Comment").fill("Name the toner cartridge for the P-200.");
    await paneC.getByRole("button", { name: "Return to author" }).click();
    await page.getByRole("status").filter({ hasText: "Returned" }).waitFor();
    await item(c.reply).waitFor({ state: "detached" });
    const dev = await tokenOf("dev");
    const drafts = await ok<{ replies: { id: string; last_note: string | null }[] }>("/api/v1/replies", { token: dev });
    expect(drafts.replies.find((r) => r.id === c.reply)?.last_note).toContain("Name the toner cartridge for the P-200.");

    // The outbox: A and B went out through the local transport, each marked NOT DELIVERED.
    await until(async () => (await ok<{ messages: { interaction_id: string }[] }>("/api/v1/outbox", { token: sam })).messages.filter((m) => m.interaction_id === a.reply || m.interaction_id === b.reply).length === 2, "A and B in the outbox");
    await page.getByRole("tab", { name: "Outbox" }).click();
    await page.getByRole("note").filter({ hasText: "NOT DELIVERED" }).waitFor();
    for (const id of [a.reply, b.reply]) expect(await page.locator(`tr[data-outbox][data-interaction="${id}"] [data-field="delivered"]`).textContent()).toBe("NOT DELIVERED");
    expect(await page.locator(`tr[data-outbox][data-interaction="${c.reply}"]`).count()).toBe(0);
    await shot(page, "outbox");

    // Failed sends: none here (the outbox transport does not fail), and the list says so.
    await page.getByRole("tab", { name: "Failed sends" }).click();
    await page.getByText("Nothing failed to send.").waitFor();
  });

  it("monitors a live chat, coaches the agent (staff only) and barges in", async () => {
    await cleanSlate();
    const ben = await agentLogin("ben");
    const started = await ok<{ chatId: string; interactionId: string; token: string }>("/api/v1/chat/demo/sessions", {
      json: { clientId: `console-chat-${run}`, name: "Pat Chatter", email: `pat.chat.${run}@example.com` },
    });
    const id = started.interactionId;
    const customer = started.token;
    await until(async () => (await ok<{ offers: { interactionId: string }[] }>("/api/v1/me", { token: ben })).offers.some((o) => o.interactionId === id), "the chat offered to ben");
    await ok(`/api/v1/interactions/${id}/accept`, { token: ben, method: "POST" });
    await ok(`/api/v1/chat/sessions/${started.chatId}/messages`, { token: customer, json: { clientId: "c-1", text: "My router blinks red." } });
    await ok(`/api/v1/chat/sessions/${id}/messages`, { token: ben, json: { clientId: "b-1", text: "Hello Pat, Ben here. Which model is it?" } });

    const page = await console_();
    await section(page, "Live chats");
    await page.locator(`li[data-chat="${id}"] button`).click();
    const view = page.locator(`[data-chat-view="${id}"]`);
    await view.getByText("Join to see the conversation").waitFor();

    // Monitor: the whole conversation, live; nothing to write with.
    await view.getByRole("button", { name: "Monitor" }).click();
    await page.locator(`[data-chat-view="${id}"][data-mode="monitor"]`).waitFor();
    const log = view.getByRole("log", { name: "Transcript" });
    await log.getByText("My router blinks red.").waitFor();
    await log.getByText("Hello Pat, Ben here. Which model is it?").waitFor();
    expect(await view.locator("textarea").count()).toBe(0);
    await ok(`/api/v1/chat/sessions/${started.chatId}/messages`, { token: customer, json: { clientId: "c-2", text: "It is the R-7 model." } });
    await log.getByText("It is the R-7 model.").waitFor();
    await shot(page, "chat-monitor");

    // Coach: staff only, marked so; ben reads it, the customer never does.
    await view.getByRole("button", { name: "Coach" }).click();
    const coachText = "Ask whether the cable is plugged into WAN.";
    const coachBox = view.getByLabel("Coach the agent (staff only)");
    await coachBox.fill(coachText);
    await coachBox.press("Enter");
    const coached = log.locator('[data-visibility="staff"]').filter({ hasText: coachText });
    await coached.waitFor();
    expect(await coached.locator(".staff-tag").textContent()).toBe("Staff only");
    await until(async () => (await chatMessages(id, ben)).some((m) => m.text === coachText && m.visibility === "staff"), "ben reads the coaching");
    expect((await chatMessages(started.chatId, customer)).some((m) => m.text === coachText)).toBe(false);
    await shot(page, "chat-coach");

    // Barge in: everyone, the customer too, reads it.
    await view.getByRole("button", { name: "Barge in" }).click();
    const bargeText = "Hi Pat, I'm Sam, a supervisor: we'll get this fixed.";
    const bargeBox = view.getByLabel("Message everyone, the customer too");
    await bargeBox.fill(bargeText);
    await view.getByRole("button", { name: "Send" }).click();
    await log.locator('[data-visibility="all"]').filter({ hasText: bargeText }).waitFor();
    await until(async () => (await chatMessages(started.chatId, customer)).some((m) => m.text === bargeText), "the customer reads the supervisor");

    // Leave, and the agent ends it.
    await view.getByRole("button", { name: "Leave" }).click();
    await view.getByText("Join to see the conversation").waitFor();
    await ok(`/api/v1/chats/${id}/end`, { token: ben, method: "POST" });
    await ok("/api/v1/me/logout", { token: ben, method: "POST" });
  });

  it("threw nothing in any page", () => {
    expect(pageErrors).toEqual([]);
  });
});
