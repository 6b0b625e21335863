// npm run deploy's plan (scripts/deploy-plan.ts), from recorded wrangler answers in
// test/fixtures/deploy/: an empty account, one with everything, one with part; the parsers of
// wrangler's outputs; the deploy config; the bundle budget; the CLI's dry run from recorded answers.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  bundleVerdict,
  DEPLOY_CONFIG,
  MAX_GZIP_BYTES,
  migrationTargets,
  NOTHING,
  parseD1Create,
  parseD1List,
  parseDeployedUrl,
  parseQueuesList,
  parseR2List,
  parseSecretList,
  parseUploadSize,
  parseWranglerToml,
  planDeploy,
  renderDeployConfig,
  type Answers,
  type Plan,
} from "../../scripts/deploy-plan.ts";
import { deploy, Stop, type DeployIO } from "../../scripts/deploy.ts";
import { readAnswers } from "../../scripts/deploy-wrangler.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const FIX = join(ROOT, "test/fixtures/deploy");
const fixture = (f: string) => readFileSync(join(FIX, f), "utf8");
const TOML = fixture("wrangler.toml");
const answers = (dir: string): Answers => readAnswers(join(FIX, dir));
const kinds = (p: Plan) => p.steps.map((s) => s.kind);
const commands = (p: Plan, kind: string) => p.steps.filter((s) => s.kind === kind).map((s) => s.command.join(" "));
const idsIn = (config: string) => Object.fromEntries((parseWranglerToml(config).d1_databases ?? []).map((d) => [d.binding, d.database_id]));

describe("the deploy plan", () => {
  it("on an empty account creates everything, in order, then configures, migrates, checks, builds, deploys and checks health", () => {
    const plan = planDeploy(TOML, answers("empty"));
    expect(plan.errors).toEqual([]);
    expect(kinds(plan)).toEqual([
      "create-d1", "create-d1", "create-d1",
      "create-r2",
      "create-queue", "create-queue", "create-queue",
      "write-config",
      "migrate", "migrate", "migrate",
      "check-secrets",
      "build", "build",
      "deploy",
      "health",
      "email-routing",
    ]);
    expect(commands(plan, "create-d1")).toEqual([
      "wrangler d1 create parley-control",
      "wrangler d1 create parley-shard-0 --jurisdiction eu",
      "wrangler d1 create parley-shard-1 --jurisdiction eu",
    ]);
    expect(commands(plan, "create-r2")).toEqual(["wrangler r2 bucket create parley-blobs-eu --jurisdiction eu"]);
    expect(commands(plan, "create-queue")).toEqual(["wrangler queues create parley-sends", "wrangler queues create parley-sends-dlq", "wrangler queues create parley-webhooks"]);
    expect(commands(plan, "migrate")).toEqual([
      `wrangler d1 migrations apply CONTROL --remote --config ${DEPLOY_CONFIG}`,
      `wrangler d1 migrations apply SHARD_0 --remote --config ${DEPLOY_CONFIG}`,
      `wrangler d1 migrations apply SHARD_1 --remote --config ${DEPLOY_CONFIG}`,
    ]);
    expect(commands(plan, "build")).toEqual(["npm run build:widget", "npm run build:web"]);
    expect(commands(plan, "deploy")).toEqual([`wrangler deploy --config ${DEPLOY_CONFIG} --minify`]);
    expect(plan.pendingDatabases).toEqual(["parley-control", "parley-shard-0", "parley-shard-1"]);
    // `wrangler secret list` failed (no Worker yet): no secrets.
    expect(plan.missingSecrets).toEqual(["AUTH_SECRET", "SECRETS_KEY", "PLATFORM_SECRET"]);
    for (const s of plan.steps) expect(s.why, s.kind).not.toBe("");
  });

  it("plans the same from no answers at all (the dry run's empty account)", () => {
    expect(planDeploy(TOML, NOTHING).steps).toEqual(planDeploy(TOML, answers("empty")).steps);
  });

  it("on an account with everything creates nothing and takes the ids from d1 list", () => {
    const plan = planDeploy(TOML, answers("present"));
    expect(plan.errors).toEqual([]);
    expect(kinds(plan).filter((k) => k.startsWith("create-"))).toEqual([]);
    expect(kinds(plan)[0]).toBe("write-config");
    expect(plan.databaseIds).toEqual({
      CONTROL: "5b0c5a8e-2f3d-4a51-9c6e-0d7f1e2a3b4c",
      SHARD_0: "a1e2d3c4-b5a6-4798-8a9b-0c1d2e3f4a5b",
      SHARD_1: "f0e1d2c3-b4a5-4697-8899-aabbccddeeff",
    });
    expect(idsIn(plan.deployConfig)).toEqual(plan.databaseIds);
    expect(plan.pendingDatabases).toEqual([]);
    expect(plan.missingSecrets).toEqual([]);
    expect(plan.warnings).toEqual([]);
  });

  it("on a partial account creates only what is missing: a non-EU bucket of the name doesn't count", () => {
    const plan = planDeploy(TOML, answers("partial"));
    expect(plan.errors).toEqual([]);
    expect(plan.steps.filter((s) => s.kind.startsWith("create-")).map((s) => s.command.join(" "))).toEqual([
      "wrangler d1 create parley-shard-1 --jurisdiction eu",
      "wrangler r2 bucket create parley-blobs-eu --jurisdiction eu",
      "wrangler queues create parley-sends-dlq",
      "wrangler queues create parley-webhooks",
    ]);
    expect(plan.databaseIds).toEqual({ CONTROL: "5b0c5a8e-2f3d-4a51-9c6e-0d7f1e2a3b4c", SHARD_0: "a1e2d3c4-b5a6-4798-8a9b-0c1d2e3f4a5b" });
    expect(plan.pendingDatabases).toEqual(["parley-shard-1"]);
  });

  it("takes a database created in this run from d1 create's output (the second pass of a real run)", () => {
    const a = answers("partial");
    const plan = planDeploy(TOML, { ...a, d1Created: { "parley-shard-1": fixture("d1-create-shard-1.txt") } });
    expect(commands(plan, "create-d1")).toEqual([]);
    expect(plan.pendingDatabases).toEqual([]);
    expect(idsIn(plan.deployConfig)).toEqual({
      CONTROL: "5b0c5a8e-2f3d-4a51-9c6e-0d7f1e2a3b4c",
      SHARD_0: "a1e2d3c4-b5a6-4798-8a9b-0c1d2e3f4a5b",
      SHARD_1: "c0ffee00-1234-4abc-9def-0123456789ab",
    });
  });

  it("names the missing secrets with the command that sets each, and only warns for TURNSTILE_SECRET", () => {
    const plan = planDeploy(TOML, answers("partial"));
    expect(plan.missingSecrets).toEqual(["SECRETS_KEY", "PLATFORM_SECRET"]);
    const check = plan.steps.find((s) => s.kind === "check-secrets")!;
    expect(check.why).toContain("npx wrangler secret put SECRETS_KEY");
    expect(check.why).toContain("npx wrangler secret put PLATFORM_SECRET");
    expect(check.why).not.toContain("AUTH_SECRET");
    expect(plan.warnings.join("\n")).toContain("TURNSTILE_SECRET");
    expect(kinds(plan).indexOf("check-secrets")).toBeLessThan(kinds(plan).indexOf("deploy"));
  });

  it("puts the EU flags where the data is EU's: shards and their bucket, not the control database", () => {
    const plan = planDeploy(TOML, NOTHING);
    const flagged = plan.steps.filter((s) => s.command.includes("--jurisdiction")).map((s) => s.target);
    expect(flagged).toEqual(["parley-shard-0", "parley-shard-1", "parley-blobs-eu"]);
    for (const s of plan.steps.filter((x) => x.command.includes("--jurisdiction"))) expect(s.command.slice(-2)).toEqual(["--jurisdiction", "eu"]);
  });

  it("creates a global shard and its bucket without a jurisdiction, and refuses one without BLOBS_GLOBAL", () => {
    const global = TOML.replace(/SHARDS = \{[^}]*\}/, `SHARDS = { SHARD_0 = "eu", SHARD_1 = "global" }`);
    expect(planDeploy(global, NOTHING).errors.join("\n")).toMatch(/SHARD_1 is a "global" shard: .*BLOBS_GLOBAL/);
    const withBucket = `${global}\n[[r2_buckets]]\nbinding = "BLOBS_GLOBAL"\nbucket_name = "parley-blobs"\n`;
    const plan = planDeploy(withBucket, NOTHING);
    expect(plan.errors).toEqual([]);
    expect(commands(plan, "create-d1")).toContain("wrangler d1 create parley-shard-1");
    expect(commands(plan, "create-r2")).toEqual(["wrangler r2 bucket create parley-blobs-eu --jurisdiction eu", "wrangler r2 bucket create parley-blobs"]);
  });

  it("refuses a config that contradicts itself or the account", () => {
    expect(planDeploy(TOML.replace(/SHARDS = \{[^}]*\}/, `SHARDS = { SHARD_0 = "eu" }`), NOTHING).errors).toEqual(["SHARD_1 is not in SHARDS (in [vars]): give it a jurisdiction"]);
    expect(planDeploy(TOML.replace(/SHARDS = \{[^}]*\}/, `SHARDS = { SHARD_0 = "eu", SHARD_1 = "mars" }`), NOTHING).errors.join()).toContain(`jurisdiction "mars"`);
    const a = answers("present");
    const moved = { ...a, d1List: a.d1List!.replace(`"jurisdiction": "eu"`, `"jurisdiction": "fedramp"`) };
    expect(planDeploy(TOML, moved).errors.join()).toContain(`parley-shard-0 exists in the jurisdiction "fedramp"`);
  });

  it("plans the real wrangler.toml without errors, migrating every D1 binding it has", () => {
    const real = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
    const plan = planDeploy(real, NOTHING);
    expect(plan.errors).toEqual([]);
    expect(plan.steps.filter((s) => s.kind === "migrate").map((s) => s.target)).toEqual(migrationTargets(parseWranglerToml(real)).map((t) => t.binding));
    expect(plan.steps.filter((s) => s.kind === "migrate").map((s) => s.target)).toContain("CONTROL");
  });
});

describe("migrationTargets", () => {
  it("lists every D1 binding with its migrations directory, CONTROL's own", () => {
    expect(migrationTargets(parseWranglerToml(TOML))).toEqual([
      { binding: "CONTROL", migrationsDir: "migrations/control" },
      { binding: "SHARD_0", migrationsDir: "migrations" },
      { binding: "SHARD_1", migrationsDir: "migrations" },
    ]);
    expect(migrationTargets({ d1_databases: [{ binding: "DB", database_name: "x" }] })).toEqual([{ binding: "DB", migrationsDir: "migrations" }]);
  });
});

describe("the deploy config", () => {
  it("is wrangler.toml with the real ids, comments and all", () => {
    const ids = { CONTROL: "11111111-1111-4111-8111-111111111111", SHARD_0: "22222222-2222-4222-8222-222222222222", SHARD_1: "33333333-3333-4333-8333-333333333333" };
    const out = renderDeployConfig(TOML, ids);
    expect(idsIn(out)).toEqual(ids);
    const { d1_databases: a, ...restOut } = parseWranglerToml(out);
    const { d1_databases: b, ...restIn } = parseWranglerToml(TOML);
    expect(restOut).toEqual(restIn);
    expect(a!.map((d) => ({ ...d, database_id: "" }))).toEqual(b!.map((d) => ({ ...d, database_id: "" })));
    for (const comment of TOML.split("\n").filter((l) => l.startsWith("#"))) expect(out).toContain(comment);
    expect(out.split("\n")[0]).toMatch(/^# GENERATED by `npm run deploy`/);
  });

  it("adds a database_id where a block has none", () => {
    const out = renderDeployConfig(`[[d1_databases]]\nbinding = "CONTROL"\ndatabase_name = "c"\n\n[vars]\nX = "1"\n`, { CONTROL: "44444444-4444-4444-8444-444444444444" });
    expect(idsIn(out)).toEqual({ CONTROL: "44444444-4444-4444-8444-444444444444" });
  });
});

describe("wrangler's answers", () => {
  it("d1 list --json: names, uuids and jurisdictions", () => {
    expect(parseD1List(fixture("present/d1-list.json")).map((d) => [d.name, d.jurisdiction ?? ""])).toEqual([
      ["parley-control", ""],
      ["parley-shard-0", "eu"],
      ["parley-shard-1", "eu"],
      ["parley", ""],
    ]);
    expect(parseD1List("[]")).toEqual([]);
    expect(parseD1List(null)).toEqual([]);
  });

  it("d1 create: the id in its TOML or JSON snippet, for the database asked", () => {
    expect(parseD1Create(fixture("d1-create-shard-1.txt"), "parley-shard-1")).toBe("c0ffee00-1234-4abc-9def-0123456789ab");
    expect(parseD1Create(fixture("d1-create-json.txt"), "parley-control")).toBe("deadbeef-0000-4000-8000-00000000c0de");
    expect(() => parseD1Create(fixture("d1-create-shard-1.txt"), "parley-shard-0")).toThrow(/made "parley-shard-1"/);
    expect(() => parseD1Create("✅ Successfully created DB 'x'")).toThrow(/no database_id/);
  });

  it("r2 bucket list: the name: lines", () => {
    expect(parseR2List(fixture("present/r2-list.txt"))).toEqual(["parley-blobs", "bench-results"]);
    expect(parseR2List(fixture("present/r2-list-eu.txt"))).toEqual(["parley-blobs-eu"]);
    expect(parseR2List(fixture("empty/r2-list.txt"))).toEqual([]);
  });

  it("queues list: the name column, with or without the jurisdiction column", () => {
    expect(parseQueuesList(fixture("present/queues-list.txt"))).toEqual(["parley-sends", "parley-sends-dlq", "parley-webhooks"]);
    expect(parseQueuesList(fixture("partial/queues-list.txt"))).toEqual(["parley-sends", "crm-sync"]);
    expect(parseQueuesList(fixture("empty/queues-list.txt"))).toEqual([]);
  });

  it("secret list --format json: the names; a failed command is none", () => {
    expect(parseSecretList(fixture("present/secret-list.json"))).toEqual(["AUTH_SECRET", "PLATFORM_SECRET", "SECRETS_KEY", "TURNSTILE_SECRET"]);
    expect(parseSecretList(null)).toEqual([]);
  });

  it("deploy: the workers.dev URL and the upload size", () => {
    const out = fixture("deploy-output.txt");
    expect(parseDeployedUrl(out)).toBe("https://parley.acme-support.workers.dev");
    expect(parseDeployedUrl("Deployed parley triggers\n  example.com/*")).toBeNull();
    expect(parseUploadSize(out)).toEqual({ kib: 1008.41, gzipKib: 281.07 });
    expect(parseUploadSize("Total Upload: 2039.94 KiB / gzip: 614.99 KiB")).toEqual({ kib: 2039.94, gzipKib: 614.99 });
  });
});

describe("the bundle budget", () => {
  it("is 300 KiB = 307,200 bytes gzipped, said so when over", () => {
    expect(MAX_GZIP_BYTES).toBe(307_200);
    expect(bundleVerdict({ kib: 1000, gzipKib: 300 }).ok).toBe(true);
    expect(bundleVerdict({ kib: 1000, gzipKib: 281.07 }).line).toBe("bundle gzip: 281.07 KiB (limit 300 KiB)");
    const over = bundleVerdict({ kib: 2039.94, gzipKib: 300.01 });
    expect(over.ok).toBe(false);
    expect(over.message).toContain("300 KiB = 307200 bytes");
  });
});

describe("the real run, against a recorded account", () => {
  /** A fake world: `asks` are the successive answers of the account; commands are recorded. */
  function world(asks: Answers[], health: number[] = [200]) {
    const run: string[] = [];
    const written: Record<string, string> = {};
    const fetched: string[] = [];
    const io: DeployIO = {
      ask: () => asks.shift()!,
      must: (command) => {
        run.push(command.join(" "));
        if (command[1] === "d1" && command[2] === "create") return fixture("d1-create-shard-1.txt").replaceAll("parley-shard-1", command[3]!).replace("0123456789ab", `01234567890${run.length}`);
        if (command[1] === "deploy") return fixture("deploy-output.txt");
        return "";
      },
      write: (path, content) => void (written[path] = content),
      fetch: async (url) => {
        fetched.push(url);
        const status = health.shift() ?? 200;
        return { status, text: async () => (status === 200 ? '{"ok":true}' : "starting") };
      },
      sleep: async () => {},
      log: () => {},
    };
    return { io, run, written, fetched };
  }

  it("on an empty account creates, asks again, writes the config, migrates, and stops before deploying for the secrets", async () => {
    const w = world([answers("empty"), { ...answers("present"), secretList: null }]);
    await expect(deploy(TOML, w.io)).rejects.toThrow(/missing secrets, so the Worker was not deployed: AUTH_SECRET, SECRETS_KEY, PLATFORM_SECRET[\s\S]*npx wrangler secret put PLATFORM_SECRET/);
    expect(w.run).toEqual([
      "wrangler d1 create parley-control",
      "wrangler d1 create parley-shard-0 --jurisdiction eu",
      "wrangler d1 create parley-shard-1 --jurisdiction eu",
      "wrangler r2 bucket create parley-blobs-eu --jurisdiction eu",
      "wrangler queues create parley-sends",
      "wrangler queues create parley-sends-dlq",
      "wrangler queues create parley-webhooks",
      `wrangler d1 migrations apply CONTROL --remote --config ${DEPLOY_CONFIG}`,
      `wrangler d1 migrations apply SHARD_0 --remote --config ${DEPLOY_CONFIG}`,
      `wrangler d1 migrations apply SHARD_1 --remote --config ${DEPLOY_CONFIG}`,
    ]);
    expect(idsIn(w.written[DEPLOY_CONFIG]!)).toEqual({
      CONTROL: "5b0c5a8e-2f3d-4a51-9c6e-0d7f1e2a3b4c",
      SHARD_0: "a1e2d3c4-b5a6-4798-8a9b-0c1d2e3f4a5b",
      SHARD_1: "f0e1d2c3-b4a5-4697-8899-aabbccddeeff",
    });
  });

  it("takes the ids of databases it created from d1 create when the list lags", async () => {
    const lagging = { ...answers("present"), d1List: "[]", secretList: null };
    const w = world([answers("empty"), lagging]);
    await expect(deploy(TOML, w.io)).rejects.toThrow(Stop);
    expect(idsIn(w.written[DEPLOY_CONFIG]!)).toEqual({ CONTROL: "c0ffee00-1234-4abc-9def-012345678901", SHARD_0: "c0ffee00-1234-4abc-9def-012345678902", SHARD_1: "c0ffee00-1234-4abc-9def-012345678903" });
  });

  it("stops when what it created is still not listed", async () => {
    const w = world([answers("empty"), answers("empty")]);
    await expect(deploy(TOML, w.io)).rejects.toThrow(/created, but wrangler does not list: parley-blobs-eu, parley-sends, parley-sends-dlq, parley-webhooks/);
    expect(w.run.filter((c) => c.includes("migrations"))).toEqual([]);
  });

  it("on an account with everything migrates, builds, deploys and waits for /api/health to answer 200", async () => {
    const w = world([answers("present")], [503, 503, 200]);
    await deploy(TOML, w.io);
    expect(w.run).toEqual([
      `wrangler d1 migrations apply CONTROL --remote --config ${DEPLOY_CONFIG}`,
      `wrangler d1 migrations apply SHARD_0 --remote --config ${DEPLOY_CONFIG}`,
      `wrangler d1 migrations apply SHARD_1 --remote --config ${DEPLOY_CONFIG}`,
      "npm run build:widget",
      "npm run build:web",
      `wrangler deploy --config ${DEPLOY_CONFIG} --minify`,
    ]);
    expect(w.fetched).toEqual(Array(3).fill("https://parley.acme-support.workers.dev/api/health"));
  });
});

describe("npm run deploy -- --dry-run", () => {
  const dryRun = (...args: string[]) => spawnSync(process.execPath, ["scripts/deploy.ts", "--dry-run", "--plan-only", ...args], { cwd: ROOT, encoding: "utf8" });

  it("prints the plan from recorded answers, without an account", () => {
    const r = dryRun("--answers", join(FIX, "partial"));
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("npx wrangler r2 bucket create parley-blobs-eu --jurisdiction eu");
    expect(r.stdout).toContain("npx wrangler d1 migrations apply CONTROL --remote --config wrangler.deploy.toml");
    expect(r.stdout).toContain("npx wrangler secret put PLATFORM_SECRET");
    expect(r.stdout).not.toContain("npx wrangler d1 create parley-control");
  });

  it("refuses an unknown argument", () => {
    const r = dryRun("--yes");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("unknown argument --yes");
  });
});
