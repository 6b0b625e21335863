// More of the agent desktop in a real browser: presence per media with reason codes, drafts that
// survive a reload with an attachment, the workbin, notes, a callback's outcome, the history
// search and merging two contacts, and a consultation between two agents on one chat.
import { describe, expect, it } from "vitest";
import { acceptOffer, api, base, browserSuite, mail, ok, shot, tokenOf, until } from "./lib.ts";

const { desk } = browserSuite();

describe("agent desktop at work", () => {
  it("sets not ready per media with a reason code, and ready again", async () => {
    const { page } = await desk("ana");
    const ana = await tokenOf("ana");
    await page.getByLabel("Not-ready reason").selectOption("lunch");
    await page.getByRole("button", { name: "Per media" }).click();
    const per = page.getByRole("group", { name: "Ready per media" });
    await per.getByLabel(/^Chat/).uncheck();
    await until(async () => {
      const me = await ok<{ snapshot: { ready: Record<string, boolean>; reasons: Record<string, string> } }>("/api/v1/me", { token: ana });
      return me.snapshot.ready.chat === false && me.snapshot.reasons.chat === "lunch" && me.snapshot.ready.email === true;
    }, "chat not ready for lunch, email still ready");
    await per.getByText("(lunch)").waitFor();
    await page.getByRole("button", { name: "Not ready", exact: true }).click();
    await page.locator("[data-presence=not_ready]").waitFor();
    await page.getByRole("button", { name: "Ready", exact: true }).click();
    await page.locator("[data-presence=ready]").waitFor();
  });

  it("keeps a draft with its attachment across a reload, parks work in the workbin and takes it back, with a note", async () => {
    const { page } = await desk("ben");
    const subject = `Draft keeper ${Date.now()}`;
    const id = await mail(subject, "Please send me the manual.");
    await acceptOffer(page, subject);
    const reply = page.getByRole("form", { name: "Reply" });
    await reply.getByLabel("Message").fill("Here is the manual you asked for.");
    await reply.getByLabel("Attach files").setInputFiles({ name: "manual.txt", mimeType: "text/plain", buffer: Buffer.from("Lumen manual v2\n") });
    await reply.getByText("manual.txt").waitFor();
    await reply.locator("[data-draft=saved]").waitFor();
    await page.reload();
    const again = page.getByRole("form", { name: "Reply" });
    await expect.poll(() => again.getByLabel("Message").inputValue()).toBe("Here is the manual you asked for.");
    await again.getByText("manual.txt").waitFor();

    const actions = page.getByRole("toolbar", { name: "Actions" });
    await actions.getByRole("button", { name: "Note" }).click();
    await page.getByRole("dialog", { name: "Add a note" }).getByLabel("Note (staff only)").fill("Customer is on the v2 model.");
    await page.getByRole("dialog", { name: "Add a note" }).getByRole("button", { name: "Save note" }).click();
    await page.getByText("Notes (1)").waitFor();

    await actions.getByRole("button", { name: "To workbin" }).click();
    const bin = page.locator("[data-list=workbin]");
    await bin.getByText(subject).waitFor();
    expect(await page.locator(`[data-work="${id}"]`).count()).toBe(0);
    await bin.locator("li").filter({ hasText: subject }).getByRole("button", { name: "Take" }).click();
    await page.locator(`[data-work="${id}"]`).waitFor();
    await page.getByRole("form", { name: "Reply" }).getByText("manual.txt").waitFor();
    await shot(page, "desk-draft-workbin");

    // Return to queue: out of the agent's hands, back in its queue with the history saying so.
    await page.getByRole("toolbar", { name: "Actions" }).getByRole("button", { name: "Return to queue" }).click();
    await page.getByText("Returned to its queue").waitFor();
    await until(async () => {
      const r = await ok<{ history: { action: string }[] }>(`/api/v1/interactions/${id}`, { token: await tokenOf("ben") });
      return r.history.some((h) => h.action === "returned");
    }, "the return in the history");
  });

  it("notifies a desktop in the background of a new offer, once the agent allowed notifications", async () => {
    // The page's Notification and visibility, as a browser in the background with permission asked.
    const fake = `
      window.__hidden = false; window.__notes = [];
      Object.defineProperty(document, "visibilityState", { get: () => (window.__hidden ? "hidden" : "visible") });
      class FakeNotification {
        static permission = "default";
        static async requestPermission() { FakeNotification.permission = "granted"; return "granted"; }
        constructor(title, opts) { window.__notes.push([title, opts && opts.body]); }
        close() {}
      }
      window.Notification = FakeNotification;`;
    const { page } = await desk("ben", fake);
    await page.getByRole("button", { name: "Enable notifications" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Enable notifications" }).count()).toBe(0);
    await page.evaluate("window.__hidden = true");
    const subject = `Background offer ${Date.now()}`;
    await mail(subject, "Are you there?");
    await page.getByRole("alertdialog").filter({ hasText: subject }).waitFor({ timeout: 30_000 });
    await expect.poll(() => page.evaluate("JSON.stringify(window.__notes)")).toContain(subject);
    expect(await page.evaluate("window.__notes[0][0]")).toBe("New offer");
  });

  it("works a web callback and records its outcome", async () => {
    const { page } = await desk("ben");
    const now = Date.now();
    const cb = await ok<{ interactionId: string }>("/api/v1/callbacks", {
      json: { tenant: "demo", phone: "+1 415 555 0199", name: "Casey Caller", topic: `Warranty ${now}`, windowStart: new Date(now - 60_000).toISOString(), windowEnd: new Date(now + 3_600_000).toISOString() },
    });
    await acceptOffer(page, `Callback: Warranty ${now}`);
    const form = page.getByRole("form", { name: "Callback" });
    await form.getByText("+14155550199").waitFor();
    await form.getByText(`Warranty ${now}`).waitFor();
    await form.getByLabel("Reached: done").check();
    await form.getByLabel("Note").fill("Explained the warranty terms.");
    await form.getByRole("button", { name: "Record outcome" }).click();
    await page.getByText("Outcome recorded").waitFor();
    const it = await until(async () => {
      const r = await ok<{ state: string; notes: { text: string }[] }>(`/api/v1/interactions/${cb.interactionId}`, { token: await tokenOf("ben") });
      return r.state === "done" ? r : null;
    }, "the callback done");
    expect(it.notes.map((n) => n.text)).toContain("Explained the warranty terms.");
  });

  it("searches the contact history and merges two contacts", async () => {
    const { page } = await desk("ben");
    const word = `zebrawood${Date.now().toString(36)}`;
    await mail(`Finish question ${word}`, `Is the ${word} finish available?`, { from: "robin.one@example.com" });
    const subject = `Second address ${Date.now()}`;
    await mail(subject, "Writing from my other address.", { from: "robin.two@example.com" });
    // The first one goes to ben too: accept both, then open the second.
    await acceptOffer(page, word);
    await acceptOffer(page, subject);
    await page.locator("[data-work]").filter({ hasText: subject }).click();
    const panel = page.getByRole("complementary", { name: "Contact" });
    await panel.getByText("email: robin.two@example.com").waitFor();
    await panel.getByLabel("Search the contact history").fill(word);
    await panel.getByRole("button", { name: "Search" }).click();
    const hit = panel.getByRole("list", { name: "Search results" }).locator("li").filter({ hasText: word }).first();
    await hit.waitFor();
    await hit.getByRole("button", { name: "Merge into current" }).click();
    await page.getByRole("dialog", { name: "Merge contacts" }).getByRole("button", { name: "Merge" }).click();
    await page.getByText("Contacts merged").waitFor();
    await panel.getByText("email: robin.one@example.com").waitFor();
    await panel.getByText("email: robin.two@example.com").waitFor();
    await shot(page, "desk-contact-merged");
  });

  it("consults a colleague on a chat: the customer does not see the consultation", async () => {
    const ben = await desk("ben");
    const chloe = await desk("chloe");
    // The customer, as the widget starts a chat (from an allowed origin).
    const start = await ok<{ interactionId: string; token: string }>("/api/v1/chat/demo/sessions", { json: { clientId: `consult-${Date.now()}`, name: "Quinn" }, headers: { origin: base } });
    await acceptOffer(ben.page, "Chat with Quinn");
    const pane = ben.page.locator(`[data-chat="${start.interactionId}"]`);
    await pane.getByRole("button", { name: "Consult / conference" }).click();
    const dlg = ben.page.getByRole("dialog", { name: "Invite a colleague" });
    await dlg.getByLabel("Colleague").selectOption("chloe");
    await dlg.getByRole("button", { name: "Invite" }).click();
    await chloe.page.getByRole("alert").filter({ hasText: "invites you to a chat" }).getByRole("button", { name: "Join" }).click();
    const cpane = chloe.page.locator(`[data-chat="${start.interactionId}"]`);
    await cpane.getByLabel("Message").fill("Ben, the refund takes 5 days.");
    await cpane.getByLabel("Message").press("Enter");
    await pane.locator(".msg.staff").filter({ hasText: "the refund takes 5 days" }).waitFor();
    // The customer's view of the transcript has no staff-only words.
    const poll = await api<{ messages: { text?: string }[] }>(`/api/v1/chat/sessions/demo.${start.interactionId}/messages?after=0`, { token: start.token });
    expect(poll.status).toBe(200);
    expect(poll.body.messages.map((m) => m.text ?? "").join("\n")).not.toContain("refund takes 5 days");
    await shot(ben.page, "desk-chat-consult");
  });
});

