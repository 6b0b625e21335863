// Hostile-input campaign: worst-case inputs (bench/hostile/corpus.ts) through every public door of a
// local wrangler dev, one at a time, while GET /api/health is polled; then every input the server
// acknowledged is looked up where it must be stored.
//
//   1. A snapshot (fresh state) with the tenant "hostile" (bench/lib/doors.ts: mailbox, form, chat,
//      callbacks, a Twilio number, a generic number that also takes MM7) and its credentials.
//   2. Baseline: health polled open-loop (every 100 ms) with nothing else going on.
//   3. The corpus, input by input, health still polled. workerd's CPU is read from /proc around each
//      input (until its answer and a short tail); the runtime process's share (the Worker, its objects,
//      D1, R2: lib/cpu.ts) minus the health polling's own rate from the baseline is the input's CPU.
//   4. Acknowledged inputs (2xx, or accepted by email()): chat messages counted through the chat's API,
//      then, wrangler dev stopped, emails, interactions and SMS counted in D1 (lib/stored.ts).
//
// Targets (issue 12): no request over 1 s of CPU, health p99 ≤ 3× baseline p99, 0 × 5xx, 0 lost.
// Flags: --size=<0..1> scales the corpus (default 1), --timeout=<s> per request (30), --baseline=<s>
// (15), --only=<door,door>; or BENCH_HOSTILE_SIZE, BENCH_HOSTILE_TIMEOUT, BENCH_HOSTILE_BASELINE,
// BENCH_HOSTILE_ONLY. BENCH_PORT as everywhere.
import { randomBytes } from "node:crypto";
import { cpus, loadavg, totalmem } from "node:os";
import { root } from "../scripts/local.ts";
import { corpus, DEV_SERVER_5XX, type Check, type Ctx, type Input, type Outcome } from "./hostile/corpus.ts";
import { cpuMeter, settle, type CpuUse } from "./lib/cpu.ts";
import { applyMigrationsIn, ensurePortsFree, removeWorkdir, startDev, troubleInLog, waitUpOrBuildError, workdir, type Dev } from "./lib/dev.ts";
import { agentReady, doorsTenant, login, signingSecrets, publicOrigin, send, tenantKeys } from "./lib/doors.ts";
import { envInt } from "./lib/env.ts";
import { listFlag, numFlag } from "./lib/flags.ts";
import { nowMs, pollHealth, type HealthSample } from "./lib/health.ts";
import { phaseTimer } from "./lib/phase.ts";
import { sleep } from "./lib/pool.ts";
import { latency, ratio, round } from "./lib/stats.ts";
import { chatMessageCounts, countStored, type StoredKey } from "./lib/stored.ts";
import type { BenchResult } from "./lib/types.ts";

export const name = "hostile";
export const description = "worst-case inputs through every public door, one at a time, with GET /api/health polled: CPU per request, health latency vs. its baseline, 5xx, acknowledged inputs lost";

const opts = {
  size: Math.min(1, numFlag("size", "BENCH_HOSTILE_SIZE", 1)),
  timeoutMs: numFlag("timeout", "BENCH_HOSTILE_TIMEOUT", 30) * 1000,
  baselineS: numFlag("baseline", "BENCH_HOSTILE_BASELINE", 15),
  only: listFlag("only", "BENCH_HOSTILE_ONLY"),
  pollEveryMs: 100,
  /** After an answer, CPU is still counted this long (work the Worker left running). */
  tailMs: 150,
  /** The whole corpus phase stops starting inputs after this. */
  corpusLimitMs: 8 * 60_000,
  port: envInt("BENCH_PORT", 8801),
};

const TARGET_CPU_MS = 1000;

interface Row {
  door: string;
  input: string;
  requests: number;
  statuses: Record<string, number>;
  /** Runtime workerd CPU for the input, the health polling's rate taken out; per request for bursts. */
  cpu_ms: number;
  cpu_ms_per_request: number;
  proxy_cpu_ms: number;
  wall_ms: number;
  max_answer_ms: number;
  mb_sent: number;
  health_max_ms: number | null;
  acknowledged: number;
  note?: string;
}

const errText = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 1000);
const is5xx = (k: string) => /^5\d\d$/.test(k);
const noAnswer = (k: string) => k.startsWith("no answer");

function runtimeAndProxy(u: CpuUse): { runtime: number; proxy: number } {
  let runtime = 0;
  let proxy = 0;
  for (const p of u.by_process) {
    if (p.role.startsWith("workerd runtime")) runtime += p.cpu_s;
    else if (p.role.startsWith("workerd proxy")) proxy += p.cpu_s;
  }
  return { runtime, proxy };
}

const healthFig = (all: HealthSample[]) => {
  const s = all.filter((x) => x.ms >= 0);
  const l = latency(s.map((x) => x.ms));
  return { p50: l.p50, p99: l.p99, max: l.max, n: l.n, failed: s.filter((x) => x.status !== 200).length, skipped_while_200_waited: all.length - s.length };
};

/** The OpenAPI document's JSON-bodied routes, minus those the door inputs already cover. */
async function jsonRoutes(base: string): Promise<Ctx["jsonRoutes"]> {
  const a = await send(`${base}/api/openapi.json`, { timeoutMs: 60_000, maxBodyBytes: 16 * 1024 * 1024 });
  if (a.status !== 200) throw new Error(`GET /api/openapi.json: ${a.status}`);
  const doc = JSON.parse(a.body) as { paths: Record<string, Record<string, { requestBody?: unknown; "x-access"?: string }>> };
  const covered = new Set(["/api/v1/auth/login", "/api/v1/callbacks", "/api/v1/chat/{tenant}/sessions"]);
  const out: Ctx["jsonRoutes"] = [];
  for (const [path, ops] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(ops)) if (op.requestBody && !covered.has(path)) out.push({ method, path, access: op["x-access"] ?? "public" });
  return out;
}

const storedKey = (c: Exclude<Check, { kind: "chat_msgs" }>): StoredKey =>
  c.kind === "email" ? { kind: "email", id: c.messageId, alt: `sha256.${c.sha256}@parley` } : c.kind === "external" ? { kind: "external", id: c.externalId } : { kind: "sms", id: c.providerId };

export async function run(): Promise<BenchResult> {
  const { port } = opts;
  const phases: Record<string, number> = {};
  const phase = phaseTimer(phases);
  const loadBefore = loadavg().map((x) => round(x, 2));
  const w = workdir();
  const logPath = `${root}bench/results/hostile-wrangler.log`;
  const keys = tenantKeys();
  const runTag = randomBytes(4).toString("hex");
  let dev: Dev | undefined;
  let poller: ReturnType<typeof pollHealth> | undefined;
  try {
    await ensurePortsFree(port, port + 1000);
    console.log(`  code: ${w.code.ref} at ${w.code.commit.slice(0, 12)}${w.code.dirty.length ? ` with ${w.code.dirty.length} changed file(s)` : ""}; size ${opts.size}, timeout ${opts.timeoutMs / 1000} s`);
    await phase("D1 migrations, the tenant 'hostile', signing secrets", async () => {
      applyMigrationsIn(w);
      const { loadBigTenant } = await import("./lib/tenant.ts");
      await loadBigTenant(doorsTenant(), keys.ingest, w, signingSecrets());
    });
    dev = startDev(port, w, { logPath, inspectorPort: port + 1000, vars: { BENCH: "1" } });
    const d = dev;
    await phase(`wrangler dev on :${port} (log: bench/results/hostile-wrangler.log)`, () => waitUpOrBuildError(d));
    const tokens = { agent: await login(d.base, "agent"), supervisor: await login(d.base, "supervisor"), admin: await login(d.base, "admin") };
    await agentReady(d.base, tokens.agent);
    const ctx: Ctx = { base: d.base, signedOrigin: publicOrigin(w), run: runTag, size: opts.size, timeoutMs: opts.timeoutMs, keys, tokens, jsonRoutes: await jsonRoutes(d.base) };
    let inputs: Input[] = corpus(ctx);
    if (opts.only.length) inputs = inputs.filter((i) => opts.only.some((o) => i.door === o || i.door.startsWith(o)));

    // ---- baseline ----
    await phase("settling (wrangler dev quiet)", () => settle(d.pid, { minS: 3, maxS: 30 }));
    poller = pollHealth(d.base, opts.pollEveryMs, opts.timeoutMs * 2);
    const p = poller;
    const base = await phase(`baseline: health polled every ${opts.pollEveryMs} ms for ${opts.baselineS} s, nothing else`, async () => {
      const t0 = nowMs();
      const meter = cpuMeter(d.pid);
      await sleep(opts.baselineS * 1000);
      const use = meter();
      return { samples: p.between(t0, nowMs()), use, rate: runtimeAndProxy(use).runtime / use.wall_s };
    });
    const baselineHealth = healthFig(base.samples);
    console.log(`  baseline health p50 ${baselineHealth.p50} ms, p99 ${baselineHealth.p99} ms (n ${baselineHealth.n}); runtime CPU while polling ${round(base.rate * 1000, 1)} ms/s`);

    // ---- the corpus ----
    const rows: Row[] = [];
    const checks: { row: number; check: Check }[] = [];
    let unverifiable = 0;
    const hostileFrom = nowMs();
    await phase(`hostile: ${inputs.length} inputs, one at a time`, async () => {
      const end = performance.now() + opts.corpusLimitMs;
      for (const input of inputs) {
        if (performance.now() > end) {
          console.log(`\n  corpus time limit reached: ${inputs.length - rows.length} inputs not sent`);
          break;
        }
        if (d.exitCode() !== undefined) throw new Error(`wrangler dev exited (${d.exitCode()}); see ${logPath}`);
        const t0 = nowMs();
        const meter = cpuMeter(d.pid);
        let out: Outcome;
        try {
          out = await input.run(ctx);
        } catch (err) {
          out = { requests: 1, statuses: { [`no answer (bench error: ${errText(err).slice(0, 60)})`]: 1 }, maxMs: 0, bytes: 0, checks: [], unverifiable: 0, note: errText(err) };
        }
        await sleep(opts.tailMs);
        const use = meter();
        const t1 = nowMs();
        const { runtime, proxy } = runtimeAndProxy(use);
        const cpuMs = Math.max(0, (runtime - base.rate * use.wall_s) * 1000);
        const health = p.between(t0, t1);
        const row: Row = {
          door: input.door, input: input.name, requests: out.requests, statuses: out.statuses,
          cpu_ms: round(cpuMs, 1), cpu_ms_per_request: round(cpuMs / Math.max(1, out.requests), 1), proxy_cpu_ms: round(proxy * 1000, 1),
          wall_ms: round(t1 - t0, 1), max_answer_ms: round(out.maxMs, 1), mb_sent: round(out.bytes / 2 ** 20, 2),
          health_max_ms: health.some((h) => h.ms >= 0) ? round(Math.max(...health.map((h) => h.ms)), 1) : null, acknowledged: out.checks.length + out.unverifiable,
          ...(out.note ? { note: out.note.slice(0, 300) } : {}),
        };
        rows.push(row);
        for (const c of out.checks) checks.push({ row: rows.length - 1, check: c });
        unverifiable += out.unverifiable;
        const flag = row.cpu_ms_per_request > TARGET_CPU_MS || Object.keys(row.statuses).some((k) => is5xx(k) || noAnswer(k)) ? " !!" : "";
        process.stdout.write(`\n    ${row.door.padEnd(13)} ${row.input.slice(0, 48).padEnd(48)} ${JSON.stringify(row.statuses).slice(0, 40).padEnd(40)} cpu ${String(row.cpu_ms).padStart(8)} ms  wall ${String(Math.round(row.wall_ms)).padStart(6)} ms${flag}`);
        // Whatever an input left running (a time-out leaves the Worker busy) must not be charged to the next.
        if (row.wall_ms > 3_000 || flag) await settle(d.pid, { minS: 1, maxS: Math.max(30, opts.timeoutMs / 1000), quietS: 1, cores: 0.15 });
      }
      process.stdout.write("\n  ");
    });
    const hostileTo = nowMs();
    await poller.stop();
    poller = undefined;
    const underLoad = healthFig(p.between(hostileFrom, hostileTo));

    // ---- lost? chat messages through the API while it runs, the rest in D1 once stopped ----
    const chatChecks = checks.filter((c): c is { row: number; check: Extract<Check, { kind: "chat_msgs" }> } => c.check.kind === "chat_msgs");
    const missing: { door: string; input: string; what: string }[] = [];
    const doubled: { door: string; input: string; what: string; copies: number }[] = [];
    const checkErrors: string[] = [];
    /** Stored, but under the digest of its bytes: its Message-ID was not read. */
    const withoutId: { door: string; input: string; what: string }[] = [];
    let checked = 0;
    for (const { row, check } of chatChecks) {
      const r = await chatMessageCounts(d.base, check.chatId, check.token);
      if (r.error) checkErrors.push(`chat ${check.chatId}: ${r.error}`);
      for (const id of check.clientIds) {
        checked++;
        const n = r.counts.get(id) ?? 0;
        if (n === 0) missing.push({ door: rows[row]!.door, input: rows[row]!.input, what: `chat message ${id}` });
        if (n > 1) doubled.push({ door: rows[row]!.door, input: rows[row]!.input, what: `chat message ${id}`, copies: n });
      }
    }
    await sleep(2_000);
    await d.stop();
    const trouble = troubleInLog(logPath);
    const dbChecks = checks.filter((c): c is { row: number; check: Exclude<Check, { kind: "chat_msgs" }> } => c.check.kind !== "chat_msgs");
    const stored = await phase(`stored? ${dbChecks.length} acknowledged inputs looked up in D1`, async () => countStored(w, dbChecks.map((c) => storedKey(c.check))));
    if (stored.error) checkErrors.push(`D1: ${stored.error}`);
    const seen = new Set<string>();
    for (const { row, check } of dbChecks) {
      const k = storedKey(check);
      const key = `${k.kind}:${k.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      checked++;
      const n = stored.counts.get(key) ?? 0;
      if (n === 0) missing.push({ door: rows[row]!.door, input: rows[row]!.input, what: key });
      if (n > 1) doubled.push({ door: rows[row]!.door, input: rows[row]!.input, what: key, copies: n });
      if (stored.byAlt.has(key)) withoutId.push({ door: rows[row]!.door, input: rows[row]!.input, what: key });
    }

    // ---- figures ----
    const worst = rows.reduce<Row | undefined>((m, r) => (!m || r.cpu_ms_per_request > m.cpu_ms_per_request ? r : m), undefined);
    const status5xx = rows.reduce((s, r) => s + Object.entries(r.statuses).filter(([k]) => is5xx(k)).reduce((a, [, v]) => a + v, 0), 0);
    const devServer5xx = rows.reduce((s, r) => s + (r.statuses[DEV_SERVER_5XX] ?? 0), 0);
    const noAnswers = rows.reduce((s, r) => s + Object.entries(r.statuses).filter(([k]) => noAnswer(k)).reduce((a, [, v]) => a + v, 0), 0);
    const doors = [...new Set(rows.map((r) => r.door))].map((door) => {
      const rs = rows.filter((r) => r.door === door);
      const statuses: Record<string, number> = {};
      for (const r of rs) for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
      const top = rs.reduce((m, r) => (r.cpu_ms_per_request > m.cpu_ms_per_request ? r : m));
      const hs = rs.map((r) => r.health_max_ms ?? 0);
      return {
        door, inputs: rs.length, requests: rs.reduce((s, r) => s + r.requests, 0), statuses,
        max_cpu_ms_per_request: top.cpu_ms_per_request, worst_input: top.input, cpu_ms_total: round(rs.reduce((s, r) => s + r.cpu_ms, 0), 1),
        health_max_ms: round(Math.max(...hs), 1), acknowledged: rs.reduce((s, r) => s + r.acknowledged, 0),
        lost: missing.filter((m) => m.door === door).length, status_5xx: Object.entries(statuses).filter(([k]) => is5xx(k)).reduce((a, [, v]) => a + v, 0),
      };
    });
    const healthRatio = ratio(underLoad.p99, baselineHealth.p99);
    const targets = {
      no_request_over_1s_cpu: (worst?.cpu_ms_per_request ?? 0) <= TARGET_CPU_MS,
      health_p99_within_3x_baseline: healthRatio <= 3,
      health_p99_ratio: healthRatio,
      no_5xx: status5xx === 0,
      none_lost: missing.length === 0,
      every_request_answered: noAnswers === 0,
    };
    const result = {
      max_cpu_ms_per_request: worst?.cpu_ms_per_request ?? null,
      worst_door: worst ? `${worst.door}: ${worst.input}` : null,
      health_ms: { p50: underLoad.p50, p99: underLoad.p99 },
      baseline_health_ms: { p50: baselineHealth.p50, p99: baselineHealth.p99 },
      lost: missing.length,
      status_5xx: status5xx,
      dev_server_5xx: devServer5xx,
      detail: {
        bench: name,
        date: new Date().toISOString(),
        targets,
        settings: { size: opts.size, request_timeout_s: opts.timeoutMs / 1000, baseline_s: opts.baselineS, health_every_ms: opts.pollEveryMs, cpu_tail_ms: opts.tailMs, only: opts.only },
        cpu_note: "cpu_ms: CPU of wrangler dev's runtime workerd (the Worker, its Durable Objects, local D1 and R2) from /proc, from just before an input until its answer + cpu_tail_ms, minus the baseline's rate (health polling); one input at a time. 10 ms resolution. Bursts (duplicates, 100 logins, socket floods) divide by their requests.",
        no_answer: noAnswers,
        health: { under_load: underLoad, baseline: { ...baselineHealth, runtime_cpu_ms_per_s: round(base.rate * 1000, 1) } },
        doors,
        inputs: rows,
        stored_check: { acknowledged_checked: checked, acknowledged_unverifiable: unverifiable, missing, doubled, stored_without_message_id: withoutId, errors: checkErrors },
        json_routes: ctx.jsonRoutes.map((r) => `${r.method.toUpperCase()} ${r.path} (${r.access})`),
        phases_s: phases,
        wrangler_log: { path: "bench/results/hostile-wrangler.log", ...trouble },
        code: w.code,
        load_average: { before: loadBefore, after: loadavg().map((x) => round(x, 2)) },
        machine: { node: process.version, cpus: cpus().length, cpu_model: cpus()[0]?.model ?? "unknown", memory_gb: round(totalmem() / 2 ** 30, 1) },
      },
    };
    const yes = (b: boolean) => (b ? "met" : "MISSED");
    const pad = (s: string | number, k: number) => String(s).slice(0, k).padEnd(k);
    const table = [
      `${pad("door", 14)}${pad("inputs", 7)}${pad("reqs", 7)}${pad("max CPU ms/req", 15)}${pad("health max ms", 14)}${pad("ack", 5)}${pad("lost", 5)}${pad("5xx", 5)}statuses`,
      ...doors.map((x) => `${pad(x.door, 14)}${pad(x.inputs, 7)}${pad(x.requests, 7)}${pad(x.max_cpu_ms_per_request, 15)}${pad(x.health_max_ms, 14)}${pad(x.acknowledged, 5)}${pad(x.lost, 5)}${pad(x.status_5xx, 5)}${JSON.stringify(x.statuses).slice(0, 90)}`),
    ];
    const summary = [
      ...table,
      `max CPU per request: ${result.max_cpu_ms_per_request} ms (${result.worst_door}); target ≤ ${TARGET_CPU_MS} ms: ${yes(targets.no_request_over_1s_cpu)}`,
      `health p50/p99: ${underLoad.p50}/${underLoad.p99} ms under hostile load vs. ${baselineHealth.p50}/${baselineHealth.p99} ms baseline (ratio p99 ${healthRatio}; max ${underLoad.max} ms; ${underLoad.failed} failed${underLoad.skipped_while_200_waited ? `; ${underLoad.skipped_while_200_waited} ticks skipped while 200 polls waited` : ""}): ${yes(targets.health_p99_within_3x_baseline)}`,
      `5xx: ${status5xx} (${yes(targets.no_5xx)}); 5xx made by wrangler dev's own proxy or email door, not the Worker: ${devServer5xx}; no answer within ${opts.timeoutMs / 1000} s: ${noAnswers}; lost: ${missing.length} of ${checked} acknowledged checked (${yes(targets.none_lost)})${doubled.length ? `; doubled: ${doubled.length}` : ""}${withoutId.length ? `; stored without their Message-ID: ${withoutId.map((x) => `${x.door} ${x.input}`).join(", ")}` : ""}${checkErrors.length ? `; check errors: ${checkErrors.join(" | ").slice(0, 200)}` : ""}`,
      ...missing.slice(0, 8).map((m) => `    lost: ${m.door} / ${m.input}: ${m.what}`),
      ...rows.filter((r) => r.cpu_ms_per_request > TARGET_CPU_MS || Object.keys(r.statuses).some((k) => is5xx(k) || noAnswer(k) || k === DEV_SERVER_5XX)).slice(0, 15).map((r) => `    !! ${r.door} / ${r.input}: ${JSON.stringify(r.statuses)} cpu ${r.cpu_ms_per_request} ms/req, health max ${r.health_max_ms} ms${r.note ? `: ${r.note.slice(0, 120)}` : ""}`),
      `wrangler dev log: ${trouble.errors.lines} error line(s) (${trouble.errors.distinct} kinds)`,
      ...trouble.errors.samples.slice(0, 3).map((l) => `    ${l.slice(0, 200)}`),
    ];
    return { result, summary, file: opts.size < 1 || opts.only.length ? "hostile-partial" : undefined };
  } finally {
    if (poller) await poller.stop();
    if (dev) await dev.stop();
    removeWorkdir(w);
  }
}
