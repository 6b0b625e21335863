// Events bench (issue 16): what the event log costs the hot path, and how fast it reaches integrators.
//
//   1. Ingest-and-route throughput with the log on: M interactions POSTed (C in flight) to a tenant
//      with one queue and agents logged in by API (each interaction created, queued and offered:
//      three history rows, three log entries by trigger). Then wrangler dev is stopped, the trigger
//      dropped in the snapshot's D1, and the same M measured again with the log off. Both runs start
//      from the same fresh state shape and warm-up. `routing_with_log_ratio` = on / off.
//   2. With the log on again: a webhook endpoint to a local receiver. Capacity: K interactions' events
//      built up with the endpoint off, then drained (deliveries per second from switching it on to the
//      last arrival). Lag: K more interactions at twice the concurrency, delivered as they happen (each
//      event's time to its arrival, p50 and p99, at the rate local ingest produces them).
//   3. GET /api/v1/events pages of 100, P of them, C in flight: pages per second.
//
// Sizes: BENCH_EVENTS_ROUTED, BENCH_EVENTS_DELIVERED, BENCH_EVENTS_PAGES, BENCH_EVENTS_CONCURRENCY, BENCH_PORT.
import { createServer, type Server } from "node:http";
import { cpus, loadavg, totalmem } from "node:os";
import { root } from "../scripts/local.ts";
import type { TenantConfigInput } from "../workers/config/schema.ts";
import { applyMigrationsIn, authSecret, ensurePortsFree, queryD1, removeWorkdir, startDev, troubleInLog, waitUpOrBuildError, workdir, type Dev } from "./lib/dev.ts";
import { envInt } from "./lib/env.ts";
import { phaseTimer } from "./lib/phase.ts";
import { pool, request, sleep, until } from "./lib/pool.ts";
import { latency, perSecond, ratio, round } from "./lib/stats.ts";
import type { BenchResult } from "./lib/types.ts";
import { appendFileSync } from "node:fs";
import { join } from "node:path";

export const name = "events";
export const description = "ingest-and-route throughput with the event log on vs. off, webhook deliveries per second and lag, event pages per second";

const TENANT = "bench";
const INGEST_KEY = "bench-events-ingest-key-not-secret";
const PASSWORD = "bench-password-shared";

const opts = {
  routed: envInt("BENCH_EVENTS_ROUTED", 600),
  delivered: envInt("BENCH_EVENTS_DELIVERED", 600),
  pages: envInt("BENCH_EVENTS_PAGES", 300),
  concurrency: envInt("BENCH_EVENTS_CONCURRENCY", 10),
  warmup: 50,
  agents: 60,
  port: envInt("BENCH_PORT", 8801),
};

function tenant(): TenantConfigInput {
  return {
    tenant: { id: TENANT, name: "Events bench" },
    settings: { offerTimeoutSeconds: 600, tokenTtlSeconds: 8 * 3600, afterWorkSeconds: 0, notReadyReasons: ["break"] },
    skills: [],
    agents: [
      ...Array.from({ length: opts.agents }, (_, i) => ({ id: `a${i}`, login: `a${i}`, fullName: `Agent ${i}`, role: "agent" as const, password: PASSWORD, skills: {}, capacity: { generic: 100 } })),
      { id: "adm", login: "adm", fullName: "Bench Admin", role: "admin" as const, password: PASSWORD, skills: {}, capacity: {} },
    ],
    queues: [{ name: "work", media: ["generic" as const], steps: [{ type: "route" as const, targets: [{ skills: "*" }] }] }],
    workflows: [{ name: "work", queue: "work" }],
  };
}

async function tokenFor(w: ReturnType<typeof workdir>, agentId: string, role: "agent" | "admin"): Promise<string> {
  const { issueToken } = await import("../workers/auth/tokens.ts");
  return (await issueToken(authSecret(w), { tenant: TENANT, agentId, role }, 3600)).token;
}

const submit = (url: string, run: string, i: number) =>
  request(`${url}/api/v1/interactions`, { method: "POST", headers: { authorization: `Bearer ${INGEST_KEY}`, "content-type": "application/json" }, body: JSON.stringify({ media: "generic", workflow: "work", externalId: `${run}-${i}`, subject: `event bench ${i}` }), expect: "any", timeoutMs: 30_000 });

async function routePhase(dev: Dev, w: ReturnType<typeof workdir>, run: string): Promise<{ perS: number; ms: ReturnType<typeof latency>; errors: number }> {
  for (let i = 0; i < opts.agents; i++) {
    const t = await tokenFor(w, `a${i}`, "agent");
    await request(`${dev.base}/api/v1/me/login`, { method: "POST", headers: { authorization: `Bearer ${t}`, "content-type": "application/json" }, body: JSON.stringify({ ready: true }), expect: "any" });
  }
  const wu = await pool(opts.warmup, opts.concurrency, 120_000, (i) => submit(dev.base, `${run}w`, i));
  if (wu.errors.length) throw new Error(`warm-up: ${wu.errors[0]?.error}`);
  await sleep(2000);
  const r = await pool(opts.routed, opts.concurrency, 300_000, async (i) => {
    const t0 = performance.now();
    const a = await submit(dev.base, `${run}m`, i);
    if (a.status !== 201 && a.status !== 200) throw new Error(`${a.status} ${a.body.slice(0, 200)}`);
    return performance.now() - t0;
  });
  const ok = r.results.filter((x): x is number => x !== undefined);
  return { perS: perSecond(ok.length, r.elapsedMs), ms: latency(ok), errors: r.errors.length };
}

export async function run(): Promise<BenchResult> {
  const port = opts.port;
  const receiverPort = port + 4;
  const phases: Record<string, number> = {};
  const phase = phaseTimer(phases);
  const w = workdir();
  const logPath = `${root}bench/results/events-wrangler.log`;
  let dev: Dev | undefined;
  let receiver: Server | undefined;
  const arrivals: { at: number; time: number; id: string }[] = [];
  try {
    await ensurePortsFree(port, port + 1000, receiverPort);
    appendFileSync(join(w.src, ".dev.vars"), `\nDEV_OUTBOUND_HOST=127.0.0.1:${receiverPort}\n`);
    await phase("D1 migrations and the tenant", async () => {
      applyMigrationsIn(w);
      const { loadBigTenant } = await import("./lib/tenant.ts");
      await loadBigTenant(tenant(), INGEST_KEY, w);
    });
    const start = async (label: string) => {
      dev = startDev(port, w, { logPath: logPath.replace(".log", `-${label}.log`), inspectorPort: port + 1000, vars: { BENCH: "1" } });
      await waitUpOrBuildError(dev);
      return dev;
    };
    // On, off, on again: each run after the first starts warm, so the log's runs bracket the one without it.
    const on1 = await phase(`log on: ${opts.routed} interactions, ${opts.concurrency} in flight`, async () => routePhase(await start("on"), w, "on1"));
    await dev!.stop();
    await phase("the log's trigger dropped", async () => void queryD1(w, "DROP TRIGGER interaction_events_to_log"));
    const off = await phase(`log off: ${opts.routed} interactions, ${opts.concurrency} in flight`, async () => routePhase(await start("off"), w, "off"));
    await dev!.stop();
    await phase("the log's trigger back", async () => {
      // The migration's own statement, read from the file: the same trigger, not a copy.
      const { readFileSync } = await import("node:fs");
      const sql = readFileSync(join(w.src, "migrations/0015_event_log.sql"), "utf8");
      const trigger = sql.slice(sql.indexOf("CREATE TRIGGER interaction_events_to_log"), sql.indexOf("END;", sql.indexOf("CREATE TRIGGER interaction_events_to_log")) + 4);
      queryD1(w, trigger);
    });
    const on2 = await phase(`log on again: ${opts.routed} interactions, ${opts.concurrency} in flight`, async () => routePhase(await start("on2"), w, "on2"));
    await dev!.stop();
    const on = { perS: round((on1.perS + on2.perS) / 2, 1), ms: on2.ms, errors: on1.errors + on2.errors, runs: [on1.perS, on2.perS] };

    // ---- deliveries ----
    receiver = createServer((req, res) => {
      let b = "";
      req.on("data", (c: Buffer) => (b += c.toString()));
      req.on("end", () => {
        try {
          const e = JSON.parse(b) as { time: string; id: string };
          arrivals.push({ at: Date.now(), time: Date.parse(e.time), id: e.id });
        } catch {
          // counted only when it parses
        }
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver!.listen(receiverPort, "127.0.0.1", r));
    const d = await start("deliveries");
    const admin = await tokenFor(w, "adm", "admin");
    const ep = await request(`${d.base}/api/v1/admin/webhooks`, { method: "POST", headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" }, body: JSON.stringify({ url: `http://127.0.0.1:${receiverPort}/hook` }), expect: "any" });
    if (ep.status !== 201) throw new Error(`endpoint: ${ep.status} ${ep.body.slice(0, 200)}`);
    const epId = (JSON.parse(ep.body) as { id: string }).id;
    const put = (enabled: boolean) => request(`${d.base}/api/v1/admin/webhooks/${epId}`, { method: "PUT", headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" }, body: JSON.stringify({ enabled }), expect: "any" });
    // Capacity: a backlog of events built with the endpoint off, then delivered as fast as the pump, the
    // Queue and the consumer go once it is turned on (from the switch to the last arrival).
    const delivered = await phase(`deliveries: a backlog of ${opts.delivered} interactions' events, drained`, async () => {
      await put(false);
      const r = await pool(opts.delivered, opts.concurrency, 300_000, (i) => submit(d.base, "dl", i));
      if (r.errors.length) throw new Error(`submit: ${r.errors[0]?.error}`);
      await sleep(1500);
      const before = arrivals.length;
      const t0 = Date.now();
      await put(true);
      const want = before + opts.delivered * 3;
      await until(() => arrivals.length >= want, 120_000, 20);
      const got = arrivals.slice(before);
      const span = (got.at(-1)?.at ?? t0) - t0;
      return { n: got.length, perS: perSecond(got.length, span), distinctIds: new Set(got.map((x) => x.id)).size };
    });
    // Lag: events delivered as they happen, with interactions submitted as fast as the local Worker
    // takes them (twice the routing phase's concurrency), then at the routing phase's own.
    const lagRun = (label: string, inFlight: number) =>
      phase(`lag: ${opts.delivered} interactions' events delivered as they happen, ${inFlight} in flight`, async () => {
        const before = arrivals.length;
        const fromSeq = Number(queryD1<{ s: number }>(w, `SELECT COALESCE(MAX(seq), 0) AS s FROM event_log WHERE tenant_id = '${TENANT}'`)[0]?.s ?? 0);
        const r = await pool(opts.delivered, inFlight, 300_000, (i) => submit(d.base, label, i));
        if (r.errors.length) throw new Error(`submit: ${r.errors[0]?.error}`);
        await until(() => arrivals.length >= before + opts.delivered * 3, 120_000, 20);
        const got = arrivals.slice(before);
        const span = (got.at(-1)?.at ?? 0) - (got[0]?.at ?? 0);
        // Where the lag goes: from the event to the pump's fan-out (its delivery row), and from there to
        // the consumer's record of the outcome (the Queue and the post).
        const rows = queryD1<{ pump: number; consumer: number }>(w, `SELECT d.created_at - e.at AS pump, d.updated_at - d.created_at AS consumer FROM webhook_deliveries d JOIN event_log e ON e.tenant_id = d.tenant_id AND e.seq = d.seq WHERE d.tenant_id = '${TENANT}' AND d.seq > ${fromSeq}`);
        return { in_flight: inFlight, n: got.length, perS: perSecond(got.length, span), lag: latency(got.map((x) => x.at - x.time)), to_pump_ms: latency(rows.map((r) => r.pump)), pump_to_recorded_ms: latency(rows.map((r) => r.consumer)) };
      });
    const live = await lagRun("lv", opts.concurrency * 2);
    const paced = await lagRun("lp", opts.concurrency);
    const events = await tokenFor(w, "adm", "admin");
    const pages = await phase(`GET /api/v1/events: ${opts.pages} pages of 100`, async () => {
      const r = await pool(opts.pages, opts.concurrency, 120_000, async (i) => {
        const a = await request(`${d.base}/api/v1/events?after=${(i * 37) % 1500}&limit=100`, { headers: { authorization: `Bearer ${events}` }, expect: "any" });
        if (a.status !== 200) throw new Error(`${a.status}`);
        return 1;
      });
      return { perS: perSecond(r.results.filter(Boolean).length, r.elapsedMs), errors: r.errors.length };
    });
    await d.stop();
    const gaps = queryD1<{ n: number; max: number }>(w, `SELECT COUNT(*) AS n, MAX(seq) AS max FROM event_log WHERE tenant_id = '${TENANT}'`)[0];
    const result = {
      routing_with_log_ratio: ratio(on.perS, off.perS),
      deliveries_per_s: delivered.perS,
      lag_ms: { p50: live.lag.p50, p99: live.lag.p99 },
      pull_pages_per_s: pages.perS,
      detail: {
        bench: name,
        date: new Date().toISOString(),
        targets: { routing_ratio_at_least_0_9: ratio(on.perS, off.perS) >= 0.9, deliveries_at_least_500_per_s: delivered.perS >= 500, lag_p99_at_most_1000_ms: live.lag.p99 <= 1000 },
        routing: { on, off },
        deliveries: { backlog: delivered, live, paced, note: "deliveries_per_s: a backlog drained from the endpoint's switch-on to the last arrival; lag_ms: events delivered as they happen, at live.perS (what local ingest produces)" },
        pages,
        log: { rows: gaps?.n, max_seq: gaps?.max, contiguous: gaps?.n === gaps?.max },
        phases_s: phases,
        wrangler_logs: troubleInLog(logPath.replace(".log", "-deliveries.log")),
        load_average: loadavg().map((x) => round(x, 2)),
        machine: { node: process.version, cpus: cpus().length, memory_gb: round(totalmem() / 2 ** 30, 1), through: "wrangler dev (local workerd), client on the same machine" },
      },
    };
    const summary = [
      `ingest+route with the log: ${on.perS}/s (p50 ${on.ms.p50} ms), without: ${off.perS}/s (p50 ${off.ms.p50} ms): ratio ${result.routing_with_log_ratio} (target ≥ 0.9)`,
      `webhook deliveries: a backlog of ${delivered.n} (${delivered.distinctIds} distinct ids) drained at ${delivered.perS}/s (target ≥ 500/s)`,
      ...[live, paced].map((l) => `live, ${l.in_flight} in flight: ${l.n} events at ${l.perS}/s, lag p50 ${l.lag.p50} ms, p99 ${l.lag.p99} ms (target p99 ≤ 1000 ms); event → pump p50 ${l.to_pump_ms.p50} / p99 ${l.to_pump_ms.p99} ms, pump → recorded p50 ${l.pump_to_recorded_ms.p50} / p99 ${l.pump_to_recorded_ms.p99} ms`),
      `GET /api/v1/events: ${pages.perS} pages/s (${pages.errors} errors)`,
      `log: ${gaps?.n} rows, last sequence ${gaps?.max} (contiguous: ${gaps?.n === gaps?.max})`,
    ];
    return { result, summary };
  } finally {
    if (dev) await dev.stop();
    receiver?.close();
    removeWorkdir(w);
  }
}
