// Email bench: raw messages ingested per second (POST /api/v1/email/inbound, parsed, stored and
// queued) against parsing alone through the same stack, and against a bare pipeline of the same
// shape as the ingest, each measured in the same run at the same concurrency.
//
//   0. Context: postal-mime over the corpus in this Node process, one thread.
//   1. Baseline: a tiny Worker (bench/parse-only) that only parses the posted message, in its own
//      wrangler dev; the corpus posted N times, C in flight, after a warm-up. Stopped before 2.
//   2. Ingest: Parley's wrangler dev (a snapshot, fresh state) with a tenant "bench" whose mailbox
//      support@bench.parley.test leads to the queue "inbox"; the same corpus N times, C in flight; then
//      the stats API and (after stopping) D1 say whether N interactions were stored, none twice.
//   3. One small message through wrangler dev's local email() path (/cdn-cgi/handler/email).
//   4. Same shape: bench/shape-email in its own wrangler dev (port BENCH_PORT+2 again, fresh state), no
//      Parley logic: POST raw message → postal-mime parse → the raw bytes put in R2 → one D1 batch of
//      two INSERTs → one Durable Object RPC → 202. Run after 2 so that it gets the ingest's own mix
//      (the kinds the ingest accepted), the same warm-up, N and C. Target (ratio_same_shape.per_s):
//      ingest/s ≥ 0.6× the same shape's.
//
// The corpus is test/fixtures/email/corpus.ts plus a ~200 KB and three ~1 MB attachment messages;
// every send gets a unique Message-ID (and unique thread references, so replies open their own thread).
// Sizes: BENCH_EMAIL_COUNT, BENCH_EMAIL_CONCURRENCY, BENCH_EMAIL_WARMUP, BENCH_PORT.
// BENCH_PROFILE=1: V8 CPU profiles of the ingest phase (the Worker's isolate through wrangler's
// inspector; D1, R2 and miniflare's entry isolates through workerd's own), figures to email-profiled.json.
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import http from "node:http";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import PostalMime from "postal-mime";
import { root } from "../scripts/local.ts";
import { tripsFor, type TripOp, type TripsResult } from "./lib/trips.ts";
import { tripsSummary } from "./trips.ts";
import { bigAttachmentMessage, corpus, plainAscii, setMessageId, withHeaders, type CorpusEntry } from "../test/fixtures/email/corpus.ts";
import type { TenantConfigInput } from "../workers/config/schema.ts";
import { envInt } from "./lib/env.ts";
import { phaseTimer } from "./lib/phase.ts";
import { cpuMeter, settle, type CpuUse } from "./lib/cpu.ts";
import { bundleMap, runtimeInspector, startProfile, startProfileAt, summarize, type ProfileSummary } from "./lib/profile.ts";
import { applyMigrationsIn, authSecret, baselineWorkdir, ensurePortsFree, queryD1, removeWorkdir, startDev, troubleInLog, waitUpOrBuildError, workdir, type Dev, type Workdir } from "./lib/dev.ts";
import { pool, sleep } from "./lib/pool.ts";
import { latency, perSecond, ratio, round, type Latency } from "./lib/stats.ts";
import type { BenchResult } from "./lib/types.ts";

export const name = "email";
export const description = "raw email ingested per second (POST /api/v1/email/inbound) vs. postal-mime parse-only and a same-shape bare pipeline (parse, R2 put, D1 batch, one object RPC) through the same wrangler dev stack";

const TENANT = "bench";
/** Profiles sample every 500 µs; a sample counts for at most 1 ms (see summarize). */
const PROFILE_CLAMP_US = 1000;
const MAILBOX = "support@bench.parley.test";
const CUSTOMER = "customer@example.com";
const INGEST_KEY = "bench-email-ingest-key-not-secret";
const PASSWORD = "bench-password-shared";

const opts = {
  count: envInt("BENCH_EMAIL_COUNT", 1000),
  concurrency: envInt("BENCH_EMAIL_CONCURRENCY", 8),
  /** At least one of each kind, so the ingest's answer to each is known before measuring. */
  warmup: envInt("BENCH_EMAIL_WARMUP", 60),
  port: envInt("BENCH_PORT", 8801),
  /** BENCH_PROFILE=1: profiles of the ingest phase (figures then go to email-profiled.json). */
  profile: process.env.BENCH_PROFILE === "1",
  requestTimeoutMs: 60_000,
  phaseTimeLimitMs: 600_000,
};

/** The attachment messages mixed in, by decoded size: raw is about 4/3 of it. */
const BIG = [
  { label: "attachment-200k", bytes: 150_000, filename: "photo.jpg", contentType: "image/jpeg" },
  { label: "attachment-1m-a", bytes: 740_000, filename: "statement.pdf", contentType: "application/pdf" },
  { label: "attachment-1m-b", bytes: 740_000, filename: "scan.tiff", contentType: "image/tiff" },
  { label: "attachment-1m-c", bytes: 740_000, filename: "report.docx", contentType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
];

interface Kind {
  name: string;
  raw: Uint8Array;
  /** Whether it carries a Message-ID to replace (the one without keeps none: its dedup key is its hash). */
  hasId: boolean;
  inReplyTo?: string;
  references?: string;
}

function mix(): Kind[] {
  const fromCorpus = corpus({ to: MAILBOX, from: CUSTOMER }).map((e: CorpusEntry) => ({
    name: e.name,
    raw: e.raw,
    hasId: e.expect.messageId !== null,
    inReplyTo: e.expect.inReplyTo,
    references: e.expect.references,
  }));
  const big = BIG.map((b) => ({ name: b.label, raw: bigAttachmentMessage(b.bytes, { to: MAILBOX, from: CUSTOMER, filename: b.filename, contentType: b.contentType }), hasId: true }));
  return [...fromCorpus, ...big];
}

/** The bytes of send `tag`: its own Message-ID, its own thread references, and a header naming it
 *  (which also makes the message without a Message-ID unique, its hash being its identity). */
function payload(k: Kind, tag: string): Uint8Array {
  const unique = (ids: string) => ids.replace(/<([^@>]+)@/g, `<$1.${tag}@`);
  const h: Record<string, string> = { "X-Bench-Send": tag };
  if (k.inReplyTo) h["In-Reply-To"] = unique(k.inReplyTo);
  if (k.references) h.References = unique(k.references);
  if (k.hasId) h["Message-ID"] = `<${tag}-${k.name}@bench.parley.test>`;
  return withHeaders(k.raw, h);
}

// node:http with keep-alive, like lib/pool.ts's request, but with a binary body and every status returned.
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

interface Answer {
  status: number;
  body: string;
  ms: number;
}

function post(url: string, body: Uint8Array, headers: Record<string, string>, timeoutMs = opts.requestTimeoutMs): Promise<Answer> {
  const u = new URL(url);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: "POST", agent, headers: { ...headers, "content-length": String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", fail);
      res.on("end", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), ms: performance.now() - t0 });
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`POST ${u.pathname}: no answer in ${timeoutMs} ms`)), timeoutMs);
    function fail(err: Error) {
      clearTimeout(timer);
      reject(err);
    }
    req.on("error", fail);
    req.end(body);
  });
}

interface Sent {
  kind: string;
  ms: number;
  bytes: number;
  interactionId?: string;
  duplicate?: boolean;
  state?: string;
}

interface Load {
  sent: number;
  ok: number;
  okBytes: number;
  perS: number;
  mbPerS: number;
  ms: Latency;
  spanS: number;
  errors: { index: number; error: string }[];
  results: Sent[];
}

/** N sends of the mix (send i is kind i mod K), C in flight; `send` throws on an answer it does not count. */
async function load(n: number, c: number, kinds: Kind[], send: (k: Kind, i: number) => Promise<Sent>): Promise<Load> {
  const r = await pool(n, c, opts.phaseTimeLimitMs, (i) => send(kinds[i % kinds.length]!, i));
  const ok = r.results.filter((x): x is Sent => x !== undefined);
  const okBytes = ok.reduce((s, x) => s + x.bytes, 0);
  return {
    sent: r.started,
    ok: ok.length,
    okBytes,
    perS: perSecond(ok.length, r.elapsedMs),
    mbPerS: round(okBytes / 1e6 / (r.elapsedMs / 1000), 2),
    ms: latency(ok.map((x) => x.ms)),
    spanS: round(r.elapsedMs / 1000, 1),
    errors: r.errors,
    results: ok,
  };
}

function benchTenant(): TenantConfigInput {
  return {
    tenant: { id: TENANT, name: "Email bench" },
    settings: { offerTimeoutSeconds: 600, tokenTtlSeconds: 8 * 3600, afterWorkSeconds: 0, notReadyReasons: ["break"] },
    skills: [],
    agents: [
      // Nobody logs in: stored and queued is what the bench counts.
      ...Array.from({ length: 5 }, (_, i) => ({ id: `e${i}`, login: `e${i}`, fullName: `Email Agent ${i}`, role: "agent" as const, password: PASSWORD, skills: {}, capacity: { email: 5 } })),
      { id: "sup", login: "sup", fullName: "Bench Supervisor", role: "supervisor" as const, password: PASSWORD, skills: {}, capacity: {} },
    ],
    queues: [{ name: "inbox", media: ["email" as const], steps: [{ type: "route" as const, targets: [{ skills: "*" }] }] }],
    workflows: [{ name: "email", queue: "inbox" }],
    mailboxes: [{ address: MAILBOX, workflow: "email" }],
  };
}

const compatDate = (path: string) => /^compatibility_date\s*=\s*"([^"]+)"/m.exec(readFileSync(path, "utf8"))?.[1] ?? "unknown";

/** postal-mime in this process, one message at a time: what parsing costs without HTTP or workerd. */
async function nodeParse(kinds: Kind[], n: number): Promise<{ perS: number; ms: Latency; mbPerS: number }> {
  for (const k of kinds) await PostalMime.parse(k.raw);
  const each: number[] = [];
  let bytes = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const k = kinds[i % kinds.length]!;
    const s = performance.now();
    await PostalMime.parse(k.raw);
    each.push(performance.now() - s);
    bytes += k.raw.length;
  }
  const ms = performance.now() - t0;
  return { perS: perSecond(n, ms), ms: latency(each), mbPerS: round(bytes / 1e6 / (ms / 1000), 2) };
}

const errText = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 1000);
const count = <T>(xs: T[], key: (x: T) => string) => xs.reduce<Record<string, number>>((m, x) => ((m[key(x)] = (m[key(x)] ?? 0) + 1), m), {});

export async function run(): Promise<BenchResult> {
  const { count: N, concurrency: C, warmup: W, port } = opts;
  const parsePort = port + 2;
  const phases: Record<string, number> = {};
  const cpu: Record<string, CpuUse & { workerd_cpu_ms_per_msg: number }> = {};
  const phase = phaseTimer(phases);
  const profiles: Record<string, ProfileSummary & { ms_per_msg: number; busy_ms_per_msg: number }> = {};
  const profileErrors: string[] = [];
  /** A measured phase of `ops` messages: CPU use by process, and with `profile` V8 profiles of the
   *  Worker's isolate (source-mapped with the bundle in `src`) and of the runtime's D1, R2 and entry isolates. */
  const measured = async <T>(label: string, dev: Dev, ops: number, fn: () => Promise<T>, profile = false, src = w.src): Promise<T> => {
    const stops: { isolate: string; stop: () => Promise<Parameters<typeof summarize>[0]> }[] = [];
    if (profile) {
      try {
        stops.push({ isolate: "worker", stop: await startProfile(dev.inspectorPort) });
      } catch (err) {
        profileErrors.push(`worker: ${errText(err)}`);
      }
      const rt = await runtimeInspector(dev.pid).catch(() => undefined);
      if (!rt) profileErrors.push("workerd's own inspector not found: no D1/R2 profiles");
      for (const t of rt?.targets ?? []) {
        if (!/^(d1:|r2:|core:entry$|queues:queue$)/.test(t.id)) continue;
        try {
          stops.push({ isolate: t.id, stop: await startProfileAt(t.url) });
        } catch (err) {
          profileErrors.push(`${t.id}: ${errText(err)}`);
        }
      }
    }
    const meter = cpuMeter(dev.pid);
    try {
      return await fn();
    } finally {
      const use = meter();
      cpu[label] = { ...use, workerd_cpu_ms_per_msg: round((use.workerd * 1000) / ops, 2) };
      for (const { isolate, stop } of stops) {
        try {
          const p = await stop();
          const file = `${label}-${isolate.replace(/[^a-z0-9]+/gi, "_")}`;
          writeFileSync(`${root}bench/results/email-${file}.cpuprofile`, JSON.stringify(p));
          const sum = summarize(p, isolate === "worker" ? bundleMap(src) : undefined, 30, PROFILE_CLAMP_US);
          profiles[file] = { ...sum, ms_per_msg: round(sum.totalMs / ops, 2), busy_ms_per_msg: round((sum.totalMs * sum.busyPct) / 100 / ops, 2) };
        } catch (err) {
          profileErrors.push(`${isolate}: ${errText(err)}`);
        }
      }
    }
  };

  const runTag = `bench-${Date.now().toString(36)}`;
  const loadBefore = loadavg().map((x) => round(x, 2));
  const kinds = mix();
  if (W < kinds.length) throw new Error(`BENCH_EMAIL_WARMUP (${W}) must be at least the number of kinds (${kinds.length})`);
  const w = workdir();
  const logPath = `${root}bench/results/email-wrangler.log`;
  const parseLogPath = `${root}bench/results/email-parse-only-wrangler.log`;
  const shapeLogPath = `${root}bench/results/email-shape-wrangler.log`;
  let parseDev: Dev | undefined;
  let shapeDev: Dev | undefined;
  let dev: Dev | undefined;

  try {
    await ensurePortsFree(port, port + 1000, parsePort, parsePort + 1000);
    console.log(`  code: ${w.code.ref} at ${w.code.commit.slice(0, 12)}${w.code.dirty.length ? ` with ${w.code.dirty.length} changed file(s)` : ""}, snapshot in ${w.src}`);
    const mixBytes = kinds.reduce((s, k) => s + k.raw.length, 0);

    // ---- 0. postal-mime in Node (context) ----
    const node = await phase(`postal-mime in Node: ${N} messages, one at a time`, () => nodeParse(kinds, N));

    // ---- 1. parse-only through wrangler dev ----
    const pw: Workdir = { dir: join(w.dir, "parse-only"), src: join(w.dir, "parse-only", "src"), state: join(w.dir, "parse-only", "state"), code: w.code };
    mkdirSync(pw.src, { recursive: true });
    mkdirSync(pw.state, { recursive: true });
    for (const f of ["worker.ts", "wrangler.toml"]) cpSync(`${root}bench/parse-only/${f}`, join(pw.src, f));
    symlinkSync(join(root, "node_modules"), join(pw.src, "node_modules"));
    const parseSend = async (k: Kind, i: number, tag: string): Promise<Sent> => {
      const body = payload(k, `${runTag}-${tag}${i}`);
      const a = await post(`${parseDev!.base}/parse`, body, { "content-type": "message/rfc822" });
      if (a.status !== 200) throw new Error(`${k.name}: ${a.status} ${a.body.slice(0, 200)}`);
      const j = JSON.parse(a.body) as { attachments?: unknown };
      if (typeof j.attachments !== "number") throw new Error(`${k.name}: unexpected answer ${a.body.slice(0, 200)}`);
      return { kind: k.name, ms: a.ms, bytes: body.length };
    };
    const parseOnly = await phase(`parse-only Worker: wrangler dev on :${parsePort}, ${W} warm-up, ${N} messages, ${C} in flight`, async () => {
      parseDev = startDev(parsePort, pw, { logPath: parseLogPath, inspectorPort: parsePort + 1000 });
      await waitUpOrBuildError(parseDev);
      const warm = await load(W, C, kinds, (k, i) => parseSend(k, i, "pw"));
      if (warm.errors.length) throw new Error(`parse-only warm-up: ${warm.errors.length} failed; first: ${warm.errors[0]!.error}`);
      await settle(parseDev.pid, { minS: 3, maxS: 30 });
      const r = await measured("parse_only", parseDev, N, () => load(N, C, kinds, (k, i) => parseSend(k, i, "p")), opts.profile);
      if (r.errors.length) throw new Error(`parse-only: ${r.errors.length} of ${N} failed; first: ${r.errors.slice(0, 3).map((e) => `#${e.index} ${e.error}`).join(" | ")}`);
      await parseDev.stop();
      return r;
    });
    const parseTrouble = troubleInLog(parseLogPath);

    // ---- 2. ingest through Parley, and 3. the local email() path ----
    let ingest: Record<string, unknown> = {};
    let ingestRun: Load | undefined;
    let included = kinds;
    let excluded: { kind: string; status: number; body: string }[] = [];
    let localEmail: Record<string, unknown> = { status: null, stored: null };
    let check: Record<string, unknown> = {};
    let trouble: ReturnType<typeof troubleInLog> | undefined;
    let ingestError: string | undefined;
    let warmNoIdAccepted = 0;
    const localId = `${runTag}-local-email@bench.parley.test`;
    const url = () => `${dev!.base}/api/v1/email/inbound?to=${encodeURIComponent(MAILBOX)}`;
    const ingestSend = async (k: Kind, i: number, tag: string): Promise<Sent> => {
      const body = payload(k, `${runTag}-${tag}${i}`);
      const a = await post(url(), body, { authorization: `Bearer ${INGEST_KEY}`, "content-type": "message/rfc822" });
      if (a.status !== 202) throw new Error(`${k.name}: ${a.status} ${a.body.slice(0, 200)}`);
      const j = JSON.parse(a.body) as { interactionId?: string; duplicate?: boolean; state?: string };
      return { kind: k.name, ms: a.ms, bytes: body.length, interactionId: j.interactionId, duplicate: j.duplicate, state: j.state };
    };
    try {
      await phase("D1 migrations and the tenant (5 agents, mailbox → queue inbox)", async () => {
        applyMigrationsIn(w);
        // Loaded late (and so are tokens): a half-edited tree breaks phase 2 only, not the baseline.
        const { loadBigTenant } = await import("./lib/tenant.ts");
        await loadBigTenant(benchTenant(), INGEST_KEY, w);
      });
      dev = startDev(port, w, { logPath, inspectorPort: port + 1000, vars: { BENCH: "1" } });
      await phase(`wrangler dev on :${port} (log: bench/results/email-wrangler.log)`, () => waitUpOrBuildError(dev!));

      await phase(`ingest warm-up: ${W} messages (each kind at least once)`, async () => {
        const r = await pool(W, C, opts.phaseTimeLimitMs, async (i) => {
          const k = kinds[i % kinds.length]!;
          const a = await post(url(), payload(k, `${runTag}-w${i}`), { authorization: `Bearer ${INGEST_KEY}`, "content-type": "message/rfc822" });
          return { kind: k.name, status: a.status, body: a.body.slice(0, 300) };
        });
        const answers = r.results.filter((x) => x !== undefined);
        if (r.errors.length) throw new Error(`ingest warm-up: ${r.errors.length} requests failed; first: ${r.errors[0]!.error}`);
        const first = answers[0];
        if (answers.every((a) => a.status !== 202)) throw new Error(`the ingest accepted none of the warm-up; first answer: ${first?.status} ${first?.body}`);
        // A kind the ingest turns away (a 4xx, say the broken boundary) leaves the measured mix.
        excluded = kinds.flatMap((k) => {
          const a = answers.find((x) => x.kind === k.name && x.status !== 202);
          return a ? [{ kind: k.name, status: a.status, body: a.body }] : [];
        });
        included = kinds.filter((k) => !excluded.some((e) => e.kind === k.name));
        warmNoIdAccepted = answers.filter((a) => a.status === 202 && kinds.find((k) => k.name === a.kind)?.hasId === false).length;
      });
      await phase("settling (wrangler dev quiet)", () => settle(dev!.pid, { minS: 3, maxS: 30 }));
      ingestRun = await phase(`ingest: ${N} messages, ${C} in flight`, () => measured("ingest", dev!, N, () => load(N, C, included, (k, i) => ingestSend(k, i, "m")), opts.profile));
      const okRun = ingestRun;

      // What the objects say: the queue's entered count (its own view, before D1's).
      let stats: Record<string, unknown>;
      try {
        const { issueToken } = await import("../workers/auth/tokens.ts");
        const token = (await issueToken(authSecret(w), { tenant: TENANT, agentId: "sup", role: "supervisor" }, 3600)).token;
        const res = await fetch(`${dev.base}/api/v1/stats`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(60_000) });
        const st = (await res.json()) as { queues?: { queue?: string; entered?: number; waiting?: number; offered?: number }[] };
        const inbox = st.queues?.find((q) => q.queue === "inbox");
        stats = { status: res.status, inbox_entered: inbox?.entered, inbox_waiting: inbox?.waiting, inbox_offered: inbox?.offered };
      } catch (err) {
        stats = { error: errText(err) };
      }

      // ---- 3. the local email() path ----
      await phase("local email() path: one message to /cdn-cgi/handler/email", async () => {
        const raw = setMessageId(plainAscii({ to: MAILBOX, from: CUSTOMER }).raw, localId);
        try {
          const a = await post(`${dev!.base}/cdn-cgi/handler/email?from=${encodeURIComponent(CUSTOMER)}&to=${encodeURIComponent(MAILBOX)}`, raw, { "content-type": "message/rfc822" });
          localEmail = { status: a.status, stored: null, answer: a.body.slice(0, 300) };
        } catch (err) {
          localEmail = { status: null, stored: null, error: errText(err) };
        }
      });

      // Give the objects' outboxes a moment to reach D1 before stopping.
      await sleep(2_000);
      await dev.stop();
      trouble = troubleInLog(logPath);

      // ---- D1: every accepted message stored once, each in its own interaction ----
      const d1 = (sql: string): Record<string, unknown>[] | { error: string } => {
        try {
          return queryD1<Record<string, unknown>>(w, sql);
        } catch (err) {
          return { error: errText(err).slice(0, 300) };
        }
      };
      const ids = okRun.results.map((x) => x.interactionId).filter((x): x is string => typeof x === "string");
      // The kind without a Message-ID is stored under the hash of its bytes: counted apart.
      const noId = (kind: string) => kinds.find((k) => k.name === kind)?.hasId === false;
      const noIdAccepted = okRun.results.filter((x) => noId(x.kind)).length + warmNoIdAccepted;
      const withId = okRun.ok - okRun.results.filter((x) => noId(x.kind)).length;
      // The measured sends with a Message-ID (stored without <>): one row each, each its own interaction.
      const measuredRows = d1(`SELECT COUNT(*) AS rows, COUNT(DISTINCT message_id) AS message_ids, COUNT(DISTINCT interaction_id) AS interactions FROM emails WHERE tenant_id = '${TENANT}' AND direction = 'inbound' AND message_id LIKE '${runTag}-m%'`);
      const m0 = Array.isArray(measuredRows) ? measuredRows[0] : undefined;
      check = {
        stats,
        interactions_email_by_state: d1(`SELECT state, COUNT(*) AS n FROM interactions WHERE tenant_id = '${TENANT}' AND media = 'email' GROUP BY state`),
        measured_with_message_id: { accepted: withId, stored: measuredRows },
        without_message_id: { accepted_incl_warmup: noIdAccepted, stored: d1(`SELECT COUNT(*) AS n FROM emails WHERE tenant_id = '${TENANT}' AND direction = 'inbound' AND message_id LIKE 'sha256.%'`) },
        duplicate_message_ids: d1(`SELECT message_id, COUNT(*) AS n FROM emails WHERE tenant_id = '${TENANT}' AND direction = 'inbound' GROUP BY message_id HAVING n > 1 LIMIT 5`),
        answered_interactions: { ids: ids.length, distinct: new Set(ids).size },
        all_stored_once: m0 ? m0.rows === withId && m0.message_ids === withId && m0.interactions === withId && new Set(ids).size === okRun.ok : null,
      };
      const local = d1(`SELECT interaction_id FROM emails WHERE tenant_id = '${TENANT}' AND message_id = '${localId}'`);
      localEmail.stored = Array.isArray(local) ? local.length === 1 : null;
      if (!Array.isArray(local)) localEmail.stored_error = local.error;

      const dupFlagged = okRun.results.filter((x) => x.duplicate === true).length;
      ingest = {
        accepted: okRun.ok,
        sent: okRun.sent,
        errors: okRun.errors.length,
        error_samples: okRun.errors.slice(0, 5),
        states: count(okRun.results, (x) => x.state ?? "(none)"),
        answered_duplicate: dupFlagged,
        distinct_interactions: new Set(ids).size,
        by_kind_ms_p50: byKindP50(okRun.results),
        mb_per_s: okRun.mbPerS,
        span_s: okRun.spanS,
      };
    } catch (err) {
      ingestError = errText(err);
      console.log(`\n  ingest phase failed: ${ingestError.split("\n")[0]}`);
      if (dev) {
        await dev.stop();
        trouble = troubleInLog(logPath);
      }
    }

    // ---- 4. the same shape, without Parley: the ingest's mix ----
    let shape: Load | undefined;
    let shapeError: string | undefined;
    let shapeTrouble: ReturnType<typeof troubleInLog> | undefined;
    try {
      const sw = baselineWorkdir(w, "shape-email");
      shape = await phase(`same-shape Worker: wrangler dev on :${parsePort}, ${W} warm-up, ${N} messages (${included.length} kinds), ${C} in flight`, async () => {
        shapeDev = startDev(parsePort, sw, { logPath: shapeLogPath, inspectorPort: parsePort + 1000 });
        const d = shapeDev;
        await waitUpOrBuildError(d);
        const shapeSend = async (k: Kind, i: number, tag: string): Promise<Sent> => {
          const body = payload(k, `${runTag}-${tag}${i}`);
          const a = await post(`${d.base}/api/v1/email/inbound`, body, { "content-type": "message/rfc822" });
          if (a.status !== 202) throw new Error(`${k.name}: ${a.status} ${a.body.slice(0, 200)}`);
          const j = JSON.parse(a.body) as { interactionId?: string; state?: string };
          if (typeof j.interactionId !== "string") throw new Error(`${k.name}: unexpected answer ${a.body.slice(0, 200)}`);
          return { kind: k.name, ms: a.ms, bytes: body.length, interactionId: j.interactionId, state: j.state };
        };
        const warm = await load(W, C, included, (k, i) => shapeSend(k, i, "sw"));
        if (warm.errors.length) throw new Error(`same-shape warm-up: ${warm.errors.length} failed; first: ${warm.errors[0]!.error}`);
        await settle(d.pid, { minS: 3, maxS: 30 });
        const r = await measured("same_shape", d, N, () => load(N, C, included, (k, i) => shapeSend(k, i, "s")), opts.profile, sw.src);
        if (r.errors.length) throw new Error(`same shape: ${r.errors.length} of ${N} failed; first: ${r.errors.slice(0, 3).map((e) => `#${e.index} ${e.error}`).join(" | ")}`);
        await d.stop();
        return r;
      });
    } catch (err) {
      shapeError = errText(err);
      console.log(`\n  same-shape phase failed: ${shapeError.split("\n")[0]}`);
    } finally {
      if (shapeDev) await shapeDev.stop();
      shapeTrouble = troubleInLog(shapeLogPath);
    }

    // ---- figures ----
    const ingestPerS = ingestRun ? ingestRun.perS : null;
    const r = ingestPerS !== null ? ratio(ingestPerS, parseOnly.perS) : null;
    const sameShapeRatio = ingestRun && shape ? { per_s: ratio(ingestRun.perS, shape.perS), p99: ratio(ingestRun.ms.p99, shape.ms.p99) } : null;
    const busy = Object.entries(cpu).filter(([, c]) => c.cores_used.other > 0.2).map(([label, c]) => `${label} ${c.cores_used.other}`);
    // D1 round trips of the operations this bench exercises (issue 17), on a dev of their own.
    const tripOps: TripOp[] = ["email_inbound", "email_routing", "reply_send"];
    const trips: TripsResult | { error: string } = await phase(`D1 round trips: ${tripOps.join(", ")}, one at a time`, () => tripsFor(tripOps, opts.port, `${root}bench/results/email-trips-wrangler.log`)).catch((e: unknown) => ({ error: (e instanceof Error ? e.message : String(e)).slice(0, 500) }));
    const result = {
      d1_round_trips: "d1_round_trips" in trips ? trips.d1_round_trips : null,
      d1_round_trips_by_place: "by_place" in trips ? trips.by_place : trips,
      bench: name,
      date: new Date().toISOString(),
      ingest_per_s: ingestPerS,
      parse_only_per_s: parseOnly.perS,
      parse_only_in_node_per_s: node.perS,
      ingest_at_least_half_parse_only: r === null ? null : r >= 0.5,
      ingest_over_parse_only: r,
      // The same platform operations without Parley (bench/shape-email): the ingest's mix, N and C.
      same_shape: shape
        ? {
            per_s: shape.perS,
            p99_ms: shape.ms.p99,
            p50_ms: shape.ms.p50,
            ms: shape.ms,
            mb_per_s: shape.mbPerS,
            pipeline: "POST raw message → Worker → postal-mime parse → R2 put of the raw bytes → one D1 batch (2 INSERTs) → one Durable Object RPC → 202",
            accepted: shape.ok,
            sent: shape.sent,
            kinds: included.length,
            span_s: shape.spanS,
            by_kind_ms_p50: byKindP50(shape.results),
          }
        : { per_s: null, p99_ms: null, error: shapeError ?? null },
      ratio_same_shape: sameShapeRatio ?? { per_s: null, p99: null },
      ingest_at_least_0_6x_same_shape: sameShapeRatio ? sameShapeRatio.per_s >= 0.6 : null,
      ingest_ms: ingestRun?.ms ?? null,
      parse_only_ms: parseOnly.ms,
      parse_only_in_node_ms: node.ms,
      mb_per_s: { ingest: ingestRun?.mbPerS ?? null, parse_only: parseOnly.mbPerS, parse_only_in_node: node.mbPerS },
      ...(ingestError ? { ingest_error: ingestError } : {}),
      concurrency: C,
      messages: N,
      warmup: W,
      corpus: {
        description: "test/fixtures/email/corpus.ts (plain, alternative, HTML only, base64, quoted-printable, RFC 2047, ISO-8859-1, ISO-2022-JP, RFC 2231 names, inline image, PDF, forwarded message/rfc822 inline and attached, broken boundaries, no Message-ID, replies, Outlook reply, auto-reply, list mail, bounce) plus attachment messages of ~200 KB and ~1 MB; send i is kind i mod K; each send has a unique Message-ID (the one without keeps none and is made unique by a header) and unique thread references",
        kinds: kinds.map((k) => ({ name: k.name, bytes: k.raw.length })),
        bytes_per_cycle: mixBytes,
        mean_bytes: Math.round(mixBytes / kinds.length),
        excluded_from_ingest: excluded,
        ingest_kinds: included.length,
      },
      parse_only: { sent: parseOnly.sent, ok: parseOnly.ok, span_s: parseOnly.spanS, by_kind_ms_p50: byKindP50(parseOnly.results) },
      ingest,
      ingest_check: check,
      local_email_handler: localEmail,
      phases_s: phases,
      cpu,
      other_load_during: busy,
      ...(opts.profile ? { profiled: true, profiles, profile_errors: profileErrors } : {}),
      wrangler_log: { path: "bench/results/email-wrangler.log", ...(trouble ?? {}) },
      parse_only_wrangler_log: { path: "bench/results/email-parse-only-wrangler.log", ...parseTrouble },
      same_shape_wrangler_log: { path: "bench/results/email-shape-wrangler.log", ...(shapeTrouble ?? {}) },
      code: w.code,
      compatibility_date: { parley: compatDate(`${root}wrangler.toml`), parse_only: compatDate(`${root}bench/parse-only/wrangler.toml`), same_shape: compatDate(`${root}bench/shape-email/wrangler.toml`) },
      load_average: { before: loadBefore, after: loadavg().map((x) => round(x, 2)) },
      environment: { node: process.version, wrangler: version("wrangler"), postal_mime: version("postal-mime"), cpus: cpus().length, memory_gb: round(totalmem() / 2 ** 30, 1), through: "wrangler dev (local workerd), client on the same machine" },
    };
    const yes = (b: boolean | null) => (b === null ? "n/a" : b ? "met" : "MISSED");
    const summary = [
      `parse-only Worker:  ${parseOnly.perS} msg/s   p50 ${parseOnly.ms.p50} ms   p99 ${parseOnly.ms.p99} ms   (C=${C}, ${parseOnly.mbPerS} MB/s; workerd ${cpu.parse_only?.workerd_cpu_ms_per_msg} ms CPU/msg)`,
      ingestRun
        ? `ingest:             ${ingestRun.perS} msg/s   p50 ${ingestRun.ms.p50} ms   p99 ${ingestRun.ms.p99} ms   (${ingestRun.ok}/${N} accepted, ${ingestRun.errors.length} errors; workerd ${cpu.ingest?.workerd_cpu_ms_per_msg} ms CPU/msg)`
        : `ingest:             FAILED: ${ingestError?.split("\n")[0]?.slice(0, 300)}`,
      shape
        ? `same shape:         ${shape.perS} msg/s   p50 ${shape.ms.p50} ms   p99 ${shape.ms.p99} ms   (parse, R2 put, D1 batch, object RPC; ${shape.ok}/${N} accepted; workerd ${cpu.same_shape?.workerd_cpu_ms_per_msg} ms CPU/msg)`
        : `same shape:         FAILED: ${shapeError?.split("\n")[0]?.slice(0, 300)}`,
      `postal-mime in Node (context): ${node.perS} msg/s (${node.mbPerS} MB/s), p50 ${node.ms.p50} ms p99 ${node.ms.p99} ms`,
      `target ingest/s ≥ 0.5× parse-only/s:  ${yes(result.ingest_at_least_half_parse_only)} (ratio ${r ?? "n/a"})`,
      `target ingest/s ≥ 0.6× same shape/s:  ${yes(result.ingest_at_least_0_6x_same_shape)} (ratio ${sameShapeRatio?.per_s ?? "n/a"}; p99 ratio ${sameShapeRatio?.p99 ?? "n/a"})`,
      `mix: ${kinds.length} kinds, mean ${result.corpus.mean_bytes} bytes${excluded.length ? `; left out of the ingest: ${excluded.map((e) => `${e.kind} (${e.status})`).join(", ")}` : ""}`,
      `local email() path: status ${String(localEmail.status)}, stored ${String(localEmail.stored)}`,
      ...(ingestRun ? [`stored once each, own interaction: ${String(check.all_stored_once)}; measured ${JSON.stringify(check.measured_with_message_id)}; stats ${JSON.stringify(check.stats)}`] : []),
      ...(busy.length ? [`WARNING: other processes used CPU during measured phases (cores: ${busy.join(", ")}): compare with care, or run again`] : []),
      ...Object.entries(cpu).map(([label, c]) => `CPU by process (${label}, ${c.wall_s} s): ${c.by_process.slice(0, 4).map((p) => `${p.role} ${p.cpu_s} s${p.threads ? ` [${Object.entries(p.threads).map(([t, s]) => `${t} ${s}`).join(", ")}]` : ""}`).join("; ")}`),
      ...Object.entries(profiles).flatMap(([label, p]) => [
        `profile ${label}: ${p.busy_ms_per_msg} ms/msg busy of ${p.ms_per_msg} ms/msg in the isolate (${p.busySamples}/${p.samples} samples busy; raw: bench/results/email-${label}.cpuprofile); by file: ${p.byFile.slice(0, 8).map((f) => `${f.file} ${f.pct}%`).join(", ")}`,
        ...p.byCaller.slice(0, 12).map((f) => `    ${String(f.pct).padStart(5)}%  ${f.fn}`),
      ]),
      ...(profileErrors.length ? [`profile errors: ${profileErrors.join(" | ")}`] : []),
      ...(trouble ? [`wrangler dev log: ${trouble.errors.lines} error line(s) (${trouble.errors.distinct} kinds), ${trouble.warnings.lines} warning(s)`, ...trouble.errors.samples.slice(0, 3).map((l) => `    ${l.slice(0, 240)}`)] : []),
    ];
    summary.push(...("d1_round_trips" in trips ? tripsSummary(tripOps, trips) : [`D1 round trips: ${trips.error}`]));
    return { result, summary, file: opts.profile ? "email-profiled" : undefined };
  } finally {
    if (parseDev) await parseDev.stop();
    if (shapeDev) await shapeDev.stop();
    if (dev) await dev.stop();
    removeWorkdir(w);
  }
}

function byKindP50(results: Sent[]): Record<string, number> {
  const by = new Map<string, number[]>();
  for (const x of results) {
    const l = by.get(x.kind);
    if (l) l.push(x.ms);
    else by.set(x.kind, [x.ms]);
  }
  return Object.fromEntries([...by].map(([k, ms]) => [k, latency(ms).p50]));
}

function version(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(`${root}node_modules/${pkg}/package.json`, "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}
