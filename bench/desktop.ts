// Desktop bench: what the agent desktop (/desk/) and the supervisor console (/console/) add, in a real
// browser (Debian's chromium through playwright-core), over the same data reaching a bare client in Node,
// both measured in the same run against one wrangler dev (a snapshot, fresh state, the demo tenant).
//
//   1. Offer to screen: ben signed in to /desk/ through its form and logged in to routing; a raw Node
//      WebSocket on /api/v1/me/ws for ben too. N interactions submitted one at a time
//      (POST /api/v1/interactions, generic, queue support): t0 just before the POST, t_ws when the offer
//      frame reaches Node (baseline), t_dom when the toast [data-offer=<id>] is in the page's DOM. Also,
//      in the page, when its own socket got the frame and the next animation frame after the toast, to
//      tell where the page's extra goes. Each offer is then accepted and done through the API.
//   3. Desk load (run right after 1, while ben is ready with one interaction in hand, so the work list
//      has a row): K reloads of /desk/ with the session in localStorage, until [data-presence] and a row
//      of [data-list=work] are in the DOM; baseline, interleaved: in Node, GET /desk/, /app/desk.js with
//      /app/app.css, the chunks desk.js imports, then GET /api/v1/me with ben's token.
//   2. Dashboard after a move: everyone out of routing, sam signed in to /console/ (Dashboard tab) and a
//      raw Node WebSocket on /api/v1/supervisor/ws for sam. M interactions ingested into "sales", then
//      each moved to "billing" (POST /api/v1/interactions/:id/move as sam): t_ws the first `stats` frame
//      after t0 whose billing waiting reached the new count, t_dom when the page's billing waiting cell
//      shows it.
//   4. Sizes: every file of public/app, raw and gzipped, as scripts/build-web.ts built it for the snapshot.
//
// Times are epoch milliseconds with sub-millisecond resolution in both processes
// (performance.timeOrigin + performance.now()); the page's clock against Node's is checked and recorded
// (`clock`). Observation in the page is a MutationObserver and a WebSocket wrapper installed by a
// playwright init script (not subject to the page's CSP); the waits are promises inside the page, not
// polling, so the bench does not make the page busier while it is measured.
// Sizes: BENCH_DESKTOP_COUNT (N, 100), BENCH_DESKTOP_MOVES (M, 30), BENCH_DESKTOP_RELOADS (K, 20),
// BENCH_DESKTOP_WARMUP (5), BENCH_PORT.
import { spawnSync } from "node:child_process";
import { lstatSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { buildWeb } from "../scripts/build-web.ts";
import { root } from "../scripts/local.ts";
import { cpuMeter, settle, type CpuUse } from "./lib/cpu.ts";
import { applyMigrationsIn, ensurePortsFree, removeWorkdir, startDev, troubleInLog, waitUpOrBuildError, workdir, type Dev, type Workdir } from "./lib/dev.ts";
import { envInt } from "./lib/env.ts";
import { phaseTimer } from "./lib/phase.ts";
import { request, sleep, until } from "./lib/pool.ts";
import { percentile, ratio, round } from "./lib/stats.ts";
import { loadBigTenant } from "./lib/tenant.ts";
import type { BenchResult } from "./lib/types.ts";

export const name = "desktop";
export const description = "agent desktop and supervisor console in chromium: offer→toast and move→dashboard cell vs. the same frames on a raw WebSocket, desk reload vs. fetching its bytes, bundle sizes";

const TENANT = "demo";
const PASSWORD = "parley-demo";
const INGEST_KEY = "bench-desktop-ingest-key-not-secret";
const AGENT = "ben";
const SUPERVISOR = "sam";

const opts = {
  offers: envInt("BENCH_DESKTOP_COUNT", 100),
  moves: envInt("BENCH_DESKTOP_MOVES", 30),
  reloads: envInt("BENCH_DESKTOP_RELOADS", 20),
  warmup: envInt("BENCH_DESKTOP_WARMUP", 5),
  port: envInt("BENCH_PORT", 8801),
  /** Longest wait for one observation (a frame, a toast, a cell, a page load). */
  waitMs: 15_000,
  /** Each phase stops starting new rounds after this. */
  phaseLimitMs: 300_000,
};

const now = () => performance.timeOrigin + performance.now();
const errText = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 1000);

// ---- figures ----

interface Dist {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

function dist(values: readonly (number | null | undefined)[]): Dist {
  const s = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v)).sort((a, b) => a - b);
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN;
  return { n: s.length, p50: round(percentile(s, 50)), p95: round(percentile(s, 95)), p99: round(percentile(s, 99)), max: round(s.at(-1) ?? NaN), mean: round(mean) };
}

// ---- the API from Node ----

async function api<T = Record<string, unknown>>(base: string, path: string, o: { token?: string; json?: unknown; method?: string } = {}): Promise<T> {
  const headers: Record<string, string> = {};
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  let body: string | undefined;
  if (o.json !== undefined) {
    body = JSON.stringify(o.json);
    headers["content-type"] = "application/json";
  }
  const r = await request(`${base}${path}`, { method: o.method ?? (body === undefined ? "GET" : "POST"), headers, body, expect: "any", timeoutMs: 30_000 });
  if (r.status >= 300) throw new Error(`${o.method ?? (body === undefined ? "GET" : "POST")} ${path}: ${r.status} ${r.body.slice(0, 300)}`);
  return (r.body ? JSON.parse(r.body) : {}) as T;
}

const tokenOf = async (base: string, login: string) => (await api<{ token: string }>(base, "/api/v1/auth/login", { json: { tenant: TENANT, login, password: PASSWORD } })).token;

/** A raw WebSocket in Node (undici's, as bench/routing.ts uses), every frame parsed and timed on arrival. */
interface RawSocket {
  ws: WebSocket;
  frames: number;
  closed: string | null;
  onFrame: (f: Record<string, unknown>, at: number) => void;
}

function openRaw(url: string, onFrame: RawSocket["onFrame"], first: string): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const s: RawSocket = { ws, frames: 0, closed: null, onFrame };
    const timer = setTimeout(() => (ws.close(), reject(new Error(`${url.replace(/token=[^&]+/, "token=…")}: no ${first} frame in ${opts.waitMs} ms`))), opts.waitMs);
    let ready = false;
    ws.addEventListener("message", (ev) => {
      const at = now();
      s.frames++;
      let f: Record<string, unknown>;
      try {
        f = JSON.parse(String(ev.data)) as Record<string, unknown>;
      } catch {
        return;
      }
      if (!ready && f.type === first) {
        ready = true;
        clearTimeout(timer);
        resolve(s);
      }
      s.onFrame(f, at);
    });
    ws.addEventListener("close", (ev) => {
      s.closed = `${ev.code} ${ev.reason}`.trim();
      if (!ready) (clearTimeout(timer), reject(new Error(`socket closed before ${first}: ${s.closed}`)));
    });
    ws.addEventListener("error", () => undefined);
  });
}

// ---- what the init script keeps in the page ----

interface Tap {
  /** Frames the page's sockets received: [time, data]. Cleared by the bench after each round. */
  frames: [number, string][];
  /** First time each [data-offer] toast was in the DOM, and the next animation frame after it. */
  offers: Record<string, number>;
  offerFrames: Record<string, number>;
  /** A cell to follow (the console's billing waiting cell): each change of its text, timed. */
  cellSel: string | null;
  cellLast: string | null;
  cells: [number, string][];
  /** /desk/: when [data-presence] and a row of the work list were first both in the DOM. */
  deskReadyAt: number | null;
  /** The app's sockets: when each was created and opened. */
  sockets: { path: string; created: number; open: number | null }[];
  /** Re-checked after every mutation batch (promises of the bench's waits). */
  waiters: (() => boolean)[];
}

/** Runs in the page before its own scripts (playwright init script: the CSP does not apply to it). */
function tapInit(): void {
  const clock = () => performance.timeOrigin + performance.now();
  const B: Tap = { frames: [], offers: {}, offerFrames: {}, cellSel: null, cellLast: null, cells: [], deskReadyAt: null, sockets: [], waiters: [] };
  (window as unknown as { __bench: Tap }).__bench = B;
  const wantDesk = location.pathname.startsWith("/desk");
  const Native = window.WebSocket;
  // The app's sockets, each with one more listener (added first, so it runs before the app's onmessage).
  class Tapped extends Native {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      const sock = { path: new URL(String(url), location.href).pathname, created: clock(), open: null as number | null };
      if (B.sockets.length < 100) B.sockets.push(sock);
      this.addEventListener("open", () => (sock.open = clock()));
      this.addEventListener("message", (e: MessageEvent) => {
        if (B.frames.length < 5000) B.frames.push([clock(), typeof e.data === "string" ? e.data : ""]);
      });
    }
  }
  window.WebSocket = Tapped;
  const check = () => {
    const t = clock();
    for (const el of document.querySelectorAll("[data-offer]")) {
      const id = el.getAttribute("data-offer") ?? "";
      if (B.offers[id] === undefined) {
        B.offers[id] = t;
        requestAnimationFrame(() => (B.offerFrames[id] = clock()));
      }
    }
    if (B.cellSel) {
      const v = document.querySelector(B.cellSel)?.textContent ?? null;
      if (v !== null && v !== B.cellLast) {
        B.cellLast = v;
        if (B.cells.length < 5000) B.cells.push([t, v]);
      }
    }
    if (wantDesk && B.deskReadyAt === null && document.querySelector("[data-presence]") && document.querySelector("[data-list=work] li")) B.deskReadyAt = t;
    if (B.waiters.length) B.waiters = B.waiters.filter((w) => !w());
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, characterData: true });
}

/** Waits in the page for the toast of `id`; its time, or null. */
const waitToast = (page: Page, id: string) =>
  page.evaluate(
    ([id, ms]) =>
      new Promise<number | null>((resolve) => {
        const B = (window as unknown as { __bench: Tap }).__bench;
        const done = () => {
          const t = B.offers[id];
          if (t === undefined) return false;
          resolve(t);
          return true;
        };
        if (done()) return;
        B.waiters.push(done);
        setTimeout(() => resolve(null), ms);
      }),
    [id, opts.waitMs] as const,
  );

/** Waits in the page until neither a toast nor a work item is shown (after accept and done). */
const waitDeskClear = (page: Page) =>
  page.evaluate(
    (ms) =>
      new Promise<boolean>((resolve) => {
        const B = (window as unknown as { __bench: Tap }).__bench;
        const done = () => {
          if (document.querySelector("[data-offer], [data-work]")) return false;
          resolve(true);
          return true;
        };
        if (done()) return;
        B.waiters.push(done);
        setTimeout(() => resolve(false), ms);
      }),
    opts.waitMs,
  );

/** After a round: when the page's socket got the offer for `id`, the animation frame after its toast; frames cleared. */
const offerDetail = (page: Page, id: string) =>
  page.evaluate((id) => {
    const B = (window as unknown as { __bench: Tap }).__bench;
    let msg: number | null = null;
    for (const [t, d] of B.frames) {
      if (!d.includes(id)) continue;
      try {
        const f = JSON.parse(d) as { type?: string; offer?: { interactionId?: string } };
        if (f.type === "offer" && f.offer?.interactionId === id) {
          msg = t;
          break;
        }
      } catch {
        // not JSON
      }
    }
    B.frames = [];
    return { msg, frame: B.offerFrames[id] ?? null };
  }, id);

/** Waits in the page until the followed cell shows `value` (a change after `after`); its time, or null. */
const waitCell = (page: Page, value: string, after: number) =>
  page.evaluate(
    ([value, after, ms]) =>
      new Promise<number | null>((resolve) => {
        const B = (window as unknown as { __bench: Tap }).__bench;
        const done = () => {
          const hit = B.cells.find(([t, v]) => t > after && v === value);
          if (!hit) return false;
          resolve(hit[0]);
          return true;
        };
        if (done()) return;
        B.waiters.push(done);
        setTimeout(() => resolve(null), ms);
      }),
    [value, after, opts.waitMs] as const,
  );

/** After a move: when the page's socket got the first stats frame after `after` with billing waiting ≥ `want`; frames cleared. */
const statsDetail = (page: Page, queue: string, want: number, after: number) =>
  page.evaluate(
    ([queue, want, after]) => {
      const B = (window as unknown as { __bench: Tap }).__bench;
      let msg: number | null = null;
      for (const [t, d] of B.frames) {
        if (t <= after || !d.startsWith('{"type":"stats"')) continue;
        try {
          const f = JSON.parse(d) as { queues?: { queue: string; waiting: number }[] };
          if ((f.queues?.find((q) => q.queue === queue)?.waiting ?? -1) >= want) {
            msg = t;
            break;
          }
        } catch {
          // not JSON
        }
      }
      B.frames = [];
      B.cells = B.cells.slice(-5);
      return msg;
    },
    [queue, want, after] as const,
  );

/** After a reload: when the desk was ready, and when the app's desktop socket was created, opened and got its hello (epoch ms). */
const deskReady = (page: Page) =>
  page.evaluate(
    (ms) =>
      new Promise<{ ready: number | null; origin: number; socket_created: number | null; socket_open: number | null; hello: number | null } | null>((resolve) => {
        const B = (window as unknown as { __bench?: Tap }).__bench;
        if (!B) return resolve(null);
        const answer = () => {
          const sock = B.sockets.find((x) => x.path === "/api/v1/me/ws");
          const hello = B.frames.find(([, d]) => d.startsWith('{"type":"hello"'));
          resolve({ ready: B.deskReadyAt, origin: performance.timeOrigin, socket_created: sock?.created ?? null, socket_open: sock?.open ?? null, hello: hello?.[0] ?? null });
        };
        const done = () => {
          if (B.deskReadyAt === null) return false;
          answer();
          return true;
        };
        if (done()) return;
        B.waiters.push(done);
        setTimeout(answer, ms);
      }),
    opts.waitMs * 2,
  );

/** The navigation's and the resources' timings (epoch ms), once the page is quiet. */
const deskResources = (page: Page) =>
  page.evaluate(() => {
    const o = performance.timeOrigin;
    const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined;
    const resources = (performance.getEntriesByType("resource") as PerformanceResourceTiming[]).map((r) => ({
      name: new URL(r.name).pathname,
      start: o + r.startTime,
      end: o + r.responseEnd,
      transfer: r.transferSize,
      body: r.encodedBodySize,
    }));
    return { html: nav ? o + nav.responseEnd : null, dom_content_loaded: nav ? o + nav.domContentLoadedEventEnd : null, resources };
  });

// ---- CPU of the browser (the bench's child processes outside wrangler dev's group) ----

function procTable(): Map<number, { ppid: number; pgrp: number; ticks: number; comm: string }> {
  const out = new Map<number, { ppid: number; pgrp: number; ticks: number; comm: string }>();
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const s = readFileSync(`/proc/${pid}/stat`, "utf8");
      const close = s.lastIndexOf(")");
      const f = s.slice(close + 2).split(" ");
      out.set(Number(pid), { comm: s.slice(s.indexOf("(") + 1, close), ppid: Number(f[1]), pgrp: Number(f[2]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const TICK = (() => {
  const r = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** The bench's descendants outside wrangler dev's group (chromium's processes), in a process table. */
function browserPids(t: ReturnType<typeof procTable>, devGroup: number | undefined): Set<number> {
  const kids = new Map<number, number[]>();
  for (const [pid, p] of t) kids.set(p.ppid, [...(kids.get(p.ppid) ?? []), pid]);
  const pids = new Set<number>();
  const walk = (pid: number) => {
    for (const k of kids.get(pid) ?? []) {
      if (pids.has(k) || (devGroup !== undefined && t.get(k)?.pgrp === devGroup)) continue;
      pids.add(k);
      walk(k);
    }
  };
  walk(process.pid);
  return pids;
}

type PhaseCpu = CpuUse & { browser: number; other_not_browser: number; cores_browser: number; cores_other_not_browser: number };

/** lib/cpu.ts's meter (which counts the browser in `other`), with the browser's share taken out. */
function meter(devGroup: number | undefined): () => PhaseCpu {
  const m = cpuMeter(devGroup);
  const before = procTable();
  return () => {
    const use = m();
    const table = procTable();
    let ticks = 0;
    for (const pid of browserPids(table, devGroup)) ticks += Math.max(0, (table.get(pid)?.ticks ?? 0) - (before.get(pid)?.ticks ?? 0));
    const browser = round(ticks / TICK, 2);
    const otherNot = round(Math.max(0, use.other - browser), 2);
    return { ...use, browser, other_not_browser: otherNot, cores_browser: round(browser / use.wall_s, 2), cores_other_not_browser: round(otherNot / use.wall_s, 2) };
  };
}

// ---- the snapshot ----

/** As bench/chat.ts: a hard-linked node_modules, so an edit of the checkout's package.json or
 *  tsconfig.json during the run does not reload wrangler dev (which drops every object and socket). */
function isolateNodeModules(w: Workdir): boolean {
  const nm = join(w.src, "node_modules");
  if (!lstatSync(nm).isSymbolicLink()) return true;
  rmSync(nm);
  const r = spawnSync("cp", ["-al", join(root, "node_modules"), nm], { encoding: "utf8" });
  if (r.status === 0) return true;
  rmSync(nm, { recursive: true, force: true });
  symlinkSync(join(root, "node_modules"), nm);
  return false;
}

const reloads = (logPath: string) => {
  try {
    return (readFileSync(logPath, "utf8").match(/Reloading local server/g) ?? []).length;
  } catch {
    return null;
  }
};

function version(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(`${root}node_modules/${pkg}/package.json`, "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/** Requests the page has in flight (not its WebSockets), to start each round with a quiet page. */
function inflight(page: Page): () => number {
  let n = 0;
  const pending = new Set<unknown>();
  page.on("request", (r) => {
    pending.add(r);
    n = pending.size;
  });
  const end = (r: unknown) => {
    pending.delete(r);
    n = pending.size;
  };
  page.on("requestfinished", end);
  page.on("requestfailed", end);
  return () => n;
}

/** The page's clock against Node's: the offset (page − Node) at the round trip of least duration. */
async function clockCheck(page: Page): Promise<{ offset_ms: number; uncertainty_ms: number }> {
  let best = { offset_ms: NaN, uncertainty_ms: Infinity };
  for (let k = 0; k < 15; k++) {
    const a = now();
    const p = await page.evaluate(() => performance.timeOrigin + performance.now());
    const b = now();
    if ((b - a) / 2 < best.uncertainty_ms) best = { offset_ms: round(p - (a + b) / 2, 3), uncertainty_ms: round((b - a) / 2, 3) };
  }
  return best;
}

interface Opened {
  ctx: BrowserContext;
  page: Page;
  problems: string[];
  busy: () => number;
}

async function openPage(browser: Browser, url: string): Promise<Opened> {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await ctx.addInitScript(tapInit);
  const page = await ctx.newPage();
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.length < 20 && problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && problems.length < 20 && problems.push(`console: ${m.text().slice(0, 300)}`));
  const busy = inflight(page);
  await page.goto(url);
  return { ctx, page, problems, busy };
}

async function signIn(page: Page, login: string): Promise<void> {
  await page.getByLabel("Login").fill(login);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Waits until the page has no request in flight (bounded), then a little more. */
async function quiet(o: Opened, ms = 100): Promise<void> {
  await until(() => o.busy() === 0, 5_000, 5);
  await sleep(ms);
}

// ---- the run ----

interface OfferSample {
  id: string;
  post_ms: number;
  ws_ms: number | null;
  page_socket_ms: number | null;
  dom_ms: number | null;
  frame_ms: number | null;
}

interface MoveSample {
  id: string;
  expected: number;
  post_ms: number;
  ws_ms: number | null;
  page_socket_ms: number | null;
  dom_ms: number | null;
}

interface LoadSample {
  baseline_ms: number;
  /** The baseline's marks from its start: the HTML, desk.js with app.css and then the chunks, GET /api/v1/me. */
  baseline_html_ms: number;
  baseline_scripts_ms: number;
  baseline_bytes: number;
  /** Reload start to both elements in the DOM (the page's observer), and to Node seeing them visible. */
  page_ms: number | null;
  page_seen_by_node_ms: number | null;
  /** Marks within the reload, from its start: the new document's time origin, the HTML's end, the scripts' end,
   *  DOMContentLoaded, the desktop socket created, open and its hello, GET /api/v1/me's end (the app calls it once the socket is open). */
  origin_ms: number | null;
  html_ms: number | null;
  scripts_ms: number | null;
  dom_content_loaded_ms: number | null;
  socket_created_ms: number | null;
  socket_open_ms: number | null;
  hello_ms: number | null;
  me_ms: number | null;
}

export async function run(): Promise<BenchResult> {
  const { offers: N, moves: M, reloads: K, warmup: W, port } = opts;
  const phases: Record<string, number> = {};
  const phase = phaseTimer(phases);
  const cpu: Record<string, PhaseCpu> = {};
  const loadBefore = loadavg().map((x) => round(x, 2));
  const runTag = Date.now().toString(36);

  // ---- 4. sizes: built into the checkout's public/app first, so the snapshot serves this build ----
  const built = await phase("build-web (public/app)", () => buildWeb({ quiet: true }));
  const sizes = Object.fromEntries(Object.entries(built.files).sort(([a], [b]) => a.localeCompare(b)).map(([f, s]) => [f, { bytes: s.bytes, gzip_bytes: s.gzipBytes }]));

  const w = workdir();
  const isolated = isolateNodeModules(w);
  const logPath = `${root}bench/results/desktop-wrangler.log`;
  let dev: Dev | undefined;
  let browser: Browser | undefined;
  const sockets: RawSocket[] = [];
  const pages: Opened[] = [];
  const setup: Record<string, unknown> = {};
  const offerSamples: OfferSample[] = [];
  const moveSamples: MoveSample[] = [];
  const loadSamples: LoadSample[] = [];
  const errors: string[] = [];
  let lastResources: unknown = null;
  const clock: Record<string, unknown> = {};

  try {
    await ensurePortsFree(port, port + 1000);
    console.log(`  code: ${w.code.ref} at ${w.code.commit.slice(0, 12)}${w.code.dirty.length ? ` with ${w.code.dirty.length} changed file(s)` : ""}, snapshot in ${w.src}`);
    await phase("D1 migrations and the demo tenant", async () => {
      applyMigrationsIn(w);
      await loadBigTenant(JSON.parse(readFileSync(`${root}demo/tenant.json`, "utf8")), INGEST_KEY, w, { twilio: "desktop-bench-sends-no-sms" });
    });
    dev = startDev(port, w, { logPath, inspectorPort: port + 1000, vars: { BENCH: "1" } });
    const d = dev;
    const base = d.base;
    const wsBase = base.replace(/^http/, "ws");
    await phase(`wrangler dev on :${port} (log: bench/results/desktop-wrangler.log)`, () => waitUpOrBuildError(d));
    const ingest = (queue: string, tag: string) =>
      api<{ id: string }>(base, "/api/v1/interactions", { token: INGEST_KEY, json: { media: "generic", queue, externalId: `bench-desk-${runTag}-${tag}`, subject: `Bench ${runTag} ${tag}` } });

    const b = await phase("chromium", () =>
      chromium.launch({
        executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
        headless: true,
        args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      }),
    );
    browser = b;
    setup.chromium = b.version();

    // ---- 1. offer to screen ----
    const benToken = await tokenOf(base, AGENT);
    const desk = await phase(`${AGENT} signs in to /desk/ and logs in to routing; a raw socket for ${AGENT}`, async () => {
      const o = await openPage(b, `${base}/desk/`);
      pages.push(o);
      await signIn(o.page, AGENT);
      await o.page.getByRole("button", { name: "Log in to routing" }).click();
      await o.page.locator("[data-presence=ready]").waitFor({ timeout: 30_000 });
      return o;
    });
    const wsOffers = new Map<string, number>();
    let duplicateOffers = 0;
    const agentSock = await openRaw(`${wsBase}/api/v1/me/ws?token=${encodeURIComponent(benToken)}`, (f, at) => {
      if (f.type !== "offer") return;
      const id = (f.offer as { interactionId?: string } | undefined)?.interactionId;
      if (!id) return;
      if (wsOffers.has(id)) duplicateOffers++;
      else wsOffers.set(id, at);
    }, "hello");
    sockets.push(agentSock);
    await quiet(desk, 300);
    clock.desk = await clockCheck(desk.page);

    const offerRound = async (tag: string): Promise<OfferSample> => {
      const t0 = now();
      const { id } = await ingest("support", tag);
      const post = now() - t0;
      const [gotWs, dom] = await Promise.all([until(() => wsOffers.has(id), opts.waitMs, 2), waitToast(desk.page, id)]);
      if (!gotWs) errors.push(`offer ${id}: no offer frame on the raw socket in ${opts.waitMs} ms`);
      if (dom === null) errors.push(`offer ${id}: no toast in ${opts.waitMs} ms`);
      await api(base, `/api/v1/interactions/${id}/accept`, { token: benToken, method: "POST" });
      await api(base, `/api/v1/interactions/${id}/done`, { token: benToken, method: "POST" });
      const det = await offerDetail(desk.page, id);
      if (!(await waitDeskClear(desk.page))) errors.push(`offer ${id}: the toast or the work item still shown ${opts.waitMs} ms after done`);
      await quiet(desk);
      const ws = wsOffers.get(id);
      return { id, post_ms: round(post, 2), ws_ms: ws === undefined ? null : round(ws - t0, 2), page_socket_ms: det.msg === null ? null : round(det.msg - t0, 2), dom_ms: dom === null ? null : round(dom - t0, 2), frame_ms: det.frame === null ? null : round(det.frame - t0, 2) };
    };
    await phase(`offers: ${W} warm-up`, async () => {
      for (let i = 0; i < W; i++) await offerRound(`w${i}`);
    });
    await phase("settling", () => settle(d.pid, { minS: 2, maxS: 20, cores: 0.1 }));
    await phase(`offers: ${N} submitted one at a time, each accepted and done`, async () => {
      const m = meter(d.pid);
      const end = performance.now() + opts.phaseLimitMs;
      for (let i = 0; i < N && performance.now() < end; i++) offerSamples.push(await offerRound(`o${i}`));
      cpu.offers = m();
    });
    setup.offers = { duplicate_offers: duplicateOffers, raw_socket_closed: agentSock.closed, page_problems: [...desk.problems] };

    // ---- 3. desk load (ben ready, one interaction in hand so the work list has a row) ----
    const inHand = await phase("one interaction accepted and kept in hand for the reloads", async () => {
      const { id } = await ingest("support", "hand");
      if (!(await until(() => wsOffers.has(id), opts.waitMs, 5))) throw new Error(`no offer of ${id}`);
      await api(base, `/api/v1/interactions/${id}/accept`, { token: benToken, method: "POST" });
      await desk.page.locator(`[data-work="${id}"]`).waitFor({ timeout: opts.waitMs });
      await quiet(desk, 300);
      return id;
    });
    const deskAssets = await (async () => {
      const js = (await request(`${base}/app/desk.js`)).body;
      const chunks = [...new Set([...js.matchAll(/["']\.\/(chunk-[A-Za-z0-9_-]+\.js)["']/g)].map((x) => x[1]!))];
      return { chunks };
    })();
    setup.desk_load = { in_hand: inHand, chunks_desk_js_imports: deskAssets.chunks };
    const baselineLoad = async (): Promise<{ total: number; html: number; scripts: number; me: number; bytes: number }> => {
      const t0 = now();
      const html = await request(`${base}/desk/`);
      const t1 = now();
      const first = await Promise.all([request(`${base}/app/desk.js`), request(`${base}/app/app.css`)]);
      const chunks = await Promise.all(deskAssets.chunks.map((c) => request(`${base}/app/${c}`)));
      const t2 = now();
      const me = await request(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${benToken}` } });
      const t3 = now();
      const bytes = [html, ...first, ...chunks, me].reduce((n, r) => n + Buffer.byteLength(r.body), 0);
      return { total: t3 - t0, html: t1 - t0, scripts: t2 - t0, me: t3 - t0, bytes };
    };
    const pageLoad = async (): Promise<Omit<LoadSample, "baseline_ms" | "baseline_html_ms" | "baseline_scripts_ms" | "baseline_bytes">> => {
      const t0 = now();
      await desk.page.reload({ waitUntil: "commit", timeout: opts.waitMs * 2 });
      const det = await deskReady(desk.page);
      const seen = now();
      const presence = await desk.page.locator("[data-presence]").isVisible();
      const row = await desk.page.locator("[data-list=work] li").first().isVisible();
      if (!det || det.ready === null) errors.push(`reload: the desk was not ready in ${opts.waitMs * 2} ms`);
      else if (!presence || !row) errors.push(`reload: in the DOM but not visible (presence ${presence}, work row ${row})`);
      await quiet(desk, 200);
      const res = await deskResources(desk.page);
      const rs = res.resources;
      const scripts = rs.filter((r) => r.name.startsWith("/app/") && r.name.endsWith(".js"));
      const me = rs.find((r) => r.name === "/api/v1/me");
      const rel = (x: number | null | undefined) => (x === null || x === undefined ? null : round(x - t0, 2));
      lastResources = { ...res, html: rel(res.html), dom_content_loaded: rel(res.dom_content_loaded), resources: rs.map((r) => ({ ...r, start: rel(r.start), end: rel(r.end) })) };
      return {
        page_ms: rel(det?.ready),
        page_seen_by_node_ms: round(seen - t0, 2),
        origin_ms: rel(det?.origin),
        html_ms: rel(res.html),
        scripts_ms: scripts.length ? rel(Math.max(...scripts.map((r) => r.end))) : null,
        dom_content_loaded_ms: rel(res.dom_content_loaded),
        socket_created_ms: rel(det?.socket_created),
        socket_open_ms: rel(det?.socket_open),
        hello_ms: rel(det?.hello),
        me_ms: rel(me?.end),
      };
    };
    await phase(`desk load: 2 warm-up, then ${K} reloads, each after a baseline fetch`, async () => {
      for (let k = 0; k < 2; k++) {
        await baselineLoad();
        await pageLoad();
      }
      const m = meter(d.pid);
      const end = performance.now() + opts.phaseLimitMs;
      for (let k = 0; k < K && performance.now() < end; k++) {
        const baseline = await baselineLoad();
        await sleep(100);
        loadSamples.push({ baseline_ms: round(baseline.total, 2), baseline_html_ms: round(baseline.html, 2), baseline_scripts_ms: round(baseline.scripts, 2), baseline_bytes: baseline.bytes, ...(await pageLoad()) });
      }
      cpu.desk_load = m();
    });
    clock.desk_after_reloads = await clockCheck(desk.page);
    (setup.desk_load as Record<string, unknown>).page_problems = [...desk.problems];
    (setup.desk_load as Record<string, unknown>).last_reload_resources = lastResources;

    // ---- 2. dashboard after a move ----
    await phase("everyone out of routing; the desk closed", async () => {
      await api(base, `/api/v1/interactions/${inHand}/done`, { token: benToken, method: "POST" });
      agentSock.ws.close();
      await desk.ctx.close();
      for (const login of ["ana", "ben", "chloe", "dev", "sam"]) await api(base, "/api/v1/me/logout", { token: await tokenOf(base, login), method: "POST" });
    });
    const samToken = await tokenOf(base, SUPERVISOR);
    const cellSel = (q: string) => `tr[data-queue="${q}"] [data-field="waiting"]`;
    const con = await phase(`${SUPERVISOR} signs in to /console/ (Dashboard); a raw supervisor socket`, async () => {
      const o = await openPage(b, `${base}/console/`);
      pages.push(o);
      await signIn(o.page, SUPERVISOR);
      await o.page.locator(cellSel("billing")).waitFor({ timeout: 30_000 });
      return o;
    });
    const stats: { at: number; billing: number; sales: number }[] = [];
    const supSock = await openRaw(`${wsBase}/api/v1/supervisor/ws?token=${encodeURIComponent(samToken)}`, (f, at) => {
      if (f.type !== "stats" && f.type !== "snapshot") return;
      const qs = (f.queues ?? []) as { queue: string; waiting: number }[];
      stats.push({ at, billing: qs.find((q) => q.queue === "billing")?.waiting ?? -1, sales: qs.find((q) => q.queue === "sales")?.waiting ?? -1 });
      if (stats.length > 20_000) stats.splice(0, 10_000);
    }, "snapshot");
    sockets.push(supSock);
    const ids = await phase(`${M} interactions ingested into sales; the dashboard shows them`, async () => {
      const ids: string[] = [];
      for (let i = 0; i < M; i++) ids.push((await ingest("sales", `s${i}`)).id);
      const shown = await until(() => (stats.at(-1)?.sales ?? -1) >= M, 10_000, 20);
      if (!shown) throw new Error(`the supervisor socket never showed ${M} waiting in sales (last: ${JSON.stringify(stats.at(-1))})`);
      const cell = await con.page.locator(cellSel("sales")).textContent();
      setup.dashboard = { sales_waiting_cell_before: cell, billing_waiting_before: stats.at(-1)?.billing };
      await quiet(con, 300);
      return ids;
    });
    clock.console = await clockCheck(con.page);
    const billing0 = stats.at(-1)?.billing ?? 0;
    await con.page.evaluate((sel) => {
      const B = (window as unknown as { __bench: Tap }).__bench;
      B.cellSel = sel;
      B.cellLast = document.querySelector(sel)?.textContent ?? null;
      B.cells = [];
      B.frames = [];
    }, cellSel("billing"));
    await phase(`moves: ${M} interactions moved sales → billing one at a time`, async () => {
      const m = meter(d.pid);
      const end = performance.now() + opts.phaseLimitMs;
      for (let i = 0; i < ids.length && performance.now() < end; i++) {
        const id = ids[i]!;
        const expected = billing0 + i + 1;
        const t0 = now();
        await api(base, `/api/v1/interactions/${id}/move`, { token: samToken, json: { queue: "billing" } });
        const post = now() - t0;
        const frameAt = () => stats.find((s) => s.at > t0 && s.billing >= expected)?.at;
        const [gotWs, dom] = await Promise.all([until(() => frameAt() !== undefined, opts.waitMs, 2), waitCell(con.page, String(expected), t0)]);
        if (!gotWs) errors.push(`move ${id}: no stats frame with billing ${expected} on the raw socket in ${opts.waitMs} ms`);
        if (dom === null) errors.push(`move ${id}: the billing cell did not show ${expected} in ${opts.waitMs} ms`);
        const pageMsg = await statsDetail(con.page, "billing", expected, t0);
        const ws = frameAt();
        moveSamples.push({ id, expected, post_ms: round(post, 2), ws_ms: ws === undefined ? null : round(ws - t0, 2), page_socket_ms: pageMsg === null ? null : round(pageMsg - t0, 2), dom_ms: dom === null ? null : round(dom - t0, 2) });
        await quiet(con);
      }
      cpu.moves = m();
    });
    setup.dashboard = { ...(setup.dashboard as object), stats_frames_on_raw_socket: stats.length, raw_socket_closed: supSock.closed, page_problems: [...con.problems] };
  } catch (err) {
    errors.unshift(`bench stopped: ${errText(err)}`);
    console.log(`\n  stopped: ${errText(err).split("\n")[0]}`);
  } finally {
    for (const s of sockets) {
      try {
        s.ws.close();
      } catch {
        // gone
      }
    }
    for (const p of pages) await p.ctx.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    if (dev) await dev.stop();
  }
  const trouble = troubleInLog(logPath);
  removeWorkdir(w);

  // ---- figures ----
  const o = {
    submit_to_socket_ms: dist(offerSamples.map((s) => s.ws_ms)),
    submit_to_toast_ms: dist(offerSamples.map((s) => s.dom_ms)),
    toast_over_socket_ms: dist(offerSamples.map((s) => (s.dom_ms !== null && s.ws_ms !== null ? s.dom_ms - s.ws_ms : null))),
  };
  const offerBreakdown = {
    submit_post_answer_ms: dist(offerSamples.map((s) => s.post_ms)),
    submit_to_page_socket_ms: dist(offerSamples.map((s) => s.page_socket_ms)),
    page_socket_over_raw_socket_ms: dist(offerSamples.map((s) => (s.page_socket_ms !== null && s.ws_ms !== null ? s.page_socket_ms - s.ws_ms : null))),
    toast_over_page_socket_ms: dist(offerSamples.map((s) => (s.dom_ms !== null && s.page_socket_ms !== null ? s.dom_ms - s.page_socket_ms : null))),
    next_frame_over_toast_ms: dist(offerSamples.map((s) => (s.frame_ms !== null && s.dom_ms !== null ? s.frame_ms - s.dom_ms : null))),
  };
  const mv = {
    move_to_socket_ms: dist(moveSamples.map((s) => s.ws_ms)),
    move_to_cell_ms: dist(moveSamples.map((s) => s.dom_ms)),
    cell_over_socket_ms: dist(moveSamples.map((s) => (s.dom_ms !== null && s.ws_ms !== null ? s.dom_ms - s.ws_ms : null))),
  };
  const moveBreakdown = {
    move_post_answer_ms: dist(moveSamples.map((s) => s.post_ms)),
    move_to_page_socket_ms: dist(moveSamples.map((s) => s.page_socket_ms)),
    page_socket_over_raw_socket_ms: dist(moveSamples.map((s) => (s.page_socket_ms !== null && s.ws_ms !== null ? s.page_socket_ms - s.ws_ms : null))),
    cell_over_page_socket_ms: dist(moveSamples.map((s) => (s.dom_ms !== null && s.page_socket_ms !== null ? s.dom_ms - s.page_socket_ms : null))),
  };
  const ld = {
    baseline_fetch_ms: dist(loadSamples.map((s) => s.baseline_ms)),
    reload_to_ready_ms: dist(loadSamples.map((s) => s.page_ms)),
  };
  const baselineMarks = {
    html_received_ms: dist(loadSamples.map((s) => s.baseline_html_ms)),
    scripts_received_ms: dist(loadSamples.map((s) => s.baseline_scripts_ms)),
    api_me_received_ms: ld.baseline_fetch_ms,
    bytes: loadSamples[0]?.baseline_bytes ?? null,
  };
  const loadMarks = {
    new_document_ms: dist(loadSamples.map((s) => s.origin_ms)),
    html_received_ms: dist(loadSamples.map((s) => s.html_ms)),
    scripts_received_ms: dist(loadSamples.map((s) => s.scripts_ms)),
    dom_content_loaded_ms: dist(loadSamples.map((s) => s.dom_content_loaded_ms)),
    desk_socket_created_ms: dist(loadSamples.map((s) => s.socket_created_ms)),
    desk_socket_open_ms: dist(loadSamples.map((s) => s.socket_open_ms)),
    desk_socket_hello_ms: dist(loadSamples.map((s) => s.hello_ms)),
    api_me_received_ms: dist(loadSamples.map((s) => s.me_ms)),
    ready_in_dom_ms: ld.reload_to_ready_ms,
    ready_seen_by_node_ms: dist(loadSamples.map((s) => s.page_seen_by_node_ms)),
  };
  const busy = Object.entries(cpu).filter(([, c]) => c.cores_other_not_browser > 0.2).map(([label, c]) => `${label} ${c.cores_other_not_browser}`);
  const totalGzip = Object.values(sizes).reduce((n, s) => n + s.gzip_bytes, 0);
  const deskGzip = Object.entries(sizes).filter(([f]) => f === "desk.js" || f.startsWith("chunk-") || f === "app.css").reduce((n, [, s]) => n + s.gzip_bytes, 0);
  const result = {
    bench: name,
    date: new Date().toISOString(),
    offer_to_screen: {
      ...o,
      ratio_p50: ratio(o.submit_to_toast_ms.p50, o.submit_to_socket_ms.p50),
      ratio_p99: ratio(o.submit_to_toast_ms.p99, o.submit_to_socket_ms.p99),
      breakdown: offerBreakdown,
      rounds: { measured: N, done: offerSamples.length, warmup: W },
      samples: offerSamples,
    },
    dashboard_after_move: {
      ...mv,
      ratio_p50: ratio(mv.move_to_cell_ms.p50, mv.move_to_socket_ms.p50),
      ratio_p99: ratio(mv.move_to_cell_ms.p99, mv.move_to_socket_ms.p99),
      breakdown: moveBreakdown,
      rounds: { measured: M, done: moveSamples.length },
      samples: moveSamples,
    },
    desk_load: {
      ...ld,
      ratio_p50: ratio(ld.reload_to_ready_ms.p50, ld.baseline_fetch_ms.p50),
      ratio_p95: ratio(ld.reload_to_ready_ms.p95, ld.baseline_fetch_ms.p95),
      marks_from_reload_start: loadMarks,
      baseline_marks: baselineMarks,
      rounds: { measured: K, done: loadSamples.length, warmup: 2 },
      samples: loadSamples,
    },
    sizes: { files: sizes, total_gzip_bytes: totalGzip, desk_gzip_bytes: deskGzip, sourcemaps_not_counted: true },
    errors: errors.slice(0, 30),
    error_count: errors.length,
    setup,
    clock,
    phases_s: phases,
    cpu,
    other_load_during: busy,
    wrangler_log: { path: "bench/results/desktop-wrangler.log", reloads: reloads(logPath), ...trouble },
    code: w.code,
    node_modules_hard_linked: isolated,
    load_average: { before: loadBefore, after: loadavg().map((x) => round(x, 2)) },
    machine: {
      node: process.version,
      wrangler: version("wrangler"),
      playwright_core: version("playwright-core"),
      chromium: setup.chromium ?? "unknown",
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model ?? "unknown",
      memory_gb: round(totalmem() / 2 ** 30, 1),
      through: "wrangler dev (local workerd), chromium headless and the bench client on the same machine",
    },
  };
  const f = (x: Dist) => `p50 ${x.p50}  p95 ${x.p95}  p99 ${x.p99} ms (n ${x.n})`;
  const summary = [
    `offer → raw socket:   ${f(o.submit_to_socket_ms)}`,
    `offer → toast in DOM: ${f(o.submit_to_toast_ms)}   ratio p50 ${result.offer_to_screen.ratio_p50}, p99 ${result.offer_to_screen.ratio_p99}`,
    `  toast over socket:  ${f(o.toast_over_socket_ms)}; of it, page socket over raw socket p50 ${offerBreakdown.page_socket_over_raw_socket_ms.p50} ms, toast over page socket p50 ${offerBreakdown.toast_over_page_socket_ms.p50} ms`,
    `move → raw socket stats: ${f(mv.move_to_socket_ms)}`,
    `move → dashboard cell:   ${f(mv.move_to_cell_ms)}   ratio p50 ${result.dashboard_after_move.ratio_p50}, p99 ${result.dashboard_after_move.ratio_p99}`,
    `desk load, Node fetch of its bytes + GET /api/v1/me: p50 ${ld.baseline_fetch_ms.p50}  p95 ${ld.baseline_fetch_ms.p95} ms; reload to ready: p50 ${ld.reload_to_ready_ms.p50}  p95 ${ld.reload_to_ready_ms.p95} ms (n ${ld.reload_to_ready_ms.n})`,
    `  within a reload (p50): new document ${loadMarks.new_document_ms.p50}, HTML ${loadMarks.html_received_ms.p50}, scripts ${loadMarks.scripts_received_ms.p50}, socket created ${loadMarks.desk_socket_created_ms.p50}, open ${loadMarks.desk_socket_open_ms.p50}, hello ${loadMarks.desk_socket_hello_ms.p50}, /api/v1/me ${loadMarks.api_me_received_ms.p50}, ready ${loadMarks.ready_in_dom_ms.p50} ms`,
    `sizes (gzip): ${Object.entries(sizes).map(([file, s]) => `${file} ${s.gzip_bytes}`).join(", ")}; desk total ${deskGzip} B`,
    ...(errors.length ? [`ERRORS (${errors.length}): ${errors.slice(0, 3).join(" | ")}`] : []),
    ...(busy.length ? [`WARNING: other processes used CPU during measured phases (cores, browser excluded: ${busy.join(", ")}): compare with care, or run again`] : []),
    ...Object.entries(cpu).map(([label, c]) => `CPU (${label}, ${c.wall_s} s): workerd ${c.workerd} s, chromium ${c.browser} s, bench ${c.bench_client} s, wrangler node ${c.wrangler_node} s, other ${c.other_not_browser} s`),
    `wrangler dev log: ${trouble.errors.lines} error line(s), ${trouble.warnings.lines} warning(s), ${reloads(logPath)} reload(s)`,
  ];
  if (errors[0]?.startsWith("bench stopped")) summary.unshift(`STOPPED: ${errors[0].slice(0, 300)}`);
  return { result, summary };
}
