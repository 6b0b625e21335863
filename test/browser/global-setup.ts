// Starts what the browser tests talk to: the widget, desktop and console built, a fresh local D1 with the demo tenant
// (this run's origins added to its chat and contact-form allow-lists), and `wrangler dev` on a free port.
import type { ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { buildWidget } from "../../scripts/build-widget.ts";
import { buildWeb } from "../../scripts/build-web.ts";
import { applyMigrations, ensureDevVars, loadTenant, readJson, root, startDev, waitForHealth } from "../../scripts/local.ts";

export const INGEST_KEY = "demo-ingest-key-change-me";
export const READ_KEY = "demo-read-key-change-me";

declare module "vitest" {
  export interface ProvidedContext {
    /** wrangler dev, e.g. http://127.0.0.1:41234 */
    baseUrl: string;
    /** Another origin on the allow-lists, for a page that embeds the widget from elsewhere. */
    otherPort: number;
    /** Where a test may run a fake provider API (WhatsApp's Graph API): wrangler dev's DEV_OUTBOUND_HOST. */
    providerPort: number;
    ingestKey: string;
    readKey: string;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface DemoConfig {
  chat: { allowedOrigins: string[]; strings?: Record<string, string> };
  forms: { name: string; allowedOrigins: string[] }[];
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const { bytes, gzipBytes } = await buildWidget({ quiet: true });
  await buildWeb({ quiet: true });
  const port = await freePort();
  const otherPort = await freePort();
  const providerPort = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const persistTo = mkdtempSync(join(tmpdir(), "parley-browser-"));

  const cfg = readJson("demo/tenant.json") as DemoConfig;
  const origins = [base, `http://localhost:${port}`, `http://127.0.0.1:${otherPort}`];
  cfg.chat.allowedOrigins.push(...origins);
  // One widget text from the tenant, over the built-in English (the test looks for it).
  cfg.chat.strings = { ...cfg.chat.strings, preChatIntro: "Tell us who you are and we'll find the right person." };
  cfg.forms.find((f) => f.name === "contact-us")!.allowedOrigins.push(...origins);
  ensureDevVars();
  applyMigrations(persistTo);
  await loadTenant(cfg, { ingest: INGEST_KEY, read: READ_KEY }, persistTo);

  mkdirSync(`${root}test-artifacts`, { recursive: true });
  const log = createWriteStream(`${root}test-artifacts/wrangler-dev.log`);
  const dev: ChildProcess = startDev(port, { persistTo, quiet: true, vars: { DEV_OUTBOUND_HOST: `127.0.0.1:${providerPort}` } });
  dev.stdout?.pipe(log);
  dev.stderr?.pipe(log);
  const stop = async () => {
    try {
      if (dev.pid) process.kill(-dev.pid, "SIGTERM");
    } catch {
      // already gone
    }
    if (dev.exitCode === null) await new Promise((r) => setTimeout(r, 500));
    rmSync(persistTo, { recursive: true, force: true });
  };
  try {
    await waitForHealth(base);
  } catch (e) {
    await stop();
    throw e;
  }
  console.log(`browser tests: widget ${bytes} bytes (${gzipBytes} gzipped); wrangler dev at ${base}, ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  project.provide("baseUrl", base);
  project.provide("otherPort", otherPort);
  project.provide("providerPort", providerPort);
  project.provide("ingestKey", INGEST_KEY);
  project.provide("readKey", READ_KEY);
  return stop;
}
