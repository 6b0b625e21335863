// The agent desktop in Debian's chromium against wrangler dev: an email from arrival to the
// outbox through the reply editor and QA review; a website chat answered, transferred and ended
// in the desktop; hostile email HTML shown with nothing run; an SMS with its live segment counter;
// reconnecting after the network drops; keyboard shortcuts. Screenshots go to test-artifacts/.
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { acceptOffer, api, base, browserSuite, mail, ok, shot, signIn, tokenOf, until } from "./lib.ts";

const { desk, page: openPage } = browserSuite();

describe("agent desktop", () => {
  it("serves the desktop with a strict CSP and no inline script", async () => {
    const res = await fetch(`${base}/desk/`);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect((await fetch(`${base}/console/`)).headers.get("content-security-policy")).toBe(csp);
  });

  it("an email arrives, the agent replies with a standard response and sends it, a supervisor approves it in QA, and it reaches the outbox", async () => {
    const { page, problems } = await desk("ben");
    const subject = `Password trouble ${Date.now()}`;
    const id = await mail(subject, "Hello, I cannot sign in any more.\r\nPat");
    await acceptOffer(page, subject);
    const ws = page.locator(`[data-interaction="${id}"]`);
    await ws.getByText("I cannot sign in any more.").waitFor();
    await shot(page, "desk-email");

    // A standard response by category, previewed with its field codes filled in for Pat.
    const reply = page.getByRole("form", { name: "Reply" });
    await reply.getByRole("button", { name: "Standard responses" }).click();
    const picker = page.getByRole("dialog", { name: "Standard responses" });
    await picker.getByLabel("Category").selectOption("tech");
    await picker.locator("[data-response=password-reset]").click();
    const preview = picker.locator("[data-preview]");
    await expect.poll(() => preview.textContent()).toContain("Hello Pat,");
    expect(await preview.textContent()).toContain("Ben Okafor");
    expect(await preview.textContent()).not.toContain("<$");
    await picker.getByRole("button", { name: "Insert" }).click();
    const text = await reply.getByLabel("Message").inputValue();
    expect(text.startsWith("Hello Pat,")).toBe(true);
    expect(text).toContain("> Hello, I cannot sign in any more.");

    // CC, a saved draft, then send with review asked for.
    await reply.getByRole("button", { name: "Cc / Bcc" }).click();
    await reply.getByLabel("Cc", { exact: true }).fill("Lee Colleague <lee@example.com>");
    await reply.getByRole("button", { name: "Save draft" }).click();
    await reply.locator("[data-draft=saved]").waitFor();
    await reply.getByLabel("Ask for QA review").check();
    await shot(page, "desk-reply");
    await reply.getByRole("button", { name: "Send" }).click();
    await page.getByText(/Sent to QA review/).waitFor();
    await ws.getByText("in QA review").waitFor();
    expect(problems).toEqual([]);

    // The supervisor's QA inbox: approve.
    const sup = await openPage("/console/");
    await signIn(sup.page, "sam");
    await sup.page.getByRole("button", { name: "QA review" }).click();
    const item = sup.page.getByText(`Re: ${subject}`).first();
    await item.waitFor({ timeout: 20_000 });
    await item.click();
    await sup.page.getByRole("button", { name: /^Approve/ }).first().click();
    await shot(sup.page, "console-qa-approved");

    // The reply reaches the outbox (the local transport: recorded, not delivered), with the CC.
    const out = await until(async () => {
      const r = await ok<{ messages: { subject: string; rcpt_to: string[]; interaction_id: string }[] }>(`/api/v1/outbox?limit=50`, { token: await tokenOf("sam") });
      return r.messages.find((m) => m.subject.includes(subject) && m.subject.startsWith("Re:"));
    }, "the approved reply in the outbox");
    expect(out.rcpt_to).toEqual(expect.arrayContaining(["pat@example.com", "lee@example.com"]));
    await ws.getByText("done").first().waitFor({ timeout: 20_000 });
    await page.getByRole("toolbar", { name: "Actions" }).getByRole("button", { name: "Done" }).click();
    await expect.poll(() => page.locator(`[data-work="${id}"]`).count()).toBe(0);
  });

  it("a customer chats through the widget; the agent answers in the desktop, transfers to a colleague, who ends the chat", async () => {
    const ben = await desk("ben");
    const chloe = await desk("chloe");
    const cust = await openPage("/demo/", { width: 1280, height: 820 });
    await cust.page.getByRole("button", { name: "Chat with us" }).click();
    const widget = cust.page.getByRole("dialog", { name: "Chat with us" });
    await widget.getByLabel("Your name").fill("Robin Chatter");
    await widget.getByRole("button", { name: "Start chat" }).click();
    const box = widget.getByLabel("Your message");
    await box.fill("Is the Lumen Floor dimmable?");
    await box.press("Enter");

    // Ben (tech 9) gets it first.
    await acceptOffer(ben.page, "Chat with Robin Chatter");
    const pane = ben.page.locator("[data-chat]").filter({ hasText: "Robin Chatter" });
    await pane.getByText("Is the Lumen Floor dimmable?").waitFor();
    await widget.getByText(/Ben Okafor joined/).waitFor();
    // The customer types: the agent sees it.
    await box.fill("Also");
    await pane.getByText(/is typing/).waitFor();
    await box.fill("");
    await pane.getByLabel("Message").fill("Yes, it dims from 1% to 100%.");
    await pane.getByRole("button", { name: "Send", exact: true }).click();
    await widget.getByText("Yes, it dims from 1% to 100%.").waitFor();
    await pane.locator(".msg.mine:not(.pending)").filter({ hasText: "Yes, it dims" }).waitFor();
    // A second chat at once: both panes side by side.
    await shot(ben.page, "desk-chat");

    // Transfer to Chloé: the customer stays connected.
    await pane.getByRole("button", { name: "Transfer" }).click();
    await ben.page.getByRole("dialog", { name: "Transfer the chat" }).getByLabel("Transfer to").selectOption("agent:chloe");
    await ben.page.getByRole("dialog", { name: "Transfer the chat" }).getByRole("button", { name: "Transfer" }).click();
    await expect.poll(() => pane.count()).toBe(0);
    await widget.getByText(/transferred the chat/).waitFor();

    await acceptOffer(chloe.page, "Chat with Robin Chatter");
    const cpane = chloe.page.locator("[data-chat]").filter({ hasText: "Robin Chatter" });
    // She sees the conversation so far.
    await cpane.getByText("Yes, it dims from 1% to 100%.").waitFor();
    await cpane.getByLabel("Message").fill("Hi Robin, Chloé here. Anything else?");
    await cpane.getByLabel("Message").press("Enter");
    await widget.getByText("Hi Robin, Chloé here. Anything else?").waitFor();
    await cpane.getByRole("button", { name: "End chat" }).click();
    await cpane.locator("[data-chat-status=ended]").waitFor();
    await widget.getByText(/ended/i).first().waitFor();
    await shot(chloe.page, "desk-chat-ended");
    // After a reload the ended chat still shows its transcript until it is marked done.
    await chloe.page.reload();
    await cpane.getByText("Hi Robin, Chloé here. Anything else?").waitFor();
    await cpane.locator("[data-chat-status=ended]").waitFor();
    await cpane.getByRole("button", { name: "Mark done" }).click();
    await expect.poll(() => cpane.count()).toBe(0);
    expect([...ben.problems, ...chloe.problems]).toEqual([]);
  });

  it("an email with a <script> and an onerror= image runs nothing in the desktop", async () => {
    const { page, problems } = await desk("ben");
    const subject = `Hostile HTML ${Date.now()}`;
    const html = `<p>Hello <b>team</b></p><script>alert('script ran')</script><img src="x" onerror="alert('onerror ran')"><a href="javascript:alert('link ran')">click</a><iframe src="javascript:alert(1)"></iframe><svg onload="alert('svg ran')"></svg>`;
    const id = await mail(subject, html, { html: true });
    await acceptOffer(page, subject);
    const frame = page.locator(`[data-interaction="${id}"] iframe`).first();
    await frame.waitFor();
    expect(await frame.getAttribute("sandbox")).toBe("");
    const doc = (await frame.getAttribute("srcdoc")) ?? "";
    expect(doc).toContain("<b>team</b>");
    expect(doc).not.toMatch(/<script|onerror|onload|javascript:/i);
    // The frame rendered and nothing ran, in it or in the desktop.
    await expect.poll(async () => (await frame.contentFrame().locator("b").textContent().catch(() => null)) ?? null).toBe("team");
    await page.waitForTimeout(500);
    expect(problems).toEqual([]);
    expect(await page.evaluate(() => document.title)).toBe("Parley · Agent desktop");
    await shot(page, "desk-hostile-email");
    // The plain-text view shows text only.
    await page.locator(`[data-interaction="${id}"]`).getByRole("button", { name: "Plain text" }).first().click();
    expect(problems).toEqual([]);
  });

  it("an SMS with a live segment counter, and a reply sent", async () => {
    const { page } = await desk("ben");
    const body = `My order ${Date.now()} has not arrived`;
    const from = `+141555501${(Date.now() % 90) + 10}`; // 555-0110…0199: fictional, and not the center's 0100
    await twilioSms(from, body);
    await acceptOffer(page, `SMS from ${from}`);
    const form = page.getByRole("form", { name: "SMS reply" });
    const box = form.getByLabel("Reply by SMS");
    await box.fill("a".repeat(160));
    await expect.poll(() => form.locator("[data-segments]").textContent()).toBe("GSM-7 · 160 characters · 1 SMS");
    await box.fill("a".repeat(161));
    await expect.poll(() => form.locator("[data-segments]").textContent()).toBe("GSM-7 · 161 characters · 2 SMS");
    await box.fill("Sorry about that 🙏 it ships today");
    await expect.poll(() => form.locator("[data-segments]").textContent()).toMatch(/^UCS-2 · \d+ units · 1 SMS$/);
    await form.getByRole("button", { name: "Send SMS" }).click();
    await page.getByText("SMS queued").waitFor();
    await page.locator(".chat.sms .msg.mine").filter({ hasText: "it ships today" }).waitFor();
    await shot(page, "desk-sms");
  });

  it("an SMS conversation (session mode) is a chat pane with the segment counter, and the agent's words go out as SMS", async () => {
    const { page } = await desk("ben");
    const from = `+141555501${(Date.now() % 90) + 10}`;
    await twilioSms(from, "Hi, is my order shipped?", "+14155550101");
    await acceptOffer(page, `SMS conversation with ${from}`);
    const pane = page.locator("[data-chat]").filter({ hasText: "Hi, is my order shipped?" });
    await pane.getByText("SMS", { exact: true }).waitFor();
    const box = pane.getByLabel("Message");
    await box.fill("Yes: it left this morning and arrives Friday.");
    await expect.poll(() => pane.locator("[data-segments]").textContent()).toBe("GSM-7 · 45 characters · 1 SMS");
    await box.press("Enter");
    await pane.locator(".msg.mine:not(.pending)").filter({ hasText: "arrives Friday" }).waitFor();
    // What the agent says to the customer is queued as an outbound SMS on the conversation.
    const id = (await pane.getAttribute("data-chat"))!;
    await until(async () => {
      const r = await ok<{ history: { action: string }[] }>(`/api/v1/interactions/${id}`, { token: await tokenOf("ben") });
      return r.history.some((h) => h.action === "sms_queued");
    }, "the reply queued as an SMS");
    await shot(page, "desk-sms-session");
  });

  it("reconnects after the network drops, with the work still in hand, and takes offers by keyboard", async () => {
    const { page, ctx } = await desk("ben");
    const subject = `Keyboard ${Date.now()}`;
    const id = await mail(subject, "Offer me by keyboard");
    await page.getByRole("alertdialog").filter({ hasText: subject }).waitFor({ timeout: 30_000 }).catch(async (e: unknown) => {
      const ben = await tokenOf("ben");
      throw new Error(`${String(e)}\ninteraction: ${JSON.stringify((await api(`/api/v1/interactions/${id}`, { token: ben })).body)}\nben: ${JSON.stringify((await api("/api/v1/me", { token: ben })).body)}`);
    });
    // Alt+A takes the oldest offer, which is ours: each test starts with nothing waiting.
    expect(await page.getByRole("alertdialog").count()).toBe(1);
    await page.keyboard.press("Alt+A");
    await page.locator(`[data-work="${id}"]`).waitFor();
    await page.locator("[data-conn=open]").waitFor();

    await ctx.setOffline(true);
    await page.evaluate(() => dispatchEvent(new Event("offline")));
    await page.locator("[data-conn=down], [data-conn=connecting]").first().waitFor({ timeout: 40_000 });
    await ctx.setOffline(false);
    await page.evaluate(() => dispatchEvent(new Event("online")));
    await page.locator("[data-conn=open]").waitFor({ timeout: 30_000 });
    await page.locator(`[data-work="${id}"]`).waitFor();
    // A reload keeps the session and the open work.
    await page.reload();
    await page.locator(`[data-interaction="${id}"]`).waitFor();
    // Inside a text field Alt+letter is typing (Option+K on a Mac), not a shortcut.
    await page.getByLabel("Search the contact history").focus();
    await page.keyboard.press("Alt+K");
    await page.waitForTimeout(300);
    expect(await page.getByRole("dialog", { name: "Keyboard shortcuts" }).count()).toBe(0);
    await page.getByLabel("Search the contact history").blur();
    await page.keyboard.press("Alt+K");
    await page.getByRole("dialog", { name: "Keyboard shortcuts" }).waitFor();
    await page.keyboard.press("Escape");
    await page.keyboard.press("Alt+D");
    await expect.poll(() => page.locator(`[data-work="${id}"]`).count()).toBe(0);
    const r = await api<{ state: string }>(`/api/v1/interactions/${id}`, { token: await tokenOf("ben") });
    expect(r.body.state).toBe("done");
  });
});

/** A customer's SMS through Twilio's webhook, signed as Twilio signs it (HMAC-SHA1 over URL and sorted params). */
async function twilioSms(from: string, text: string, to = "+14155550100"): Promise<void> {
  const vars = readFileSync(new URL("../../.dev.vars", import.meta.url), "utf8");
  const token = /^TWILIO_AUTH_TOKEN=(.*)$/m.exec(vars)?.[1]?.trim().replace(/^"|"$/g, "") ?? "";
  const url = `${base}/api/v1/sms/twilio`;
  // Parley checks the signature over its public URL (PUBLIC_URL in wrangler.toml), as Twilio signs it.
  const publicUrl = "http://localhost:8787/api/v1/sms/twilio";
  const params: Record<string, string> = { MessageSid: `SM${Date.now()}${Math.random().toString(16).slice(2, 10)}`, AccountSid: "AC00000000000000000000000000000000", From: from, To: to, Body: text, NumMedia: "0" };
  const signed = publicUrl + Object.keys(params).sort().map((k) => k + params[k]).join("");
  const sig = createHmac("sha1", token).update(signed).digest("base64");
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": sig }, body: new URLSearchParams(params).toString() });
  if (res.status !== 200) throw new Error(`twilio webhook: ${res.status} ${await res.text()}`);
}
