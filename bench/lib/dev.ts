// A wrangler dev for one bench: fresh state, the BENCH var on, its output in a log file, and
// always stopped (its whole process group) when the bench ends, fails or is interrupted.
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ensureDevVars, root } from "../../scripts/local.ts";
import { sleep } from "./pool.ts";

export interface Dev {
  base: string;
  port: number;
  persistTo: string;
  logPath: string;
  /** Set once wrangler dev's process has exited (by itself or stopped). */
  exitCode(): number | null | undefined;
  stop(): Promise<void>;
}

const live = new Set<Dev>();
let hooked = false;

/** Kills every wrangler dev still running when this process goes away. */
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", () => {
    for (const d of live) d.stop().catch(() => {});
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
    process.on(sig, () => {
      console.error(`\n${sig}: stopping wrangler dev`);
      void Promise.all([...live].map((d) => d.stop())).finally(() => process.exit(130));
    });
}

/** A fresh directory for D1 and Durable Object state, so the bench starts from empty. */
export function freshState(): string {
  return mkdtempSync(join(tmpdir(), "parley-bench-"));
}

/** AUTH_SECRET as wrangler dev reads it from .dev.vars (made if missing). */
export function authSecret(): string {
  ensureDevVars();
  const m = /^AUTH_SECRET\s*=\s*"?([^"\n]+)"?\s*$/m.exec(readFileSync(`${root}.dev.vars`, "utf8"));
  if (!m) throw new Error(`${root}.dev.vars has no AUTH_SECRET`);
  return m[1]!.trim();
}

/** Same flags as scripts/local.ts startDev, plus `--var` for each bench var (startDev takes no extra args). */
export function startDev(port: number, opts: { persistTo: string; logPath: string; vars?: Record<string, string> }): Dev {
  hookExit();
  mkdirSync(dirname(opts.logPath), { recursive: true });
  const log = openSync(opts.logPath, "w");
  const vars = Object.entries(opts.vars ?? {}).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const child = spawn("npx", ["wrangler", "dev", "--port", String(port), "--ip", "127.0.0.1", "--test-scheduled", "--persist-to", opts.persistTo, ...vars], {
    cwd: root,
    stdio: ["ignore", log, log],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    detached: true,
  });
  closeSync(log);
  let code: number | null | undefined;
  const exited = new Promise<void>((resolve) => {
    child.on("exit", (c, sig) => {
      code = c ?? (sig ? -1 : null);
      resolve();
    });
    child.on("error", () => {
      code = -1;
      resolve();
    });
  });
  const pid = child.pid;
  const groupAlive = () => {
    if (!pid) return false;
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (pid) process.kill(-pid, sig);
    } catch {
      // already gone
    }
  };
  let stopping: Promise<void> | null = null;
  const dev: Dev = {
    base: `http://127.0.0.1:${port}`,
    port,
    persistTo: opts.persistTo,
    logPath: opts.logPath,
    exitCode: () => code,
    stop: () =>
      (stopping ??= (async () => {
        signal("SIGTERM");
        // Wait (bounded, 10 s) for npx, wrangler and workerd to go; then force them.
        for (let i = 0; i < 100 && groupAlive(); i++) await sleep(100);
        if (groupAlive()) signal("SIGKILL");
        await Promise.race([exited, sleep(2_000)]);
        live.delete(dev);
      })()),
  };
  // On 'exit' only synchronous work runs: make sure the group dies even then.
  process.on("exit", () => {
    if (live.has(dev)) signal("SIGKILL");
  });
  live.add(dev);
  return dev;
}

/** Waits for /api/health, giving up early if wrangler dev exits. */
export async function waitUp(dev: Dev, timeLimitMs = 120_000): Promise<void> {
  const end = Date.now() + timeLimitMs;
  while (Date.now() < end) {
    if (dev.exitCode() !== undefined) throw new Error(`wrangler dev exited (${dev.exitCode()}) before answering; see ${dev.logPath}`);
    try {
      const r = await fetch(`${dev.base}/api/health`, { signal: AbortSignal.timeout(5_000) });
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await sleep(300);
  }
  throw new Error(`${dev.base} did not answer /api/health in ${timeLimitMs / 1000} s; see ${dev.logPath}`);
}

export function removeState(dir: string): void {
  if (process.env.BENCH_KEEP_STATE === "1") return console.log(`  state kept in ${dir}`);
  rmSync(dir, { recursive: true, force: true });
}

/** Lines of wrangler dev's log that look like trouble, minus the known harmless ones. */
export function troubleInLog(path: string): { lines: number; distinct: number; samples: string[] } {
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return { lines: 0, distinct: 0, samples: [] };
  }
  const harmless = [/ENOTFOUND workers\.cloudflare\.com/i, /request\.cf/i];
  const bad = text
    .split("\n")
    // eslint-disable-next-line no-control-regex
    .map((l) => l.replace(/\x1b\[[0-9;]*m/g, "").trim())
    .filter((l) => /error|exception|uncaught|unhandled|✘|\b5\d\d\b.*(GET|POST)|(GET|POST).*\b5\d\d\b/i.test(l) && !harmless.some((h) => h.test(l)));
  // Group lines that differ only in ids, numbers and times.
  const key = (l: string) => l.replace(/\b[a-z]_[0-9a-z]{21}\b/g, "<id>").replace(/\d+/g, "N");
  const seen = new Map<string, string>();
  for (const l of bad) if (!seen.has(key(l))) seen.set(key(l), l);
  return { lines: bad.length, distinct: seen.size, samples: [...seen.values()].slice(0, 15).map((l) => l.slice(0, 400)) };
}
