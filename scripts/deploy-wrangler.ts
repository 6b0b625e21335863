// The thin layer under `npm run deploy` and `npm run migrate` that runs wrangler (npx wrangler, in
// the repository's root, non-interactive: CI=1, no metrics) and hands back what it printed. The
// planner (scripts/deploy-plan.ts) only reads these answers; it never runs anything.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { parseQueuesList, type Answers, type WranglerConfig } from "./deploy-plan.ts";

export const root = new URL("..", import.meta.url).pathname;

export interface Run {
  ok: boolean;
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `npx <program> args…` (program: "wrangler" or "npm") and captures its output; `echo` also shows it as it comes. */
export function run(command: string[], opts: { echo?: boolean } = {}): Run {
  const [program, ...args] = command;
  const argv = program === "wrangler" ? ["npx", "wrangler", ...args] : [program!, ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), {
    cwd: root,
    encoding: "utf8",
    stdio: opts.echo ? ["inherit", "pipe", "inherit"] : "pipe",
    env: { ...process.env, CI: "1", WRANGLER_SEND_METRICS: "false", FORCE_COLOR: "0" },
    maxBuffer: 64 * 1024 * 1024,
  });
  const out = { ok: r.status === 0, status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  if (opts.echo && out.stdout) process.stdout.write(out.stdout);
  return out;
}

/** Runs it and fails with what it printed when it fails. */
export function must(command: string[], opts: { echo?: boolean } = {}): string {
  const r = run(command, opts);
  if (!r.ok) throw new Error(`${command[0] === "wrangler" ? "npx " : ""}${command.join(" ")} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`.trimEnd());
  return r.stdout;
}

/** The answers the plan needs, from the account. `wrangler secret list` failing means no Worker yet. */
export function askWrangler(config: WranglerConfig): Answers {
  const d1List = must(["wrangler", "d1", "list", "--json"]);
  const r2List: Record<string, string> = {};
  for (const j of new Set((config.r2_buckets ?? []).map((b) => b.jurisdiction ?? ""))) r2List[j] = must(["wrangler", "r2", "bucket", "list", ...(j ? ["--jurisdiction", j] : [])]);
  // `queues list` shows one page: read pages until one adds nothing.
  let queuesList = "";
  for (let page = 1, seen = new Set<string>(); page <= 50; page++) {
    const text = must(["wrangler", "queues", "list", "--page", String(page)]);
    const names = parseQueuesList(text).filter((n) => !seen.has(n));
    if (names.length === 0) break;
    names.forEach((n) => seen.add(n));
    queuesList += `${text}\n`;
  }
  const secrets = run(["wrangler", "secret", "list", "--format", "json"]);
  return { d1List, r2List, queuesList, secretList: secrets.ok ? secrets.stdout : null };
}

/** Recorded answers, for a dry run and the tests: files in `dir`, each optional (a missing one is "none").
 *  d1-list.json, r2-list.txt, r2-list-<jurisdiction>.txt, queues-list.txt, secret-list.json (absent:
 *  the command failed), d1-create-<database name>.txt. */
export function readAnswers(dir: string): Answers {
  const read = (f: string) => (existsSync(`${dir}/${f}`) ? readFileSync(`${dir}/${f}`, "utf8") : null);
  const r2List: Record<string, string | null> = { "": read("r2-list.txt") };
  for (const j of ["eu", "fedramp"]) r2List[j] = read(`r2-list-${j}.txt`);
  const d1Created: Record<string, string> = {};
  for (const f of readdirSync(dir)) {
    const m = /^d1-create-(.+)\.txt$/.exec(f);
    if (m) d1Created[m[1]!] = read(f)!;
  }
  return { d1List: read("d1-list.json"), d1Created, r2List, queuesList: read("queues-list.txt"), secretList: read("secret-list.json") };
}
