// A wrangler dev for one bench: a frozen copy of the code, fresh state, the BENCH var on, its output
// in a log file, and always stopped (its whole process group) when the bench ends, fails or is interrupted.
//
// Why a copy: wrangler dev watches its sources and reloads on every save, which drops every object
// and WebSocket mid-run (and may load half-edited code). The bench runs on a snapshot of the working
// tree taken at its start (or of a git ref, BENCH_REF), in a temp dir with node_modules linked.
import { spawn, spawnSync } from "node:child_process";
import { closeSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { d1Bindings, ensureDevVars, root } from "../../scripts/local.ts";
import { sleep } from "./pool.ts";

/** What wrangler needs to build and serve the Worker. */
const SOURCES = ["wrangler.toml", "package.json", "tsconfig.json", "worker-configuration.d.ts", "workers", "durable-objects", "migrations", "public"];

export interface Workdir {
  /** Root of the temp dir: removed at the end. */
  dir: string;
  /** The code snapshot wrangler runs from. */
  src: string;
  /** --persist-to: D1 and Durable Object state, empty at start. */
  state: string;
  code: { ref: string; commit: string; dirty: string[] };
}

function git(args: string[]): string {
  const r = spawnSync("git", args, { cwd: root, encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : "";
}

/** A temp dir with a snapshot of the code (working tree, or `ref` from git) and an empty state dir. */
export function workdir(ref = process.env.BENCH_REF): Workdir {
  hookExit();
  ensureDevVars();
  const dir = mkdtempSync(join(tmpdir(), "parley-bench-"));
  const src = join(dir, "src");
  const state = join(dir, "state");
  mkdirSync(src);
  mkdirSync(state);
  if (ref) {
    const tar = spawnSync("git", ["archive", "--format=tar", ref, "--", ...SOURCES.filter((p) => git(["ls-tree", "--name-only", ref, p]))], { cwd: root, maxBuffer: 1 << 28 });
    if (tar.status !== 0) throw new Error(`git archive ${ref} failed: ${tar.stderr}`);
    const x = spawnSync("tar", ["-x", "-C", src], { input: tar.stdout });
    if (x.status !== 0) throw new Error(`tar failed: ${x.stderr}`);
  } else {
    for (const p of SOURCES) if (existsSync(join(root, p))) cpSync(join(root, p), join(src, p), { recursive: true });
  }
  symlinkSync(join(root, "node_modules"), join(src, "node_modules"));
  copyFileSync(join(root, ".dev.vars"), join(src, ".dev.vars"));
  const dirty = ref ? [] : git(["status", "--porcelain", "--", ...SOURCES]).split("\n").filter(Boolean);
  const w: Workdir = { dir, src, state, code: { ref: ref ?? "working tree", commit: git(["rev-parse", ref ?? "HEAD"]), dirty } };
  dirs.add(w);
  return w;
}

/** A baseline Worker's own workdir inside `w`: bench/<folder>'s worker.ts and wrangler.toml, node_modules linked, empty state. */
export function baselineWorkdir(w: Workdir, folder: string): Workdir {
  const bw: Workdir = { dir: join(w.dir, folder), src: join(w.dir, folder, "src"), state: join(w.dir, folder, "state"), code: w.code };
  mkdirSync(bw.src, { recursive: true });
  mkdirSync(bw.state, { recursive: true });
  for (const f of ["worker.ts", "wrangler.toml"]) cpSync(join(root, "bench", folder, f), join(bw.src, f));
  symlinkSync(join(root, "node_modules"), join(bw.src, "node_modules"));
  return bw;
}

/** npx wrangler in the snapshot; its stdout. */
export function wranglerIn(cwd: string, args: string[]): string {
  const r = spawnSync("npx", ["wrangler", ...args], { cwd, encoding: "utf8", env: { ...process.env, CI: "1", WRANGLER_SEND_METRICS: "false" }, maxBuffer: 1 << 26, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`wrangler ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Rows of a read-only query on the local D1 (only once wrangler dev has stopped: one writer at a time). */
export function queryD1<T>(w: Workdir, sql: string): T[] {
  const out = wranglerIn(w.src, ["d1", "execute", BENCH_SHARD, "--local", "--persist-to", w.state, "--json", "--command", sql]);
  const parsed = JSON.parse(out.slice(out.indexOf("["))) as { results: T[] }[];
  return parsed.flatMap((r) => r.results);
}

/** The shard the benches' tenants live on (queryD1 reads it). */
export const BENCH_SHARD = "SHARD_0";

/** Migrations on the control database and every shard. */
export function applyMigrationsIn(w: Workdir): void {
  const { control, shards } = d1Bindings(readFileSync(join(w.src, "wrangler.toml"), "utf8"));
  for (const b of [control, ...shards]) wranglerIn(w.src, ["d1", "migrations", "apply", b, "--local", "--persist-to", w.state]);
}

export interface Dev {
  base: string;
  /** Process group of npx, wrangler and workerd. */
  pid: number | undefined;
  port: number;
  inspectorPort: number;
  logPath: string;
  /** Set once wrangler dev's process has exited (by itself or stopped). */
  exitCode(): number | null | undefined;
  stop(): Promise<void>;
}

const live = new Set<Dev>();
const dirs = new Set<Workdir>();
let hooked = false;

/** On Ctrl-C and the like, stops every wrangler dev still running before leaving. */
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
    process.on(sig, () => {
      console.error(`\n${sig}: stopping wrangler dev`);
      void Promise.all([...live].map((d) => d.stop())).finally(() => {
        for (const w of dirs) removeWorkdir(w);
        process.exit(130);
      });
    });
}

/** AUTH_SECRET as wrangler dev reads it from the snapshot's .dev.vars. */
export function authSecret(w: Workdir): string {
  const m = /^AUTH_SECRET\s*=\s*"?([^"\n]+)"?\s*$/m.exec(readFileSync(join(w.src, ".dev.vars"), "utf8"));
  if (!m) throw new Error(`.dev.vars has no AUTH_SECRET`);
  return m[1]!.trim();
}

/** Same flags as scripts/local.ts startDev, plus `--var` for each bench var (startDev takes no extra args), run in the snapshot. */
export function startDev(port: number, w: Workdir, opts: { logPath: string; inspectorPort: number; vars?: Record<string, string> }): Dev {
  hookExit();
  mkdirSync(dirname(opts.logPath), { recursive: true });
  const log = openSync(opts.logPath, "w");
  const vars = Object.entries(opts.vars ?? {}).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const child = spawn("npx", ["wrangler", "dev", "--port", String(port), "--ip", "127.0.0.1", "--test-scheduled", "--persist-to", w.state, "--inspector-port", String(opts.inspectorPort), ...vars], {
    cwd: w.src,
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
    pid,
    port,
    inspectorPort: opts.inspectorPort,
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

/** Throws if something already listens on one of these ports: another bench or `npm start` would
 *  answer our requests while our wrangler dev fails to bind ("Address already in use"). */
export async function ensurePortsFree(...ports: number[]): Promise<void> {
  for (const port of ports) {
    const err = await new Promise<Error | null>((resolve) => {
      const srv = createServer();
      srv.once("error", (e) => resolve(e));
      srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(null)));
    });
    if (err) throw new Error(`port ${port} is taken (${(err as NodeJS.ErrnoException).code ?? err.message}): another bench or wrangler dev running? Set BENCH_PORT to use another port.`);
  }
}

/** Waits for /api/health, giving up early if wrangler dev exits. */
export async function waitUp(dev: Dev, timeLimitMs = 120_000): Promise<void> {
  const end = Date.now() + timeLimitMs;
  while (Date.now() < end) {
    if (dev.exitCode() !== undefined) throw new Error(`wrangler dev exited (${dev.exitCode()}) before answering; see ${dev.logPath}`);
    const up = await fetch(`${dev.base}/api/health`, { signal: AbortSignal.timeout(5_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (up) {
      // Make sure the server answering is ours and stays up.
      await sleep(1_000);
      if (dev.exitCode() !== undefined) throw new Error(`wrangler dev exited (${dev.exitCode()}) yet ${dev.base} answers: another server on that port? See ${dev.logPath}`);
      return;
    }
    await sleep(300);
  }
  throw new Error(`${dev.base} did not answer /api/health in ${timeLimitMs / 1000} s; see ${dev.logPath}`);
}

export function removeWorkdir(w: Workdir): void {
  dirs.delete(w);
  if (process.env.BENCH_KEEP_STATE === "1") return console.log(`  code snapshot and state kept in ${w.dir}`);
  rmSync(w.dir, { recursive: true, force: true });
}

export interface LogFindings {
  lines: number;
  distinct: number;
  /** One line per kind (ids, numbers and times ignored), at most 15. */
  samples: string[];
}

/** Errors and warnings in wrangler dev's log, minus the known harmless ones (no network here: no request.cf). */
export function troubleInLog(path: string): { errors: LogFindings; warnings: LogFindings } {
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {
    // no log
  }
  const harmless = [/ENOTFOUND workers\.cloudflare\.com/i, /request\.cf/i, /^npm warn/i, /types might be out of date/i];
  // eslint-disable-next-line no-control-regex
  const lines = text.split("\n").map((l) => l.replace(/\x1b\[[0-9;]*m/g, "").trim()).filter((l) => l && !harmless.some((h) => h.test(l)));
  const find = (re: RegExp): LogFindings => {
    const hits = lines.filter((l) => re.test(l));
    const key = (l: string) => l.replace(/\b[a-z]_[0-9a-z]{21}\b/g, "<id>").replace(/\b[0-9a-f]{16,}\b/g, "<hex>").replace(/\d+(\.\d+)?/g, "N");
    const seen = new Map<string, string>();
    for (const l of hits) if (!seen.has(key(l))) seen.set(key(l), l);
    return { lines: hits.length, distinct: seen.size, samples: [...seen.values()].slice(0, 15).map((l) => l.slice(0, 400)) };
  };
  return {
    errors: find(/error|exception|uncaught|unhandled|✘|(GET|POST|PUT|DELETE) \S+ 5\d\d\b/i),
    warnings: find(/warn|▲/i),
  };
}

/** waitUp, except that a build error stops wrangler dev at once: it would otherwise sit waiting for a
 *  fixed file until waitUp's two minutes are over. */
export async function waitUpOrBuildError(dev: Dev): Promise<void> {
  let buildError: string | undefined;
  let done = false;
  const watch = (async () => {
    while (!done && !buildError) {
      await sleep(500);
      let log = "";
      try {
        log = readFileSync(dev.logPath, "utf8");
      } catch {
        continue;
      }
      // eslint-disable-next-line no-control-regex
      const lines = log.replace(/\x1b\[[0-9;]*m/g, "").split("\n");
      if (!lines.some((l) => /Build failed/.test(l))) continue;
      buildError = lines.filter((l) => /✘ \[ERROR\]|^\s+\S+\.ts:\d+:\d+:/.test(l)).map((l) => l.trim()).join(" / ").slice(0, 800);
      await dev.stop();
    }
  })();
  try {
    await waitUp(dev);
  } catch (err) {
    if (buildError) throw new Error(`wrangler dev could not build the Worker: ${buildError}`);
    throw err;
  } finally {
    done = true;
    await watch;
  }
}
