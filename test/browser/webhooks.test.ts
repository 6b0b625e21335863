// Webhooks in the console: an admin adds an endpoint (a local receiver on DEV_OUTBOUND_HOST), sees a
// delivery fail and be retried, switches the receiver back on and sends the failed one again, which
// arrives with the same webhook-id. The audit log shows who did what.
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { api, browserSuite, ingestKey, ok, shot, tokenOf, until } from "./lib.ts";

const { page: browserPage } = browserSuite();
const port = inject("providerPort");
const hits: { id: string; type: string }[] = [];
let failing = false;
let server: Server;

beforeAll(async () => {
  server = createServer((req, res) => {
    let b = "";
    req.on("data", (c: Buffer) => (b += c.toString()));
    req.on("end", () => {
      hits.push({ id: String(req.headers["webhook-id"]), type: (JSON.parse(b || "{}") as { type?: string }).type ?? "" });
      res.writeHead(failing ? 500 : 204).end();
    });
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
});

afterAll(async () => {
  const alex = await tokenOf("alex");
  const { endpoints } = await ok<{ endpoints: { id: string }[] }>("/api/v1/admin/webhooks", { token: alex });
  for (const e of endpoints) await api(`/api/v1/admin/webhooks/${e.id}`, { token: alex, method: "DELETE" });
  await new Promise((r) => server.close(r));
});

describe("webhooks in the console", () => {
  it("an admin adds an endpoint, sees a delivery fail, and sends it again", async () => {
    const { page, problems } = await browserPage("/console/#webhooks");
    await page.getByLabel("Login").fill("alex");
    await page.getByLabel("Password").fill("parley-demo");
    await page.getByRole("button", { name: "Sign in" }).click();
    const form = page.getByRole("form", { name: "Add a webhook endpoint" });
    await form.getByLabel("Endpoint URL").fill(`http://127.0.0.1:${port}/parley-hook`);
    await form.getByLabel("Event types").fill("parley.interaction.created");
    await form.getByRole("button", { name: "Add endpoint" }).click();
    expect(await page.locator("[data-secret]").textContent()).toMatch(/^whsec_/);

    failing = true;
    const created = await ok<{ id: string }>("/api/v1/interactions", { token: ingestKey, json: { media: "email", workflow: "email", subject: `Webhook test ${Date.now()}`, text: "hello", contact: { email: "hook@example.com" } } });
    const endpoint = page.locator("[data-endpoint]").first();
    const row = endpoint.locator("tr[data-sequence]").first();
    await row.and(page.locator("[data-state=retrying]")).waitFor({ timeout: 30_000 });
    expect(await row.locator("td").nth(3).textContent()).toBe("500");
    await shot(page, "console-webhooks-failed");

    failing = false;
    await row.getByRole("button", { name: "Send again" }).click();
    await row.and(page.locator("[data-state=delivered]")).waitFor({ timeout: 30_000 });
    const mine = hits.filter((h) => h.type === "parley.interaction.created");
    await until(async () => mine.length >= 2 || hits.filter((h) => h.type === "parley.interaction.created").length >= 2, "the delivery sent again");
    const all = hits.filter((h) => h.type === "parley.interaction.created");
    expect(new Set(all.map((h) => h.id)).size).toBe(1);
    expect(created.id).toBeTruthy();
    await shot(page, "console-webhooks-replayed");

    await page.getByRole("button", { name: "Audit log" }).click();
    const audit = page.getByRole("table", { name: "Audit events" });
    await audit.locator("tr[data-type='parley.interaction.created']").first().waitFor();
    expect(problems).toEqual([]);
  });
});
