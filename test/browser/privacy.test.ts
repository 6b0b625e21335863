// Data protection in the console: an admin finds a person by their address, exports their data (the
// archive downloads), erases them (the signed receipt shows), and the audit log says who did it.
import { describe, expect, it } from "vitest";
import { api, browserSuite, ingestKey, ok, shot, tokenOf, until } from "./lib.ts";

const { page: browserPage } = browserSuite();

describe("data protection in the console", () => {
  it("an admin exports a contact's data, then erases it with a receipt", async () => {
    const address = `erase-me-${Date.now()}@example.org`;
    const created = await ok<{ id: string }>("/api/v1/interactions", { token: ingestKey, json: { media: "email", workflow: "email", subject: "Please forget me", text: "my words", contact: { email: address, name: "Robin Gone" } } });
    // Finished work only: a supervisor stops it.
    await until(async () => (await api(`/api/v1/interactions/${created.id}/stop`, { token: await tokenOf("sam"), json: { reason: "browser test" } })).status < 300, "the interaction stopped");
    const { page, problems } = await browserPage("/console/#privacy");
    await page.getByLabel("Login").fill("alex");
    await page.getByLabel("Password").fill("parley-demo");
    await page.getByRole("button", { name: "Sign in" }).click();
    const find = page.getByRole("form", { name: "Find a contact" });
    await find.getByLabel("Contact").fill(address);
    await find.getByRole("button", { name: "Find" }).click();
    await page.getByRole("list", { name: "Matching contacts" }).getByRole("button").first().click();
    const card = page.locator("[data-contact]");
    await card.waitFor();
    expect(await card.textContent()).toContain(address);

    await card.getByRole("button", { name: "Export" }).click();
    const link = card.locator("[data-export] a");
    await link.waitFor();
    const res = await fetch((await link.getAttribute("href"))!);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/zip");
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(100);

    const erase = card.getByRole("button", { name: "Erase everywhere" });
    expect(await erase.isDisabled()).toBe(true);
    await card.getByLabel("Type ERASE to confirm").fill("ERASE");
    await erase.click();
    await card.locator("[data-erasure=done]").waitFor({ timeout: 30_000 });
    expect(await card.locator("[data-receipt]").textContent()).toContain("parley.erasure-receipt/1");
    await shot(page, "console-privacy-erased");
    // The contact is gone, and the audit log says who erased it.
    const contactId = (await card.getAttribute("data-contact"))!;
    expect((await api(`/api/v1/contacts/${contactId}`, { token: await tokenOf("alex") })).status).toBe(404);
    await page.getByRole("button", { name: "Audit log" }).click();
    await page.getByRole("table", { name: "Audit events" }).locator("tr[data-type='parley.contact.erased']").first().waitFor();
    expect(problems).toEqual([]);
  });
});
