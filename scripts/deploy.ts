// npm run deploy: creates what the account lacks (the D1 control database and shards, the R2
// bucket, the Queues), writes wrangler.deploy.toml with the real database ids, applies the D1
// migrations, checks the secrets, builds, deploys and waits for /api/health. Safe to run again:
// what exists is left alone. The plan comes from scripts/deploy-plan.ts (pure); this runs it.
//
//   npm run deploy                     the real thing (needs `npx wrangler login` or CLOUDFLARE_API_TOKEN)
//   npm run deploy -- --dry-run        no account, no network: the plan as if nothing existed, the
//                                      build, and the bundle's gzipped size against the budget
//   npm run deploy -- --dry-run --answers DIR   the plan from recorded answers (readAnswers in
//                                      scripts/deploy-wrangler.ts names the files); --plan-only skips the build
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import {
  bundleVerdict,
  commandLine,
  DEPLOY_CONFIG,
  DEPLOY_FLAGS,
  formatPlan,
  HEALTH_TIMEOUT_MS,
  NOTHING,
  parseDeployedUrl,
  parseUploadSize,
  parseWranglerToml,
  planDeploy,
  type Answers,
  type Plan,
  type WranglerConfig,
} from "./deploy-plan.ts";
import { askWrangler, must, readAnswers, root, run } from "./deploy-wrangler.ts";

/** A failure whose message says it all (no stack). */
export class Stop extends Error {}

/** What the real run does to the world; the tests pass their own. */
export interface DeployIO {
  ask(config: WranglerConfig): Answers;
  must(command: string[], opts?: { echo?: boolean }): string;
  write(path: string, content: string): void;
  fetch(url: string): Promise<{ status: number; text(): Promise<string> }>;
  sleep(ms: number): Promise<void>;
  log(text: string): void;
}

export const realIO: DeployIO = {
  ask: askWrangler,
  must,
  write: (path, content) => writeFileSync(`${root}${path}`, content),
  fetch: (url) => fetch(url, { signal: AbortSignal.timeout(10_000) }),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  log: (text) => console.log(text),
};

function parseArgs(argv: string[]): { dryRun: boolean; planOnly: boolean; answers?: string } {
  const out: { dryRun: boolean; planOnly: boolean; answers?: string } = { dryRun: false, planOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--dry-run") out.dryRun = true;
    else if (a === "--plan-only") out.planOnly = true;
    else if (a === "--answers") out.answers = argv[++i];
    else if (a?.startsWith("--answers=")) out.answers = a.slice("--answers=".length);
    else throw new Stop(`unknown argument ${a}; usage: npm run deploy [-- --dry-run [--answers DIR] [--plan-only]]`);
  }
  if ((out.answers || out.planOnly) && !out.dryRun) throw new Stop("--answers and --plan-only go with --dry-run");
  return out;
}

function printPlan(io: Pick<DeployIO, "log">, plan: Plan, title: string): void {
  io.log(`${title}\n${formatPlan(plan)}`);
  if (plan.errors.length) throw new Stop(`wrangler.toml or the account is inconsistent (errors above): nothing was done`);
}

/** The dry run's bundle check: builds the static apps, bundles without an account, weighs it. */
function checkBundle(): void {
  for (const c of [["npm", "run", "build:widget"], ["npm", "run", "build:web"]]) must(c, { echo: true });
  const r = run(["wrangler", "deploy", "--dry-run", "--outdir", "dist", ...DEPLOY_FLAGS]);
  const output = `${r.stdout}\n${r.stderr}`;
  if (!r.ok) throw new Stop(`npx wrangler deploy --dry-run --outdir dist ${DEPLOY_FLAGS.join(" ")} failed (exit ${r.status}):\n${output.trim()}`);
  const size = parseUploadSize(output);
  if (!size) throw new Stop(`no "Total Upload: … KiB / gzip: … KiB" line in wrangler's output:\n${output.trim()}`);
  const verdict = bundleVerdict(size);
  console.log(verdict.line);
  if (!verdict.ok) throw new Stop(verdict.message);
  console.log(verdict.message);
}

async function waitForHealth(url: string, io: DeployIO): Promise<void> {
  const until = Date.now() + HEALTH_TIMEOUT_MS;
  let last = "no answer";
  for (;;) {
    try {
      const res = await io.fetch(`${url}/api/health`);
      last = `${res.status} ${(await res.text()).slice(0, 300)}`;
      if (res.status === 200) {
        io.log(`${url}/api/health: ${last}`);
        return;
      }
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() >= until) throw new Stop(`${url}/api/health did not answer 200 within ${HEALTH_TIMEOUT_MS / 1000} s; last: ${last}`);
    await io.sleep(2_000);
  }
}

/** The real run: ask, create what is missing, ask again, then configure, migrate, check, build, deploy, wait. */
export async function deploy(tomlText: string, io: DeployIO = realIO): Promise<void> {
  const config = parseWranglerToml(tomlText);
  let answers = io.ask(config);
  let plan = planDeploy(tomlText, answers);
  printPlan(io, plan, "The deploy plan:");

  const creates = plan.steps.filter((s) => s.kind.startsWith("create-"));
  const d1Created: Record<string, string> = {};
  for (const s of creates) {
    io.log(`\n${s.kind}: ${commandLine(s)}`);
    const out = io.must(s.command, { echo: true });
    if (s.kind === "create-d1") d1Created[s.target!] = out;
  }
  if (creates.length) {
    answers = { ...io.ask(config), d1Created };
    plan = planDeploy(tomlText, answers);
    const left = plan.steps.filter((s) => s.kind.startsWith("create-"));
    if (plan.errors.length || left.length || plan.pendingDatabases.length) {
      printPlan(io, plan, "After creating, the plan is still:");
      throw new Stop(`created, but wrangler does not list: ${left.map((s) => s.target).join(", ")}`);
    }
  }

  let deployedUrl: string | undefined;
  for (const s of plan.steps.filter((x) => !x.kind.startsWith("create-"))) {
    io.log(`\n${s.kind}${commandLine(s) ? `: ${commandLine(s)}` : ""}`);
    switch (s.kind) {
      case "write-config":
        io.write(DEPLOY_CONFIG, plan.deployConfig);
        io.log(`wrote ${DEPLOY_CONFIG} (${Object.entries(plan.databaseIds).map(([b, id]) => `${b} = ${id}`).join(", ")})`);
        break;
      case "check-secrets":
        for (const w of plan.warnings) io.log(`warning: ${w}`);
        if (plan.missingSecrets.length) {
          throw new Stop(`missing secrets, so the Worker was not deployed: ${plan.missingSecrets.join(", ")}. Set each, then run npm run deploy again:\n${plan.missingSecrets.map((n) => `  npx wrangler secret put ${n}`).join("\n")}\n(AUTH_SECRET, SECRETS_KEY, PLATFORM_SECRET: e.g. openssl rand -hex 32; on a Worker not deployed yet, wrangler creates it for the secret)`);
        }
        io.log(s.why);
        break;
      case "deploy": {
        const out = io.must(s.command, { echo: true });
        const size = parseUploadSize(out);
        if (size) io.log(bundleVerdict(size).line);
        const url = parseDeployedUrl(out);
        if (!url) throw new Stop("deployed, but wrangler printed no workers.dev URL (routes only?): check /api/health yourself");
        deployedUrl = url;
        break;
      }
      case "health":
        await waitForHealth(deployedUrl!, io);
        break;
      case "email-routing":
        io.log(s.why);
        break;
      default:
        io.must(s.command, { echo: true });
    }
  }
  io.log("\nDeployed.");
}

export async function main(argv: string[]): Promise<number> {
  try {
    const args = parseArgs(argv);
    const tomlText = readFileSync(`${root}wrangler.toml`, "utf8");
    if (!args.dryRun) {
      await deploy(tomlText);
      return 0;
    }
    const answers = args.answers ? readAnswers(args.answers) : NOTHING;
    const plan = planDeploy(tomlText, answers);
    printPlan(realIO, plan, args.answers ? `Dry run: the deploy plan for the account recorded in ${args.answers} (nothing is run):` : "Dry run: the deploy plan for an account where nothing exists yet (nothing is run):");
    const ids = (parseWranglerToml(plan.deployConfig).d1_databases ?? []).map((d) => `  ${d.binding} (${d.database_name}): database_id = ${d.database_id}`);
    console.log(`\n${DEPLOY_CONFIG} would have:\n${ids.join("\n")}`);
    if (plan.missingSecrets.length) console.log(`\nmissing secrets (the real run stops before deploying): ${plan.missingSecrets.map((n) => `npx wrangler secret put ${n}`).join("; ")}`);
    if (!args.planOnly) {
      console.log("");
      checkBundle();
    }
    return 0;
  } catch (e) {
    console.error(`\nnpm run deploy: ${(e as Error).message}`);
    if (!(e instanceof Stop) && process.env["DEBUG"]) console.error((e as Error).stack);
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) process.exitCode = await main(process.argv.slice(2));
