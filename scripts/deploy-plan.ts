// The plan of `npm run deploy`: what to create, write, migrate, check and deploy, worked out from
// wrangler.toml and the recorded answers of wrangler's list commands. Pure: no file, network or
// process (scripts/deploy.ts asks wrangler, through scripts/deploy-wrangler.ts, and runs the plan).
//
// Idempotent: a D1 database that exists (by database_name), an R2 bucket (by name within its
// jurisdiction) or a Queue (by name) is not created again; the ids of the D1 databases, listed or
// just created, go into wrangler.deploy.toml, which the migrations and the deploy use.
import { parse } from "smol-toml";

/** The config `npm run deploy` writes (gitignored): wrangler.toml with the real D1 database ids. At the
 *  repository's root, like wrangler.toml, so its relative paths (main, assets, migrations, aliases) hold. */
export const DEPLOY_CONFIG = "wrangler.deploy.toml";
/** Secrets the Worker cannot run without: the deploy stops before deploying while one is missing. */
export const REQUIRED_SECRETS = ["AUTH_SECRET", "SECRETS_KEY", "PLATFORM_SECRET"] as const;
/** Secrets only some features need (TURNSTILE_SECRET: forms with turnstile: true): a warning. */
export const OPTIONAL_SECRETS = ["TURNSTILE_SECRET"] as const;
/** The budget of the Worker's upload, gzipped: 300 KiB = 307,200 bytes (KiB, as wrangler prints it). */
export const MAX_GZIP_KIB = 300;
export const MAX_GZIP_BYTES = MAX_GZIP_KIB * 1024;
/** How long the deployed Worker's /api/health gets to answer 200. */
export const HEALTH_TIMEOUT_MS = 60_000;
/** The data jurisdictions a shard can have (SHARDS in [vars]), and the R2 binding each one's bytes go to. */
export const JURISDICTIONS = { eu: { bucketBinding: "BLOBS", r2Jurisdiction: "eu" }, global: { bucketBinding: "BLOBS_GLOBAL", r2Jurisdiction: undefined } } as const;
export type Jurisdiction = keyof typeof JURISDICTIONS;
/** Passed to every `wrangler deploy`, the dry run's too, so the measured bundle is the deployed one
 *  (the same as `minify = true` in wrangler.toml, which makes it redundant). */
export const DEPLOY_FLAGS = ["--minify"] as const;

export interface D1Binding {
  binding: string;
  database_name: string;
  database_id?: string;
  migrations_dir?: string;
}
export interface R2Binding {
  binding: string;
  bucket_name: string;
  jurisdiction?: string;
}
/** The parts of wrangler.toml the deploy reads (the rest passes through untouched). */
export interface WranglerConfig {
  name?: string;
  d1_databases?: D1Binding[];
  r2_buckets?: R2Binding[];
  queues?: { producers?: { binding: string; queue: string }[]; consumers?: { queue: string; dead_letter_queue?: string }[] };
  vars?: Record<string, unknown>;
  send_email?: { name: string }[];
  [key: string]: unknown;
}

export function parseWranglerToml(text: string): WranglerConfig {
  return parse(text) as WranglerConfig;
}

/** Each D1 binding with the migrations it takes: wrangler's migrations_dir, "migrations" when unset.
 *  In wrangler.toml's order (CONTROL, then the shards). */
export function migrationTargets(config: WranglerConfig): { binding: string; migrationsDir: string }[] {
  return (config.d1_databases ?? []).map((d) => ({ binding: d.binding, migrationsDir: d.migrations_dir ?? "migrations" }));
}

/** The wrangler argv (after "wrangler") applying one binding's migrations. */
export function migrateCommand(binding: string, opts: { remote?: boolean; persistTo?: string } = {}): string[] {
  if (opts.remote) return ["d1", "migrations", "apply", binding, "--remote", "--config", DEPLOY_CONFIG];
  return ["d1", "migrations", "apply", binding, "--local", ...(opts.persistTo ? ["--persist-to", opts.persistTo] : [])];
}

/** SHARDS in [vars]: shard binding -> jurisdiction (a TOML table, or the same as a JSON string). */
export function shardJurisdictions(config: WranglerConfig): Record<string, string> {
  const raw = config.vars?.["SHARDS"];
  const value = typeof raw === "string" ? (JSON.parse(raw) as unknown) : raw;
  if (value === undefined) return {};
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error("SHARDS in [vars] must be a table of shard binding = jurisdiction");
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
}

// ---- wrangler's answers -------------------------------------------------------------------------

/** What a command printed, or null when it was not asked (a dry run) or failed where failing means "none". */
export interface Answers {
  /** `wrangler d1 list --json`. */
  d1List: string | null;
  /** `wrangler d1 create NAME ...`'s output, by database name: the databases created in this run. */
  d1Created?: Record<string, string>;
  /** `wrangler r2 bucket list`, by jurisdiction: "" for none, "eu" for `--jurisdiction eu`. */
  r2List: Record<string, string | null>;
  /** `wrangler queues list` (every page, one after the other). */
  queuesList: string | null;
  /** `wrangler secret list --format json`; null when it failed (a Worker not deployed yet has none). */
  secretList: string | null;
}

/** Nothing exists: what a dry run plans from. */
export const NOTHING: Answers = { d1List: null, r2List: {}, queuesList: null, secretList: null };

const ANSI = /\u001b\[[0-9;]*m/g;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** The JSON value in a command's output (wrangler may print a line or two around it). */
function jsonIn(text: string, open: "[" | "{"): unknown {
  const close = open === "[" ? "]" : "}";
  const start = text.indexOf(open);
  const end = text.lastIndexOf(close);
  if (start < 0 || end < start) throw new Error(`no JSON ${open}...${close} in: ${text.slice(0, 200)}`);
  return JSON.parse(text.slice(start, end + 1));
}

export interface D1Database {
  name: string;
  uuid: string;
  jurisdiction?: string;
}

/** `wrangler d1 list --json`: the API's database objects (uuid, name, created_at, version, num_tables, file_size, jurisdiction). */
export function parseD1List(text: string | null): D1Database[] {
  if (text === null || text.trim() === "") return [];
  const list = jsonIn(text, "[");
  if (!Array.isArray(list)) throw new Error("wrangler d1 list --json: not an array");
  return list.map((d: { name?: unknown; uuid?: unknown; jurisdiction?: unknown }) => {
    if (typeof d.name !== "string" || typeof d.uuid !== "string") throw new Error(`wrangler d1 list --json: a database without name or uuid: ${JSON.stringify(d)}`);
    return { name: d.name, uuid: d.uuid, ...(typeof d.jurisdiction === "string" && d.jurisdiction ? { jurisdiction: d.jurisdiction } : {}) };
  });
}

/** The new database's id in `wrangler d1 create`'s output: the config snippet it prints, TOML
 *  (`database_id = "…"`) or JSON (`"database_id": "…"`). Checks the snippet names `name`. */
export function parseD1Create(text: string, name?: string): string {
  const plain = text.replace(ANSI, "");
  const id = /["']?database_id["']?\s*[=:]\s*["']([^"']+)["']/.exec(plain)?.[1];
  if (!id || !UUID.test(id)) throw new Error(`no database_id in wrangler d1 create's output:\n${plain}`);
  const named = /["']?database_name["']?\s*[=:]\s*["']([^"']+)["']/.exec(plain)?.[1];
  if (name !== undefined && named !== undefined && named !== name) throw new Error(`wrangler d1 create made "${named}", not "${name}"`);
  return id;
}

/** `wrangler r2 bucket list`: "name:" / "creation_date:" blocks, one per bucket. */
export function parseR2List(text: string | null | undefined): string[] {
  if (!text) return [];
  return [...text.replace(ANSI, "").matchAll(/^\s*name:\s*(\S+)\s*$/gm)].map((m) => m[1]!);
}

/** `wrangler queues list`: a table (id, name, [jurisdiction,] created_on, ...), box-drawn by cli-table3. */
export function parseQueuesList(text: string | null): string[] {
  if (!text) return [];
  const rows = text
    .replace(ANSI, "")
    .split("\n")
    .filter((l) => /^\s*[│|]/.test(l))
    .map((l) => l.trim().replace(/^[│|]|[│|]$/g, "").split(/[│|]/).map((c) => c.trim()));
  const header = rows[0];
  const at = header?.indexOf("name") ?? -1;
  if (!header || at < 0) return [];
  return rows.slice(1).map((r) => r[at] ?? "").filter(Boolean);
}

/** `wrangler secret list --format json`: [{ name, type }]; null (the command failed) is none. */
export function parseSecretList(text: string | null): string[] {
  if (text === null || text.trim() === "") return [];
  const list = jsonIn(text, "[");
  if (!Array.isArray(list)) throw new Error("wrangler secret list: not an array");
  return list.map((s: { name?: unknown }) => String(s.name));
}

/** The Worker's workers.dev address in `wrangler deploy`'s output, or null (routes only). */
export function parseDeployedUrl(text: string): string | null {
  return /https:\/\/[a-z0-9.-]+\.workers\.dev\b/i.exec(text.replace(ANSI, ""))?.[0] ?? null;
}

/** `Total Upload: 2039.94 KiB / gzip: 614.99 KiB` in `wrangler deploy [--dry-run]`'s output. */
export function parseUploadSize(text: string): { kib: number; gzipKib: number } | null {
  const m = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(text.replace(ANSI, ""));
  return m ? { kib: Number(m[1]), gzipKib: Number(m[2]) } : null;
}

/** Whether the bundle fits MAX_GZIP_KIB; `line` is what the dry run prints either way. */
export function bundleVerdict(size: { kib: number; gzipKib: number }): { ok: boolean; line: string; message: string } {
  const bytes = Math.round(size.gzipKib * 1024);
  const ok = bytes <= MAX_GZIP_BYTES;
  const line = `bundle gzip: ${size.gzipKib} KiB (limit ${MAX_GZIP_KIB} KiB)`;
  const message = ok
    ? `The Worker is ${size.kib} KiB, ${size.gzipKib} KiB gzipped: within the ${MAX_GZIP_KIB} KiB (${MAX_GZIP_BYTES} bytes) budget.`
    : `The Worker is ${size.gzipKib} KiB gzipped (about ${bytes} bytes), over the budget of ${MAX_GZIP_KIB} KiB = ${MAX_GZIP_BYTES} bytes (KiB: 1,024 bytes). Find what grew: npx wrangler deploy --dry-run --minify --outdir dist --metafile dist/meta.json`;
  return { ok, line, message };
}

// ---- the deploy config ----------------------------------------------------------------------------

const GENERATED = `# GENERATED by \`npm run deploy\` from wrangler.toml, with the real D1 database ids; do not edit or commit.\n`;

/** wrangler.toml's text with each [[d1_databases]] block's database_id set to ids[binding] (comments
 *  and everything else as they are). Checked by parsing the result. */
export function renderDeployConfig(tomlText: string, ids: Record<string, string>): string {
  const lines = tomlText.split("\n");
  let block: { d1: boolean; binding?: string; bindingLine?: number; idLine?: number } = { d1: false };
  const edits: { line: number; insert: boolean; text: string }[] = [];
  const flush = () => {
    if (!block.d1 || block.binding === undefined) return;
    const id = ids[block.binding];
    if (id === undefined) return;
    if (block.idLine !== undefined) edits.push({ line: block.idLine, insert: false, text: lines[block.idLine]!.replace(/^(\s*database_id\s*=\s*)(["'])[^"']*\2/, `$1"${id}"`) });
    else edits.push({ line: block.bindingLine!, insert: true, text: `database_id = "${id}"` });
  };
  lines.forEach((line, i) => {
    if (/^\s*\[/.test(line)) {
      flush();
      block = { d1: /^\s*\[\[\s*d1_databases\s*\]\]/.test(line) };
    } else if (block.d1) {
      const b = /^\s*binding\s*=\s*(["'])([^"']*)\1/.exec(line);
      if (b) [block.binding, block.bindingLine] = [b[2], i];
      if (/^\s*database_id\s*=/.test(line)) block.idLine = i;
    }
  });
  flush();
  for (const e of edits.sort((a, b) => b.line - a.line)) {
    if (e.insert) lines.splice(e.line + 1, 0, e.text);
    else lines[e.line] = e.text;
  }
  const out = GENERATED + lines.join("\n");
  const check = parseWranglerToml(out);
  for (const d of check.d1_databases ?? []) {
    if (ids[d.binding] !== undefined && d.database_id !== ids[d.binding]) throw new Error(`could not set ${d.binding}'s database_id in the deploy config`);
  }
  return out;
}

// ---- the plan ---------------------------------------------------------------------------------------

export type StepKind = "create-d1" | "create-r2" | "create-queue" | "write-config" | "migrate" | "check-secrets" | "build" | "deploy" | "health" | "email-routing";

export interface Step {
  kind: StepKind;
  /** The command: its program first ("wrangler", run as `npx wrangler`, or "npm"); empty when the step is not one. */
  command: string[];
  why: string;
  /** The database, bucket or queue a create step makes. */
  target?: string;
}

export interface Plan {
  steps: Step[];
  /** wrangler.deploy.toml's content. */
  deployConfig: string;
  /** D1 binding -> the real database id, where known. */
  databaseIds: Record<string, string>;
  /** Databases whose id only their `wrangler d1 create` will tell (the config has a placeholder). */
  pendingDatabases: string[];
  missingSecrets: string[];
  warnings: string[];
  /** wrangler.toml contradicts itself or the account: nothing may run. */
  errors: string[];
}

/** What `npx wrangler …` or `npm …` a step runs, for printing. */
export function commandLine(step: Step): string {
  if (step.command.length === 0) return "";
  return step.command[0] === "wrangler" ? `npx ${step.command.join(" ")}` : step.command.join(" ");
}

/** Every Queue the config names: producers, consumers and dead-letter queues, sorted. */
export function queueNames(config: WranglerConfig): string[] {
  const q = config.queues ?? {};
  const names = [...(q.producers ?? []).map((p) => p.queue), ...(q.consumers ?? []).flatMap((c) => [c.queue, ...(c.dead_letter_queue ? [c.dead_letter_queue] : [])])];
  return [...new Set(names)].sort();
}

export const EMAIL_ROUTING_STEPS = (worker: string): string =>
  [
    `Email Routing can't be set up by wrangler (it has no command for routing rules to a Worker); once per mail domain:`,
    `  Dashboard: the domain > Email > Email Routing > enable it (adds the MX and SPF records) > Routing rules >`,
    `    Create address (each tenant mailbox, e.g. support@example.com), or Catch-all address > Edit >`,
    `    Action "Send to a Worker", Destination "${worker}" > Save.`,
    `  Or the API, with a token allowed "Email Routing Rules: Edit" (Email Routing enabled on the zone first):`,
    `    curl -X POST https://api.cloudflare.com/client/v4/zones/$ZONE_ID/email/routing/rules -H "Authorization: Bearer $TOKEN" \\`,
    `      -H "Content-Type: application/json" -d '{"matchers":[{"type":"literal","field":"to","value":"support@example.com"}],"actions":[{"type":"worker","value":["${worker}"]}],"enabled":true}'`,
    `    (catch-all: curl -X PUT .../email/routing/rules/catch_all with -d '{"matchers":[{"type":"all"}],"actions":[{"type":"worker","value":["${worker}"]}],"enabled":true}')`,
    `  Then set each tenant's email.transport to "send_email" (Email Service; its sending domain set up in the dashboard) or "http" (README: Email).`,
  ].join("\n");

export function planDeploy(tomlText: string, answers: Answers): Plan {
  const config = parseWranglerToml(tomlText);
  const worker = config.name ?? "parley";
  const errors: string[] = [];
  const warnings: string[] = [];
  const steps: Step[] = [];
  const d1 = config.d1_databases ?? [];
  const r2 = config.r2_buckets ?? [];

  // The config's own consistency: shards, their jurisdictions and buckets.
  let shards: Record<string, string> = {};
  try {
    shards = shardJurisdictions(config);
  } catch (e) {
    errors.push((e as Error).message);
  }
  const bindings = new Set(d1.map((d) => d.binding));
  if (!bindings.has("CONTROL")) errors.push("wrangler.toml has no D1 binding CONTROL (the tenant directory)");
  for (const [binding, j] of Object.entries(shards)) {
    if (!bindings.has(binding)) errors.push(`SHARDS names ${binding}, which no [[d1_databases]] binds`);
    if (!(j in JURISDICTIONS)) {
      errors.push(`SHARDS gives ${binding} the jurisdiction "${j}": one of ${Object.keys(JURISDICTIONS).join(", ")}`);
      continue;
    }
    const want = JURISDICTIONS[j as Jurisdiction];
    const bucket = r2.find((b) => b.binding === want.bucketBinding);
    if (!bucket) errors.push(`${binding} is a "${j}" shard: its bytes need the R2 binding ${want.bucketBinding}${want.r2Jurisdiction ? ` (jurisdiction = "${want.r2Jurisdiction}")` : ""}, which wrangler.toml lacks`);
    else if ((bucket.jurisdiction ?? undefined) !== want.r2Jurisdiction) errors.push(`R2 binding ${want.bucketBinding} (bucket ${bucket.bucket_name}) holds "${j}" data: it needs ${want.r2Jurisdiction ? `jurisdiction = "${want.r2Jurisdiction}"` : "no jurisdiction"}`);
  }
  for (const d of d1) if (/^SHARD_/.test(d.binding) && !(d.binding in shards)) errors.push(`${d.binding} is not in SHARDS (in [vars]): give it a jurisdiction`);
  const names = d1.map((d) => d.database_name);
  for (const n of new Set(names)) if (names.filter((x) => x === n).length > 1) errors.push(`two D1 bindings share the database_name ${n}`);

  // D1: by database_name; an "eu" shard is created in the EU jurisdiction.
  let listed: D1Database[] = [];
  try {
    listed = parseD1List(answers.d1List);
  } catch (e) {
    errors.push((e as Error).message);
  }
  const databaseIds: Record<string, string> = {};
  const pendingDatabases: string[] = [];
  for (const d of d1) {
    const j = shards[d.binding];
    const wantJurisdiction = j === "eu" ? "eu" : undefined;
    const found = listed.find((x) => x.name === d.database_name);
    const created = answers.d1Created?.[d.database_name];
    if (found) {
      databaseIds[d.binding] = found.uuid;
      if (j !== undefined && found.jurisdiction !== undefined && found.jurisdiction !== wantJurisdiction) {
        errors.push(`D1 database ${d.database_name} exists in the jurisdiction "${found.jurisdiction}", but SHARDS makes ${d.binding} a "${j}" shard; a database can't move: rename it in wrangler.toml or delete it`);
      }
    } else if (created !== undefined) {
      try {
        databaseIds[d.binding] = parseD1Create(created, d.database_name);
      } catch (e) {
        errors.push((e as Error).message);
      }
    } else {
      pendingDatabases.push(d.database_name);
      steps.push({
        kind: "create-d1",
        target: d.database_name,
        command: ["wrangler", "d1", "create", d.database_name, ...(wantJurisdiction ? ["--jurisdiction", wantJurisdiction] : [])],
        why: `D1 ${d.binding} (${d.database_name}) does not exist${wantJurisdiction ? `; an "${j}" shard: its data stays in the ${wantJurisdiction.toUpperCase()} jurisdiction` : j ? `; a "${j}" shard` : ""}`,
      });
    }
  }

  // R2: by name within the bucket's jurisdiction (an EU bucket is only listed with --jurisdiction eu).
  for (const b of r2) {
    const j = b.jurisdiction ?? "";
    if (parseR2List(answers.r2List[j]).includes(b.bucket_name)) continue;
    steps.push({
      kind: "create-r2",
      target: b.bucket_name,
      command: ["wrangler", "r2", "bucket", "create", b.bucket_name, ...(j ? ["--jurisdiction", j] : [])],
      why: `R2 ${b.binding} (${b.bucket_name}${j ? `, jurisdiction ${j}` : ""}) does not exist`,
    });
  }

  // Queues: by name, the dead-letter queue included.
  const queues = parseQueuesList(answers.queuesList);
  for (const q of queueNames(config)) {
    if (queues.includes(q)) continue;
    const dlq = (config.queues?.consumers ?? []).some((c) => c.dead_letter_queue === q);
    steps.push({ kind: "create-queue", target: q, command: ["wrangler", "queues", "create", q], why: `Queue ${q}${dlq ? " (a dead-letter queue)" : ""} does not exist` });
  }

  const ids = { ...databaseIds };
  for (const d of d1) if (ids[d.binding] === undefined) ids[d.binding] = `(the id wrangler d1 create ${d.database_name} prints)`;
  let deployConfig = "";
  try {
    deployConfig = renderDeployConfig(tomlText, ids);
  } catch (e) {
    errors.push((e as Error).message);
  }
  steps.push({ kind: "write-config", command: [], why: `${DEPLOY_CONFIG}: wrangler.toml with the real ids of ${d1.map((d) => d.binding).join(", ")}` });

  for (const t of migrationTargets(config)) {
    steps.push({ kind: "migrate", target: t.binding, command: ["wrangler", ...migrateCommand(t.binding, { remote: true })], why: `${t.binding}: the migrations in ${t.migrationsDir}/ it lacks` });
  }

  const secrets = parseSecretList(answers.secretList);
  const missingSecrets = REQUIRED_SECRETS.filter((s) => !secrets.includes(s));
  for (const s of OPTIONAL_SECRETS) if (!secrets.includes(s)) warnings.push(`secret ${s} is not set: forms with turnstile: true will refuse every submission (npx wrangler secret put ${s})`);
  steps.push({
    kind: "check-secrets",
    command: ["wrangler", "secret", "list", "--format", "json"],
    why: missingSecrets.length
      ? `missing: ${missingSecrets.join(", ")}; the deploy stops here until they are set: ${missingSecrets.map((s) => `npx wrangler secret put ${s}`).join("; ")}`
      : `${REQUIRED_SECRETS.join(", ")} are set`,
  });

  steps.push({ kind: "build", command: ["npm", "run", "build:widget"], why: "the chat widget, public/widget.js (a static asset)" });
  steps.push({ kind: "build", command: ["npm", "run", "build:web"], why: "the desktop and console, public/app/ (static assets)" });
  steps.push({ kind: "deploy", command: ["wrangler", "deploy", "--config", DEPLOY_CONFIG, ...DEPLOY_FLAGS], why: `the Worker ${worker}, its Durable Object migrations, triggers, Queue consumers and static assets` });
  steps.push({ kind: "health", command: [], why: `GET <the workers.dev URL wrangler deploy prints>/api/health until it answers 200, for at most ${HEALTH_TIMEOUT_MS / 1000} s` });
  steps.push({ kind: "email-routing", command: [], why: EMAIL_ROUTING_STEPS(worker) });

  return { steps, deployConfig, databaseIds, pendingDatabases, missingSecrets, warnings, errors };
}

/** The plan as printed: one numbered line per step, its command and why. */
export function formatPlan(plan: Plan): string {
  const out: string[] = [];
  plan.steps.forEach((s, i) => {
    const cmd = commandLine(s);
    out.push(`${String(i + 1).padStart(2)}. ${s.kind}${cmd ? `: ${cmd}` : ""}`);
    out.push(...s.why.split("\n").map((l) => `      ${l}`));
  });
  for (const w of plan.warnings) out.push(`warning: ${w}`);
  for (const e of plan.errors) out.push(`error: ${e}`);
  return out.join("\n");
}
