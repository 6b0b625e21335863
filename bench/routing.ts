// Routing bench: how fast submitted interactions reach a ready agent's desktop as an offer, through
// wrangler dev, against two floors measured in the same run at the same concurrency: one empty Durable
// Object RPC per request (GET /api/bench/ping), and a bare pipeline of the same shape as routing.
//
//   0. Same shape: bench/shape-routing in its own wrangler dev (port BENCH_PORT+2, fresh state), no
//      Parley logic: POST → Worker → one D1 INSERT → RPC to object A → A's RPC to object B → B pushes
//      a frame on the WebSocket the bench holds open to it (hibernation API). As many A objects as
//      queues and B objects as agents (submit i goes to A i mod Q and B i mod A, a B of that queue's),
//      one socket per B; the same warm-up, M submits and C in flight; submit→push latency and pushes
//      per second measured as the routing phase's offers. Stopped before 1.
//   1. A generated tenant "bench": Q queues q00.., A agents (each skilled for one queue, some for two),
//      capacity { generic: CAP }; loaded into a fresh local D1, then wrangler dev with BENCH=1.
//   2. Every agent logs in ready, and 3. opens its desktop WebSocket (waits for each one's hello).
//   4. Baseline: N pings, C in flight. 5. Routing: M interactions POSTed, C in flight; each one's
//      submit→offer latency is the offer's arrival on a WebSocket minus the POST's send time.
//   6. Paced (context): pings, then interactions, at a fixed rate. Then the D1 round trips.
//
// Targets: against the empty RPC, offer p99 ≤ 3× and routed/s ≥ 0.5×; against the same shape
// (ratio_same_shape), routed/s ≥ 0.6× and offer p99 ≤ 2×.
//
// Sizes can be changed for a quick try with env vars: BENCH_AGENTS, BENCH_QUEUES, BENCH_CONCURRENCY,
// BENCH_INTERACTIONS, BENCH_BASELINE, BENCH_PORT (the figures in results/ use the defaults).
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { root } from "../scripts/local.ts";
import { tripsFor, type TripOp, type TripsResult } from "./lib/trips.ts";
import { tripsSummary } from "./trips.ts";
import { issueToken } from "../workers/auth/tokens.ts";
import type { TenantConfigInput } from "../workers/config/schema.ts";
import { envInt } from "./lib/env.ts";
import { applyMigrationsIn, authSecret, baselineWorkdir, ensurePortsFree, queryD1, removeWorkdir, startDev, troubleInLog, waitUp, waitUpOrBuildError, workdir, type Dev } from "./lib/dev.ts";
import { pool, request, sleep, until } from "./lib/pool.ts";
import { cpuMeter, settle, type CpuUse } from "./lib/cpu.ts";
import { bundleMap, startProfile, summarize, type ProfileSummary } from "./lib/profile.ts";
import { loadBigTenant } from "./lib/tenant.ts";
import { latency, perSecond, ratio, round } from "./lib/stats.ts";
import type { BenchResult } from "./lib/types.ts";

export const name = "routing";
export const description = "submit→offer latency and interactions routed per second vs. an empty Durable Object RPC baseline and a same-shape bare pipeline (D1 write, two object RPCs, a WebSocket push)";

const TENANT = "bench";
const INGEST_KEY = "bench-ingest-key-not-secret";
const PASSWORD = "bench-password-shared";

const opts = {
  agents: envInt("BENCH_AGENTS", 1000),
  queues: envInt("BENCH_QUEUES", 20),
  capacity: 5,
  concurrency: envInt("BENCH_CONCURRENCY", 20),
  baselineWarmup: 200,
  baselineRequests: envInt("BENCH_BASELINE", 3000),
  routingWarmup: 100,
  interactions: envInt("BENCH_INTERACTIONS", 3000),
  /** The paced phase: requests sent at a fixed rate below saturation (open loop), for latency that is not
   *  just concurrency ÷ throughput. Context next to the issue's figures, not one of its targets. */
  pacedRate: envInt("BENCH_PACED_RATE", 40),
  pacedCount: envInt("BENCH_PACED_COUNT", 600),
  /** How long to wait for the last offers once every submit has been answered. */
  offerWaitMs: 60_000,
  port: envInt("BENCH_PORT", 8801),
  /** BENCH_PROFILE=1: V8 CPU profiles of the measured baseline and routing phases (figures then go to routing-profiled.json). */
  profile: process.env.BENCH_PROFILE === "1",
};

const qName = (k: number) => `q${String(k).padStart(2, "0")}`;
const agentId = (i: number) => `a${String(i).padStart(4, "0")}`;
/** Every third agent also has a second queue, a third of the way round. */
const secondQueue = (i: number, queues: number) => (queues > 1 && i % 3 === 0 ? (i + 1 + Math.floor(queues / 3)) % queues : null);

export function benchTenant(agents: number, queues: number, capacity: number): TenantConfigInput {
  const skills = Array.from({ length: queues }, (_, k) => qName(k));
  return {
    tenant: { id: TENANT, name: "Routing bench" },
    // Offers never time out during a run: a re-offer after a timeout would look like a duplicate.
    settings: { offerTimeoutSeconds: 600, tokenTtlSeconds: 8 * 3600, afterWorkSeconds: 0, notReadyReasons: ["break"] },
    skills,
    agents: [
      ...Array.from({ length: agents }, (_, i) => {
        const s: Record<string, number> = { [qName(i % queues)]: 1 + ((i * 7) % 10) };
        const second = secondQueue(i, queues);
        if (second !== null && second !== i % queues) s[qName(second)] = 1 + ((i * 3) % 10);
        return { id: agentId(i), login: agentId(i), fullName: `Bench Agent ${i}`, role: "agent" as const, password: PASSWORD, skills: s, capacity: { generic: capacity } };
      }),
      // Reads /api/v1/stats at the end to cross-check; takes no work.
      { id: "sup", login: "sup", fullName: "Bench Supervisor", role: "supervisor" as const, password: PASSWORD, skills: {}, capacity: {} },
    ],
    queues: skills.map((q) => ({ name: q, media: ["generic" as const], steps: [{ type: "route" as const, targets: [{ skills: `${q} >= 1` }] }] })),
  };
}

interface Submitted {
  id: string;
  sentAt: number;
  answeredAt: number;
}

interface Sockets {
  all: WebSocket[];
  /** interactionId → every offer of it received: when, and on which agent's socket. */
  offers: Map<string, { at: number; agent: number }[]>;
  messages: Record<string, number>;
  closedEarly: number;
  closing: boolean;
}

function openSocket(s: Sockets, url: string, agent: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let hello = false;
    const timer = setTimeout(() => {
      if (hello) return;
      ws.close();
      reject(new Error(`agent ${agent}: no hello in ${timeoutMs} ms`));
    }, timeoutMs);
    ws.addEventListener("message", (ev) => {
      const at = performance.now();
      let msg: { type?: string; offer?: { interactionId?: string } };
      try {
        msg = JSON.parse(String(ev.data)) as typeof msg;
      } catch {
        s.messages["(not json)"] = (s.messages["(not json)"] ?? 0) + 1;
        return;
      }
      const type = msg.type ?? "(no type)";
      s.messages[type] = (s.messages[type] ?? 0) + 1;
      if (type === "offer" && msg.offer?.interactionId) {
        const list = s.offers.get(msg.offer.interactionId);
        if (list) list.push({ at, agent });
        else s.offers.set(msg.offer.interactionId, [{ at, agent }]);
      } else if (type === "hello" && !hello) {
        hello = true;
        clearTimeout(timer);
        resolve();
      }
    });
    ws.addEventListener("error", () => {
      if (!hello) {
        clearTimeout(timer);
        reject(new Error(`agent ${agent}: WebSocket error before hello`));
      }
    });
    ws.addEventListener("close", (ev) => {
      if (!hello) {
        clearTimeout(timer);
        reject(new Error(`agent ${agent}: WebSocket closed before hello (${ev.code} ${ev.reason})`));
      } else if (!s.closing) s.closedEarly++;
    });
    s.all.push(ws);
  });
}

/** Starts job(i) at i / rate seconds, whether or not earlier ones have finished (open loop); a job's
 *  failure is recorded as undefined. Bounded by count, and each request by its own timeout. */
async function paced<T>(count: number, ratePerS: number, job: (i: number) => Promise<T>): Promise<(T | undefined)[]> {
  const start = performance.now();
  const running: Promise<T | undefined>[] = [];
  for (let i = 0; i < count; i++) {
    const wait = start + (i * 1000) / ratePerS - performance.now();
    if (wait > 0) await sleep(wait);
    running.push(job(i).catch(() => undefined));
  }
  return Promise.all(running);
}

function fail(what: string, errors: { index: number; error: string }[], total: number): never {
  throw new Error(`${what}: ${errors.length} of ${total} failed; first: ${errors.slice(0, 3).map((e) => `#${e.index} ${e.error}`).join(" | ")}`);
}

const seconds = (ms: number) => round(ms / 1000, 1);

export async function run(): Promise<BenchResult> {
  const { agents, queues, capacity, concurrency: C } = opts;
  const M = opts.interactions;
  const W = opts.routingWarmup;
  // Every interaction must find room at once, or the figures measure waiting for capacity instead.
  const perQueue = Math.ceil((M + W) / queues);
  const primaryRoom = Math.floor(agents / queues) * capacity;
  if (perQueue > primaryRoom) throw new Error(`${M + W} interactions over ${queues} queues need ${perQueue} slots per queue; its own agents have ${primaryRoom}`);

  const phases: Record<string, number> = {};
  const profiles: Record<string, ProfileSummary> = {};
  const cpu: Record<string, CpuUse & { workerd_cpu_ms_per_op: number }> = {};
  /** A measured phase of `ops` operations: CPU use by process, and a V8 profile when BENCH_PROFILE=1;
   *  Parley's wrangler dev unless `on` names another (the same-shape Worker's). */
  const measured = async <T>(label: string, ops: number, fn: () => Promise<T>, on?: { dev: Dev; src: string }): Promise<T> => {
    const target = on ?? { dev: dev!, src: w.src };
    const stop = opts.profile ? await startProfile(target.dev.inspectorPort) : undefined;
    const meter = cpuMeter(target.dev.pid);
    try {
      return await fn();
    } finally {
      const use = meter();
      cpu[label] = { ...use, workerd_cpu_ms_per_op: round((use.workerd * 1000) / ops, 2) };
      if (stop) {
        const p = await stop();
        writeFileSync(`${root}bench/results/routing-${label}.cpuprofile`, JSON.stringify(p));
        profiles[label] = summarize(p, bundleMap(target.src));
      }
    }
  };
  const phase = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
    process.stdout.write(`  ${label}… `);
    const t0 = performance.now();
    const r = await fn();
    phases[label] = seconds(performance.now() - t0);
    console.log(`${phases[label]} s`);
    return r;
  };

  const runTag = Date.now().toString(36);
  const loadBefore = loadavg().map((x) => round(x, 2));
  const w = workdir();
  const logPath = `${root}bench/results/routing-wrangler.log`;
  const shapeLogPath = `${root}bench/results/routing-shape-wrangler.log`;
  const shapePort = opts.port + 2;
  const config = benchTenant(agents, queues, capacity);
  let dev: Dev | undefined;
  let shapeDev: Dev | undefined;
  const ss: Sockets = { all: [], offers: new Map(), messages: {}, closedEarly: 0, closing: false };
  let tenantLoad = { configBytes: 0, statements: 0 };
  const s: Sockets = { all: [], offers: new Map(), messages: {}, closedEarly: 0, closing: false };

  try {
    await ensurePortsFree(opts.port, opts.port + 1000, shapePort, shapePort + 1000);
    const secret = authSecret(w);

    // ---- 0. the same shape, without Parley ----
    const sw = baselineWorkdir(w, "shape-routing");
    const shape = await phase(`same-shape Worker: wrangler dev on :${shapePort}, ${agents} WebSockets, ${W} warm-up, ${M} submits, ${C} in flight`, async () => {
      shapeDev = startDev(shapePort, sw, { logPath: shapeLogPath, inspectorPort: shapePort + 1000 });
      const d = shapeDev;
      await waitUpOrBuildError(d);
      const wsBase = d.base.replace(/^http/, "ws");
      const opened = await pool(agents, C, 180_000, (i) => openSocket(ss, `${wsBase}/ws/${agentId(i)}`, i, 30_000));
      if (opened.errors.length || opened.started < agents) fail("same-shape WebSocket", opened.errors, agents);
      // Submit i: the queue's object A (i mod Q) and one of that queue's agents' objects B (i mod agents).
      const shapeSubmit = async (tag: string, i: number): Promise<Submitted> => {
        const id = `shape-${runTag}-${tag}${i}`;
        const body = JSON.stringify({ id, a: qName(i % queues), b: agentId(i % agents) });
        const sentAt = performance.now();
        const res = await request(`${d.base}/submit`, { method: "POST", headers: { "content-type": "application/json" }, body, expect: [201] });
        const answeredAt = performance.now();
        const pushed = (JSON.parse(res.body) as { pushed?: number }).pushed;
        if (pushed !== 1) throw new Error(`${id}: pushed on ${pushed} sockets, not 1`);
        return { id, sentAt, answeredAt };
      };
      const warm = await pool(W, C, 60_000, (i) => shapeSubmit("w", i));
      if (warm.errors.length || warm.started < W) fail("same-shape warm-up", warm.errors, W);
      const warmIds = (warm.results as Submitted[]).map((x) => x.id);
      if (!(await until(() => warmIds.every((id) => ss.offers.has(id)), 30_000))) throw new Error(`same-shape warm-up: only ${warmIds.filter((id) => ss.offers.has(id)).length} of ${W} pushes in 30 s`);
      await settle(d.pid, { minS: 5, maxS: 60 });
      const { r, allIn } = await measured(
        "same_shape",
        M,
        async () => {
          const r = await pool(M, C, 300_000, (i) => shapeSubmit("m", i));
          const ids = (r.results.filter(Boolean) as Submitted[]).map((x) => x.id);
          return { r, allIn: await until(() => ids.every((id) => ss.offers.has(id)), opts.offerWaitMs) };
        },
        { dev: d, src: sw.src },
      );
      const done = r.results.filter(Boolean) as Submitted[];
      const ms: number[] = [];
      let lastPush = -Infinity;
      for (const x of done) {
        const first = ss.offers.get(x.id)?.[0];
        if (!first) continue;
        ms.push(first.at - x.sentAt);
        lastPush = Math.max(lastPush, first.at);
      }
      const firstSend = Math.min(...done.map((x) => x.sentAt));
      const lastAnswer = Math.max(...done.map((x) => x.answeredAt));
      ss.closing = true;
      for (const ws of ss.all) ws.close();
      await d.stop();
      const duplicates = [...ss.offers.values()].filter((l) => l.length > 1).length;
      return {
        perS: ms.length ? perSecond(ms.length, lastPush - firstSend) : 0,
        ms: latency(ms),
        submitted: done.length,
        submitErrors: r.errors.length,
        submitErrorSamples: r.errors.slice(0, 5),
        received: ms.length,
        allIn: allIn && ms.length === M,
        duplicates,
        closedEarly: ss.closedEarly,
        submitPerS: perSecond(done.length, lastAnswer - firstSend),
        submitMs: latency(done.map((x) => x.answeredAt - x.sentAt)),
        spanS: seconds(lastPush - firstSend),
      };
    });
    const shapeTrouble = troubleInLog(shapeLogPath);

    await phase(`D1 migrations and the tenant (${agents} agents, ${queues} queues)`, async () => {
      applyMigrationsIn(w);
      // Not scripts/local.ts loadTenant: its one-literal config insert is over D1's statement limit at this size.
      tenantLoad = await loadBigTenant(config, INGEST_KEY, w);
    });
    console.log(`  code: ${w.code.ref} at ${w.code.commit.slice(0, 12)}${w.code.dirty.length ? ` with ${w.code.dirty.length} changed file(s)` : ""}, snapshot in ${w.src}`);
    dev = startDev(opts.port, w, { logPath, inspectorPort: opts.port + 1000, vars: { BENCH: "1" } });
    const base = dev.base;
    await phase(`wrangler dev on :${opts.port} (log: bench/results/routing-wrangler.log)`, () => waitUp(dev!));
    const probe = await fetch(`${base}/api/bench/ping?o=0`, { signal: AbortSignal.timeout(30_000) });
    if (probe.status !== 200) throw new Error(`GET /api/bench/ping answered ${probe.status}: is BENCH=1 reaching the Worker? ${await probe.text()}`);

    const tokens = await Promise.all(Array.from({ length: agents }, (_, i) => issueToken(secret, { tenant: TENANT, agentId: agentId(i), role: "agent" }, 3600).then((t) => t.token)));
    const supToken = (await issueToken(secret, { tenant: TENANT, agentId: "sup", role: "supervisor" }, 3600)).token;

    // ---- 2. log in, ready ----
    await phase(`log in ${agents} agents, ready (${C} at a time)`, async () => {
      const r = await pool(agents, C, 180_000, async (i) => {
        const res = await request(`${base}/api/v1/me/login`, {
          method: "POST",
          headers: { authorization: `Bearer ${tokens[i]}`, "content-type": "application/json" },
          body: JSON.stringify({ ready: true }),
        });
        const st = JSON.parse(res.body) as { presence?: string };
        if (st.presence !== "ready") throw new Error(`presence is ${st.presence}`);
      });
      if (r.errors.length || r.started < agents) fail("login", r.errors, agents);
    });

    // ---- 3. desktops ----
    await phase(`open ${agents} WebSockets`, async () => {
      const wsBase = base.replace(/^http/, "ws");
      const r = await pool(agents, C, 180_000, (i) => openSocket(s, `${wsBase}/api/v1/me/ws?token=${tokens[i]}`, i, 30_000));
      if (r.errors.length || r.started < agents) fail("WebSocket", r.errors, agents);
    });

    // Right after the logins and sockets, pings cost workerd ~60% more CPU for some 20 s (idle objects
    // being evicted, GC); measured: 342 req/s then, 604 req/s after 15 s of quiet. Start settled.
    await phase("settling (wrangler dev quiet, at least 15 s)", () => settle(dev!.pid, { minS: 15, maxS: 60 }));

    // ---- 4. baseline ----
    const ping = async (i: number) => {
      const t0 = performance.now();
      await request(`${base}/api/bench/ping?o=${i % queues}`);
      return performance.now() - t0;
    };
    const N = opts.baselineRequests;
    const pings = (label: string) =>
      phase(`${label}: ${N} pings, ${C} in flight (after ${opts.baselineWarmup} warm-up)`, async () => {
        await pool(opts.baselineWarmup, C, 60_000, ping);
        const r = await measured(label, N, () => pool(N, C, 120_000, ping));
        if (r.errors.length || r.started < N) fail(label, r.errors, N);
        return { ms: latency(r.results as number[]), perS: perSecond(N, r.elapsedMs) };
      });
    const baseline = await pings("baseline");

    // ---- 5. routing ----
    const submit = async (tag: string, i: number): Promise<Submitted> => {
      const q = qName(i % queues);
      const body = JSON.stringify({ media: "generic", queue: q, externalId: `bench-${runTag}-${tag}${i}`, subject: `Bench ${tag}${i}`, text: `Routing bench interaction ${i} for ${q}.` });
      const sentAt = performance.now();
      const res = await request(`${base}/api/v1/interactions`, {
        method: "POST",
        headers: { authorization: `Bearer ${INGEST_KEY}`, "content-type": "application/json" },
        body,
        expect: [201],
      });
      const answeredAt = performance.now();
      const r = JSON.parse(res.body) as { id: string; state: string };
      if (r.state !== "queued") throw new Error(`interaction ${r.id} is ${r.state}, not queued`);
      return { id: r.id, sentAt, answeredAt };
    };
    const allOffered = (ids: string[]) => () => ids.every((id) => s.offers.has(id));

    await phase(`routing warm-up: ${W} interactions`, async () => {
      const r = await pool(W, C, 60_000, (i) => submit("w", i));
      if (r.errors.length || r.started < W) fail("routing warm-up", r.errors, W);
      const ids = (r.results as Submitted[]).map((x) => x.id);
      if (!(await until(allOffered(ids), 30_000))) throw new Error(`routing warm-up: only ${ids.filter((id) => s.offers.has(id)).length} of ${W} offers in 30 s`);
    });

    const routing = await phase(`routing: ${M} interactions, ${C} in flight; waiting for their offers`, async () => {
      const { r, done, allIn } = await measured("routing", M, async () => {
        const r = await pool(M, C, 300_000, (i) => submit("m", i));
        const done = r.results.filter(Boolean) as Submitted[];
        const allIn = await until(allOffered(done.map((x) => x.id)), opts.offerWaitMs);
        return { r, done, allIn };
      });
      // A little longer, so that a second offer of the same interaction would show.
      await sleep(2_000);
      return { r, done, allIn };
    });

    // ---- 6. paced: the same two operations at a fixed rate below saturation ----
    const PR = opts.pacedRate;
    const PN = opts.pacedCount;
    const pacedPings = await phase(`paced baseline: ${PN} pings at ${PR}/s`, async () => {
      const r = await paced(PN, PR, ping);
      return latency(r.filter((x): x is number => x !== undefined));
    });
    const pacedRouting = await phase(`paced routing: ${PN} interactions at ${PR}/s; waiting for their offers`, async () => {
      const sent = (await paced(PN, PR, (i) => submit("p", i))).filter((x): x is Submitted => x !== undefined);
      await until(allOffered(sent.map((x) => x.id)), opts.offerWaitMs);
      const ms = sent.flatMap((x) => {
        const first = s.offers.get(x.id)?.[0];
        return first ? [first.at - x.sentAt] : [];
      });
      return { sent: sent.length, offered: ms.length, ms: latency(ms) };
    });

    // The same baseline again, to show how much the machine drifted over the run (not used in the targets).
    const after = await pings("baseline_after");

    // ---- figures ----
    const { r, done, allIn } = routing;
    const firstSend = Math.min(...done.map((x) => x.sentAt));
    const lastAnswer = Math.max(...done.map((x) => x.answeredAt));
    const offerMs: number[] = [];
    const offerBeforeAnswerMs: number[] = [];
    let lastOffer = -Infinity;
    for (const x of done) {
      const first = s.offers.get(x.id)?.[0];
      if (!first) continue;
      offerMs.push(first.at - x.sentAt);
      offerBeforeAnswerMs.push(x.answeredAt - first.at);
      lastOffer = Math.max(lastOffer, first.at);
    }
    const received = offerMs.length;
    const routedPerS = received ? perSecond(received, lastOffer - firstSend) : 0;
    const offer = latency(offerMs);
    const duplicates = [...s.offers.entries()].filter(([, l]) => l.length > 1);
    const perAgent = new Map<number, number>();
    for (const l of s.offers.values()) for (const o of l) perAgent.set(o.agent, (perAgent.get(o.agent) ?? 0) + 1);

    // Cross-check with what the objects say.
    let check: Record<string, unknown>;
    try {
      const st = JSON.parse((await request(`${base}/api/v1/stats`, { headers: { authorization: `Bearer ${supToken}` }, timeoutMs: 60_000 })).body) as {
        queues: { waiting: number; offered: number; entered: number }[];
        agents: { id: string; totalLoad: number; capacity: { generic?: number } }[];
      };
      const loads = st.agents.filter((a) => a.id !== "sup").map((a) => a.totalLoad);
      check = {
        queues_entered: st.queues.reduce((n, q) => n + q.entered, 0),
        queues_waiting: st.queues.reduce((n, q) => n + q.waiting, 0),
        queues_offered: st.queues.reduce((n, q) => n + q.offered, 0),
        agents_total_load: loads.reduce((n, x) => n + x, 0),
        agents_max_load: Math.max(...loads),
        agents_over_capacity: st.agents.filter((a) => a.totalLoad > (a.capacity.generic ?? 0)).length,
      };
    } catch (err) {
      check = { error: err instanceof Error ? err.message : String(err) };
    }

    const offerVsBaseline = ratio(offer.p99, baseline.ms.p99);
    const routedVsBaseline = ratio(routedPerS, baseline.perS);
    const sameShapeRatio = { per_s: ratio(routedPerS, shape.perS), p99: ratio(offer.p99, shape.ms.p99) };
    // Stop the server before closing the desktops: closing them first makes every agent hand its
    // offers back (a storm of re-offers nobody measures).
    s.closing = true;
    await dev.stop();
    for (const ws of s.all) ws.close();
    const trouble = troubleInLog(logPath);
    // The history the objects wrote to D1 through their outboxes: every interaction created, queued, offered once.
    let d1: Record<string, unknown>;
    try {
      const states = queryD1<{ state: string; n: number }>(w, "SELECT state, COUNT(*) AS n FROM interactions GROUP BY state");
      const events = queryD1<{ action: string; n: number }>(w, "SELECT action, COUNT(*) AS n FROM interaction_events GROUP BY action");
      d1 = { interactions_by_state: Object.fromEntries(states.map((r) => [r.state, r.n])), events_by_action: Object.fromEntries(events.map((r) => [r.action, r.n])) };
    } catch (err) {
      d1 = { error: err instanceof Error ? err.message.slice(0, 500) : String(err) };
    }

    // Another test run or build on this 2-core machine skews the comparison: say so.
    const busy = Object.entries(cpu).filter(([, c]) => c.cores_used.other > 0.2).map(([label, c]) => `${label} ${c.cores_used.other}`);
    // D1 round trips of the operations this bench exercises (issue 17), on a dev of their own.
    const tripOps: TripOp[] = ["generic_ingest", "offer", "accept", "done"];
    const trips: TripsResult | { error: string } = await phase(`D1 round trips: ${tripOps.join(", ")}, one at a time`, () => tripsFor(tripOps, opts.port, `${root}bench/results/routing-trips-wrangler.log`)).catch((e: unknown) => ({ error: (e instanceof Error ? e.message : String(e)).slice(0, 500) }));
    const result = {
      d1_round_trips: "d1_round_trips" in trips ? trips.d1_round_trips : null,
      d1_round_trips_by_place: "by_place" in trips ? trips.by_place : trips,
      bench: name,
      date: new Date().toISOString(),
      routed_per_s: routedPerS,
      offer_ms: offer,
      baseline_per_s: baseline.perS,
      baseline_ms: baseline.ms,
      baseline_after_routing: { per_s: after.perS, ms: after.ms },
      paced: {
        rate_per_s: PR,
        requests: PN,
        baseline_ms: pacedPings,
        offer_ms: pacedRouting.ms,
        offers_received: pacedRouting.offered,
        submitted: pacedRouting.sent,
        offer_p99_over_baseline_p99: ratio(pacedRouting.ms.p99, pacedPings.p99),
      },
      offer_p99_within_3x_baseline_p99: offer.p99 <= 3 * baseline.ms.p99,
      offer_p99_over_baseline_p99: offerVsBaseline,
      routed_at_least_half_baseline_rate: routedPerS >= 0.5 * baseline.perS,
      routed_over_baseline_rate: routedVsBaseline,
      // The same platform operations without Parley (bench/shape-routing), same M, C and spread.
      same_shape: {
        per_s: shape.perS,
        p99_ms: shape.ms.p99,
        p50_ms: shape.ms.p50,
        push_ms: shape.ms,
        pipeline: "POST → Worker → one D1 INSERT → RPC to object A → A's RPC to object B → B pushes a frame on the bench's WebSocket (hibernation API)",
        objects: { a: queues, b: agents, sockets: agents },
        submitted: shape.submitted,
        submit_errors: shape.submitErrors,
        submit_error_samples: shape.submitErrorSamples,
        pushes_received: shape.received,
        all_pushes_received: shape.allIn,
        duplicate_pushes: shape.duplicates,
        ws_closed_early: shape.closedEarly,
        submit_per_s: shape.submitPerS,
        submit_ms: shape.submitMs,
        span_s: shape.spanS,
      },
      ratio_same_shape: sameShapeRatio,
      routed_at_least_0_6x_same_shape_rate: sameShapeRatio.per_s >= 0.6,
      offer_p99_within_2x_same_shape_p99: sameShapeRatio.p99 <= 2,
      concurrency: C,
      agents,
      queues,
      capacity_per_agent: { generic: capacity },
      tenant_config_bytes: tenantLoad.configBytes,
      interactions: M,
      interactions_warmup: W,
      baseline_requests: opts.baselineRequests,
      submitted: done.length,
      submit_errors: r.errors.length,
      submit_error_samples: r.errors.slice(0, 5),
      offers_received: received,
      all_offers_received: allIn && received === M,
      duplicate_offers: duplicates.length,
      duplicate_offer_samples: duplicates.slice(0, 5).map(([id, l]) => ({ id, agents: l.map((o) => agentId(o.agent)) })),
      submit_per_s: perSecond(done.length, lastAnswer - firstSend),
      submit_ms: latency(done.map((x) => x.answeredAt - x.sentAt)),
      // How much earlier the offer reached the desktop than the POST's answer reached the client.
      offer_before_submit_answer_ms: latency(offerBeforeAnswerMs),
      routing_span_s: seconds(lastOffer - firstSend),
      agents_offered: perAgent.size,
      max_offers_per_agent: Math.max(0, ...perAgent.values()),
      ws_messages: s.messages,
      ws_closed_early: s.closedEarly,
      objects_check: check,
      d1_history_check: d1,
      phases_s: phases,
      cpu,
      other_load_during: busy,
      wrangler_log: { path: "bench/results/routing-wrangler.log", ...trouble },
      same_shape_wrangler_log: { path: "bench/results/routing-shape-wrangler.log", ...shapeTrouble },
      compatibility_date: { parley: compatDate(`${root}wrangler.toml`), same_shape: compatDate(`${root}bench/shape-routing/wrangler.toml`) },
      code: w.code,
      load_average: { before: loadBefore, after: loadavg().map((x) => round(x, 2)) },
      ...(opts.profile ? { profiled: true, profiles } : {}),
      environment: { node: process.version, wrangler: wranglerVersion(), cpus: cpus().length, memory_gb: round(totalmem() / 2 ** 30, 1), through: "wrangler dev (local workerd), client on the same machine" },
    };
    const yes = (b: boolean) => (b ? "met" : "MISSED");
    const summary = [
      `baseline (empty DO RPC):  ${baseline.perS} req/s   p50 ${baseline.ms.p50} ms   p99 ${baseline.ms.p99} ms   (C=${C}; again after routing: ${after.perS} req/s, p99 ${after.ms.p99} ms)`,
      `same shape (D1 write, A→B RPC, WebSocket push): ${shape.perS} pushed/s   submit→push p50 ${shape.ms.p50} ms   p99 ${shape.ms.p99} ms   (${shape.received}/${M} pushes, ${shape.duplicates} duplicate, ${shape.submitErrors} submit errors)`,
      `routing:                  ${routedPerS} routed/s   submit→offer p50 ${offer.p50} ms   p99 ${offer.p99} ms`,
      `offers: ${received}/${M} received, ${duplicates.length} duplicate, ${r.errors.length} submit errors; ingest answered p50 ${result.submit_ms.p50} ms p99 ${result.submit_ms.p99} ms`,
      `paced at ${PR}/s (open loop): ping p50 ${pacedPings.p50} ms p99 ${pacedPings.p99} ms; submit→offer p50 ${pacedRouting.ms.p50} ms p99 ${pacedRouting.ms.p99} ms (${pacedRouting.offered}/${PN} offered)`,
      `target offer p99 ≤ 3× baseline p99:   ${yes(result.offer_p99_within_3x_baseline_p99)} (ratio ${offerVsBaseline})`,
      `target routed/s ≥ 0.5× baseline/s:    ${yes(result.routed_at_least_half_baseline_rate)} (ratio ${routedVsBaseline})`,
      `target routed/s ≥ 0.6× same shape/s:  ${yes(result.routed_at_least_0_6x_same_shape_rate)} (ratio ${sameShapeRatio.per_s})`,
      `target offer p99 ≤ 2× same shape p99: ${yes(result.offer_p99_within_2x_same_shape_p99)} (ratio ${sameShapeRatio.p99})`,
      ...(busy.length ? [`WARNING: other processes used CPU during measured phases (cores: ${busy.join(", ")}): compare with care, or run again`] : []),
      ...(s.closedEarly ? [`WARNING: ${s.closedEarly} desktop WebSocket(s) closed during the run (wrangler dev restarted?): figures suspect`] : []),
      `workerd CPU per operation: ping ${cpu.baseline?.workerd_cpu_ms_per_op} ms, same shape ${cpu.same_shape?.workerd_cpu_ms_per_op} ms, interaction ${cpu.routing?.workerd_cpu_ms_per_op} ms; other processes used ${cpu.baseline?.cores_used.other} / ${cpu.same_shape?.cores_used.other} / ${cpu.routing?.cores_used.other} cores (baseline / same shape / routing)`,
      `wrangler dev log: ${trouble.errors.lines} error line(s) (${trouble.errors.distinct} kinds), ${trouble.warnings.lines} warning(s) (${trouble.warnings.distinct} kinds); same shape's: ${shapeTrouble.errors.lines} error line(s), ${shapeTrouble.warnings.lines} warning(s)`,
      ...[...trouble.errors.samples, ...trouble.warnings.samples].slice(0, 5).map((l) => `    ${l.slice(0, 240)}`),
    ];
    summary.push(...("d1_round_trips" in trips ? tripsSummary(tripOps, trips) : [`D1 round trips: ${trips.error}`]));
    if (opts.profile)
      for (const [label, p] of Object.entries(profiles))
        summary.push(
          `profile ${label}: isolate busy ${p.busyPct}% of ${p.totalMs} ms (raw: bench/results/routing-${label}.cpuprofile); by file: ${p.byFile.slice(0, 8).map((f) => `${f.file} ${f.pct}%`).join(", ")}`,
          ...p.byCaller.slice(0, 12).map((f) => `    ${String(f.pct).padStart(5)}%  ${f.fn}`),
        );
    return { result, summary, file: opts.profile ? "routing-profiled" : undefined };
  } finally {
    s.closing = true;
    ss.closing = true;
    for (const ws of [...s.all, ...ss.all]) {
      try {
        ws.close();
      } catch {
        // closing anyway
      }
    }
    if (shapeDev) await shapeDev.stop();
    if (dev) await dev.stop();
    removeWorkdir(w);
  }
}

const compatDate = (path: string) => /^compatibility_date\s*=\s*"([^"]+)"/m.exec(readFileSync(path, "utf8"))?.[1] ?? "unknown";

function wranglerVersion(): string {
  try {
    return (JSON.parse(readFileSync(`${root}node_modules/wrangler/package.json`, "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}
