// WhatsApp in a real browser: a signed webhook brings a customer's photo; the agent sees it inline
// with the channel's mark and the window's time left, answers in the chat pane (the reply reaches the
// provider, a fake Graph API on DEV_OUTBOUND_HOST, and its status comes back); then the 24-hour window
// runs out on screen, free text gives way to the template picker, and the agent sends a template.
import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { acceptOffer, api, base, browserSuite, ok, shot, tokenOf, until } from "./lib.ts";

const { desk } = browserSuite();
const port = inject("providerPort");
const PHONE_ID = "109876543210987";
const APP_SECRET = "browser-test-app-secret";
// A 1x1 PNG: the photo the customer sends.
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==", "base64");

const sent: Record<string, unknown>[] = [];
let server: Server;
let original: unknown;

async function adminPut(path: string, body: unknown) {
  const r = await api(path, { token: await tokenOf("alex"), method: "PUT", json: body });
  if (r.status >= 300) throw new Error(`PUT ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

async function webhook(body: unknown): Promise<number> {
  const raw = JSON.stringify(body);
  const sig = `sha256=${createHmac("sha256", APP_SECRET).update(raw).digest("hex")}`;
  const r = await fetch(`${base}/api/v1/social/whatsapp`, { method: "POST", headers: { "Content-Type": "application/json", "X-Hub-Signature-256": sig }, body: raw });
  return r.status;
}

const value = (v: Record<string, unknown>) => ({ object: "whatsapp_business_account", entry: [{ id: "WABA", changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata: { display_phone_number: "15550009999", phone_number_id: PHONE_ID }, ...v } }] }] });

beforeAll(async () => {
  // The provider: the Graph API's media lookup and download, and its messages endpoint.
  server = createServer((req, res) => {
    const url = req.url ?? "";
    if (req.method === "POST" && url === `/v21.0/${PHONE_ID}/messages`) {
      let b = "";
      req.on("data", (c: Buffer) => (b += c.toString()));
      req.on("end", () => {
        sent.push(JSON.parse(b) as Record<string, unknown>);
        res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ messages: [{ id: `wamid.OUT${sent.length}` }] }));
      });
      return;
    }
    if (url.startsWith("/v21.0/IMG")) return void res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ url: `http://127.0.0.1:${port}/media/photo`, mime_type: "image/png" }));
    if (url === "/media/photo") return void res.writeHead(200, { "Content-Type": "image/png" }).end(PNG);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  const alex = await tokenOf("alex");
  for (const [name, v] of [["wa-app", APP_SECRET], ["wa-verify", "browser-verify"], ["wa-token", "browser-wa-token"]]) await adminPut(`/api/v1/admin/secrets/${name}`, { value: v });
  const { config } = await ok<{ config: Record<string, unknown> }>("/api/v1/admin/config", { token: alex });
  original = config.social;
  await adminPut("/api/v1/admin/config", {
    ...config,
    social: {
      whatsapp: [{ phoneNumberId: PHONE_ID, number: "+15550009999", workflow: "chat", appSecret: "wa-app", verifyToken: "wa-verify", token: "wa-token", apiBase: `http://127.0.0.1:${port}/v21.0` }],
      templates: [{ name: "order_update", language: "en", text: "Hi {{1}}, there is news about your order. Reply to continue.", params: ['<$ Contact.FirstName | "there" $>'] }],
    },
  });
});

afterAll(async () => {
  const { config } = await ok<{ config: Record<string, unknown> }>("/api/v1/admin/config", { token: await tokenOf("alex") });
  await adminPut("/api/v1/admin/config", { ...config, social: original });
  await new Promise((r) => server.close(r));
});

describe("WhatsApp on the desktop", () => {
  it("a photo arrives, the agent answers in the chat pane, the window runs out, and the agent sends a template", async () => {
    const { page, problems } = await desk("ben");
    const from = `1415555${String(Date.now() % 10000).padStart(4, "0")}`;
    // Written 24 hours less 40 seconds ago (delivered late): the window closes while the test watches.
    const at = Math.floor((Date.now() - 24 * 3600_000 + 40_000) / 1000);
    const wamid = `wamid.BROWSER${Date.now()}`;
    expect(await webhook(value({ contacts: [{ profile: { name: "Noor Haddad" }, wa_id: from }], messages: [{ from, id: wamid, timestamp: String(at), type: "image", image: { id: "IMG1", mime_type: "image/png", caption: "This arrived broken" } }] }))).toBe(200);
    await acceptOffer(page, "WhatsApp conversation with Noor Haddad");
    const pane = page.locator("[data-chat]").filter({ hasText: "This arrived broken" });
    await pane.locator("[data-channel=whatsapp]").first().waitFor();
    const img = pane.locator("img.inline-media");
    await img.waitFor();
    await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(1);
    await pane.locator("[data-window=free]").waitFor();
    expect(await pane.locator("[data-window]").textContent()).toMatch(/Window: \d+ s left|Window: 1 min left/);

    const box = pane.getByLabel("Message");
    await box.fill("So sorry, Noor. A replacement is on its way.");
    await box.press("Enter");
    await until(async () => sent.some((s) => (s.text as { body?: string } | undefined)?.body === "So sorry, Noor. A replacement is on its way."), "the reply at the provider", 60_000);
    await pane.locator("[data-delivery=sent]").first().waitFor({ timeout: 30_000 });
    expect(await webhook(value({ statuses: [{ id: "wamid.OUT1", status: "read", timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: from }] }))).toBe(200);
    await pane.locator("[data-delivery=read]").first().waitFor();
    await shot(page, "desk-whatsapp");

    // The window runs out: free text gives way to the approved templates.
    await pane.locator("[data-window=templates]").waitFor({ timeout: 60_000 });
    expect(await pane.getByLabel("Message").count()).toBe(0);
    const picker = pane.getByRole("form", { name: "Templates" });
    expect(await picker.locator(".preview").textContent()).toBe("Hi [Contact.FirstName], there is news about your order. Reply to continue.");
    await picker.getByRole("button", { name: "Send template" }).click();
    await pane.locator(".msg").filter({ hasText: "Hi Noor, there is news about your order." }).waitFor();
    await until(async () => sent.some((s) => (s.template as { name?: string } | undefined)?.name === "order_update"), "the template at the provider", 60_000);
    const tpl = sent.find((s) => s.template) as { to: string; template: { components: { parameters: { text: string }[] }[] } };
    expect(tpl.to).toBe(from);
    expect(tpl.template.components[0]!.parameters[0]!.text).toBe("Noor");
    await shot(page, "desk-whatsapp-template");
    expect(problems).toEqual([]);
  });
});
