// The Content Analyzer in a real browser: an email arrives and is classified; the agent sees the
// suggested category and response, uses the response in one click, corrects the category and marks
// the work done; the correction is training data. The model is trained through the admin API and
// switched off afterwards, so the other files (one shared tenant) route as before.
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { acceptOffer, api, browserSuite, mail, ok, shot, tokenOf, until } from "./lib.ts";

const { desk, page: browserPage } = browserSuite();

async function trainDemoModel(): Promise<number> {
  const alex = await tokenOf("alex");
  const examples = readFileSync(new URL("../../demo/classifier-examples.jsonl", import.meta.url), "utf8");
  await ok("/api/v1/admin/classifier/examples", { token: alex, raw: examples, type: "application/x-ndjson" });
  const { version } = await ok<{ version: number }>("/api/v1/admin/classifier/train", { token: alex, method: "POST", json: {} });
  await until(async () => (await ok<{ state: string }>(`/api/v1/admin/classifier/versions/${version}`, { token: alex })).state === "ready", "the model trained");
  await ok("/api/v1/admin/classifier/activate", { token: alex, json: { version } });
  return version;
}

afterAll(async () => {
  await api("/api/v1/admin/classifier/active", { token: await tokenOf("alex"), method: "DELETE" });
});

describe("classification on the desktop", () => {
  it("suggests the category and its response, and the agent uses it, corrects the category and marks done", async () => {
    await trainDemoModel();
    const { page, problems } = await desk("ana");
    const subject = `Charged twice ${Date.now()}`;
    const id = await mail(subject, "Hello, I was charged twice on my card this month. Please refund the extra charge.");
    await acceptOffer(page, subject);

    const chips = page.getByLabel("Suggested categories");
    await chips.locator("[data-category=billing]").waitFor();
    expect(await chips.locator("[data-category=billing]").getAttribute("title")).toMatch(/Because of: .*(charg|refund)/);

    const reply = page.getByRole("form", { name: "Reply" });
    const use = reply.getByLabel("Suggested responses").locator("[data-suggested=refund-policy]");
    await use.click();
    await expect.poll(() => reply.getByLabel("Message").inputValue()).toMatch(/refund/i);

    const picker = page.getByRole("group", { name: "Categories" });
    expect(await picker.getByLabel(/Billing/).isChecked()).toBe(true);
    await picker.getByLabel(/Billing/).uncheck();
    await picker.getByLabel(/Orders and delivery/).check();
    await shot(page, "desk-classification");
    await page.getByRole("toolbar", { name: "Actions" }).getByRole("button", { name: "Done" }).click();
    await page.getByText("Done", { exact: true }).first().waitFor();
    await until(async () => (await page.locator(`[data-work="${id}"]`).count()) === 0, "the work closed");

    const ana = await tokenOf("ana");
    const c = await ok<{ confirmed: string[] | null }>(`/api/v1/interactions/${id}/classification`, { token: ana });
    expect(c.confirmed).toEqual(["orders"]);
    const examples = await ok<{ examples: { source: string; text: string }[] }>("/api/v1/admin/classifier/examples?category=orders", { token: await tokenOf("alex") });
    expect(examples.examples.some((e) => e.source === "agent" && e.text.includes("charged twice"))).toBe(true);
    expect(problems).toEqual([]);
  });
});

describe("classification in the console", () => {
  it("shows the training objects, trains a version, reads its report and activates it", async () => {
    const { page, problems } = await browserPage("/console/#classifier");
    await page.getByLabel("Login").fill("alex");
    await page.getByLabel("Password").fill("parley-demo");
    await page.getByRole("button", { name: "Sign in" }).click();
    const counts = page.getByRole("table", { name: "Examples per category" });
    await counts.locator("[data-category=billing]").waitFor();
    expect(Number(await counts.locator("[data-category=billing] td").nth(1).textContent())).toBeGreaterThanOrEqual(12);

    await page.getByRole("tab", { name: "Models" }).click();
    const versions = page.getByRole("table", { name: "Model versions" });
    const before = await versions.locator("tbody tr").count();
    await page.getByRole("button", { name: "Train a new version" }).click();
    await until(async () => (await versions.locator("tbody tr").count()) > before, "the new version listed");
    const newest = versions.locator("tbody tr").first();
    await newest.and(page.locator("[data-state=ready]")).waitFor({ timeout: 60_000 });
    await newest.getByRole("button", { name: "Activate" }).click();
    await newest.getByText("active").waitFor();
    const report = page.getByRole("region", { name: /Test report of version/ });
    await report.getByRole("img", { name: "Precision and recall by confidence threshold" }).waitFor();
    await report.getByRole("table", { name: "Per category" }).locator("[data-category=billing]").waitFor();
    await shot(page, "console-classifier");

    await page.getByRole("tab", { name: "Thresholds" }).click();
    const form = page.getByRole("form", { name: "Thresholds" });
    await form.getByLabel(/fixed confidence for automatic replies/).fill("90");
    await form.getByRole("button", { name: "Save thresholds" }).click();
    await until(async () => (await ok<{ settings: { autoRespondAt: number | null } }>("/api/v1/admin/classifier", { token: await tokenOf("alex") })).settings.autoRespondAt === 0.9, "the threshold saved");
    expect(problems).toEqual([]);
  });
});
