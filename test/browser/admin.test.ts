// The console's admin section in a real browser against `wrangler dev` (test/browser/global-setup.ts):
// an admin edits an agent's skill level and saves it; bad values (a level of 11, a queue route naming
// an unknown skill, broken JSON) are refused with the bad field named and highlighted; a supervisor
// sees no Admin tab. The tenant is shared with the other browser tests, so the config is put back.
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, ART, base, launch, tokenOf } from "./lib.ts";

interface Agent {
  id: string;
  skills: Record<string, number>;
}
interface Config {
  agents: Agent[];
  queues: { name: string; steps: { type: string; targets?: { skills: string }[] }[] }[];
  [k: string]: unknown;
}
interface Stored {
  config: Config;
  version: number;
}

const storedConfig = async (token: string): Promise<Stored> => {
  const r = await api<Stored>("/api/v1/admin/config", { token });
  expect(r.status).toBe(200);
  return r.body;
};

let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];
let adminToken: string;
let original: Stored;

beforeAll(async () => {
  browser = await launch();
  adminToken = await tokenOf("alex");
  original = await storedConfig(adminToken);
});

afterAll(async () => {
  // Put the tenant back as the other browser tests expect it (no passwords in it: they are kept).
  if (original) {
    const r = await api<Stored>("/api/v1/admin/config", { token: adminToken, method: "PUT", json: original.config });
    if (r.status !== 200) throw new Error(`restoring the config: ${r.status} ${JSON.stringify(r.body)}`);
  }
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
});

async function consoleAs(login: string): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(ctx);
  const page = await ctx.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(`${base}/console/`);
  await page.getByLabel("Login").fill(login);
  await page.getByLabel("Password").fill("parley-demo");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Parley console" }).waitFor();
  return page;
}

async function openAdmin(page: Page): Promise<void> {
  await page.getByRole("navigation", { name: "Sections" }).getByRole("button", { name: "Admin" }).click();
  await page.getByRole("tab", { name: "Agents" }).waitFor();
}

const bar = (page: Page) => page.getByRole("region", { name: "Config changes" });
const editor = (page: Page, agent: string) => page.getByRole("group", { name: `Agent ${agent}` });

describe("console admin section", () => {
  let page: Page;

  it("changes an agent's skill level and saves it", async () => {
    page = await consoleAs("alex");
    await openAdmin(page);
    await expect.poll(() => bar(page).textContent()).toContain(`version ${original.version}`);
    await page.getByRole("button", { name: "Edit agent chloe" }).click();
    const french = editor(page, "chloe").getByLabel("french", { exact: true });
    expect(await french.inputValue()).toBe("8");
    await french.fill("9");
    await bar(page).getByText("Unsaved changes").waitFor();
    await bar(page).getByRole("button", { name: "Save" }).click();
    await bar(page).getByText("No unsaved changes").waitFor();
    await expect.poll(() => bar(page).textContent()).toContain(`version ${original.version + 1}`);
    await page.getByText(`the config is now version ${original.version + 1}`).waitFor();

    const stored = await storedConfig(adminToken);
    expect(stored.version).toBe(original.version + 1);
    expect(stored.config.agents.find((a) => a.id === "chloe")?.skills.french).toBe(9);
  });

  it("refuses a skill level of 11 and highlights the field it names", async () => {
    await page.getByRole("button", { name: "Edit agent chloe" }).click();
    const french = editor(page, "chloe").getByLabel("french", { exact: true });
    await french.fill("11");
    await bar(page).getByRole("button", { name: "Save" }).click();
    const failure = page.locator(".save-failure");
    await failure.waitFor();
    expect(await failure.textContent()).toContain("Not saved.");
    await failure.getByRole("button", { name: "Agents › chloe › skills.french" }).waitFor();
    await expect.poll(() => french.getAttribute("aria-invalid")).toBe("true");
    const described = await french.getAttribute("aria-describedby");
    expect(described).toBeTruthy();
    const message = await page.locator(`[id="${described!.split(" ").find((d) => d.endsWith("-err"))}"]`).textContent();
    expect(message).toMatch(/10/);
    // The jump focused it, and chloe's row in the table is marked too.
    await expect.poll(() => page.evaluate<string | null>('document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.id ?? null')).toMatch(/skills_french/);
    await page.locator("tr.invalid", { hasText: "Chloé Martin" }).waitFor();
    await page.screenshot({ path: `${ART}admin-agent.png` });
    // Refused means not stored.
    expect((await storedConfig(adminToken)).config.agents.find((a) => a.id === "chloe")?.skills.french).toBe(9);

    await bar(page).getByRole("button", { name: "Discard changes" }).click();
    await bar(page).getByText("No unsaved changes").waitFor();
    expect(await page.locator(".save-failure").count()).toBe(0);
  });

  it("refuses a queue route with an unknown skill, switching to that queue and highlighting it", async () => {
    await page.getByRole("tab", { name: "Queues" }).click();
    const support = page.getByLabel("queue support (JSON)");
    const text = await support.inputValue();
    expect(text).toContain('"tech >= 7"');

    // Broken JSON is flagged at once and cannot be saved.
    await support.fill(`${text.slice(0, -1)},`);
    await page.getByText("Not valid JSON:").waitFor();
    expect(await support.getAttribute("aria-invalid")).toBe("true");
    expect(await bar(page).getByRole("button", { name: "Save" }).isDisabled()).toBe(true);

    await support.fill(text.replace('"tech >= 7"', '"klingon >= 7"'));
    expect(await page.getByText("Not valid JSON:").count()).toBe(0);
    await page.getByRole("tab", { name: "Agents" }).click(); // the refusal must bring the editor back to the queue
    await bar(page).getByRole("button", { name: "Save" }).click();
    const failure = page.locator(".save-failure");
    await failure.getByRole("button", { name: "Queues › support › steps[0].targets[0].skills" }).waitFor();
    expect(await failure.textContent()).toContain("unknown skill 'klingon'");
    await expect.poll(() => page.getByRole("tab", { name: "Queues" }).getAttribute("aria-selected")).toBe("true");
    await expect.poll(() => support.getAttribute("aria-invalid")).toBe("true");
    // The box is focused with the value the issue names selected.
    const selected = "const b = document.activeElement; b instanceof HTMLTextAreaElement ? b.value.slice(b.selectionStart, b.selectionEnd) : null";
    await expect.poll(() => page.evaluate<string | null>(selected)).toBe('"klingon >= 7"');
    const box = page.locator("fieldset.json-item.invalid").filter({ has: support });
    expect(await box.textContent()).toContain("steps[0].targets[0].skills: unknown skill 'klingon'");
    await page.screenshot({ path: `${ART}admin.png`, fullPage: false });

    // Nothing stored; discard brings the working copy back.
    const stored = await storedConfig(adminToken);
    expect(stored.config.queues.find((q) => q.name === "support")?.steps[0]?.targets?.[0]?.skills).toBe("tech >= 7");
    await bar(page).getByRole("button", { name: "Discard changes" }).click();
    await bar(page).getByText("No unsaved changes").waitFor();
    expect(await support.inputValue()).toContain('"tech >= 7"');
    expect(pageErrors).toEqual([]);
  });

  it("shows a supervisor no Admin tab, and the API refuses them", async () => {
    const sam = await consoleAs("sam");
    const nav = sam.getByRole("navigation", { name: "Sections" });
    await nav.getByRole("button", { name: "Dashboard" }).waitFor();
    expect(await nav.getByRole("button", { name: "Admin" }).count()).toBe(0);
    const r = await api("/api/v1/admin/config", { token: await tokenOf("sam") });
    expect(r.status).toBe(403);
    expect(pageErrors).toEqual([]);
  });
});
