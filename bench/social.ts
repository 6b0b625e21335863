// Social bench: signed WhatsApp Cloud API webhooks taken per second (POST /api/v1/social/whatsapp:
// the tenant found by phone number id, its app secret's signature checked, the message stored once,
// placed in the customer's conversation, a new conversation opened and queued), text and media, next
// to a bare Worker that checks the same signature, writes one D1 row and answers, measured in the same
// run at the same concurrency.
//
//   1. Baseline: bench/hub-only in its own wrangler dev (port BENCH_PORT+2): warm-up, then N webhooks.
//   2. Parley: a snapshot of the code with a tenant "bench" (one WhatsApp number, workflow → queue
//      "social", nobody logged in), a local media server standing for the Graph API (its host is
//      DEV_OUTBOUND_HOST), then: a forged signature (403), the warm-up, N text webhooks from S senders
//      (each sender's first opens a conversation, the rest join it), M image webhooks (each media
//      fetched into R2 before the answer), P pairs sent in reverse order (the later one first), and
//      R measured webhooks sent again (WhatsApp's retries). Then D1: each wamid stored once, and
//      each reversed pair listed in the provider's order.
//
// Sizes: BENCH_SOCIAL_COUNT, BENCH_SOCIAL_MEDIA, BENCH_SOCIAL_CONCURRENCY, BENCH_SOCIAL_WARMUP, BENCH_PORT.
import { createHmac, randomBytes } from "node:crypto";
import { appendFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { root } from "../scripts/local.ts";
import type { TenantConfigInput } from "../workers/config/schema.ts";
import { cpuMeter, settle, type CpuUse } from "./lib/cpu.ts";
import { applyMigrationsIn, authSecret, baselineWorkdir, ensurePortsFree, queryD1, removeWorkdir, startDev, troubleInLog, waitUpOrBuildError, workdir, type Dev } from "./lib/dev.ts";
import { envInt } from "./lib/env.ts";
import { phaseTimer } from "./lib/phase.ts";
import { pool, request, sleep } from "./lib/pool.ts";
import { latency, perSecond, ratio, round, type Latency } from "./lib/stats.ts";
import type { BenchResult } from "./lib/types.ts";

export const name = "social";
export const description = "signed WhatsApp webhooks (text and media) taken per second (POST /api/v1/social/whatsapp) vs. a bare Worker checking the signature and writing one D1 row";

const TENANT = "bench";
const INGEST_KEY = "bench-social-ingest-key-not-secret";
const PASSWORD = "bench-password-shared";
const PATH = "/api/v1/social/whatsapp";
const PHONE_ID = "106540352242922";
/** The baseline's secret too (bench/hub-only/worker.ts). */
const APP_SECRET = "bench-app-secret-not-for-production";
// A small JPEG-sized payload: what the media server serves for every image.
const IMAGE = randomBytes(24 * 1024);

const opts = {
  count: envInt("BENCH_SOCIAL_COUNT", 1000),
  media: envInt("BENCH_SOCIAL_MEDIA", 200),
  concurrency: envInt("BENCH_SOCIAL_CONCURRENCY", 8),
  warmup: envInt("BENCH_SOCIAL_WARMUP", 50),
  senders: 50,
  pairs: 20,
  retries: 50,
  port: envInt("BENCH_PORT", 8801),
  requestTimeoutMs: 30_000,
  phaseTimeLimitMs: 600_000,
};

const TEXTS = [
  "Hi, my order #### still hasn't shipped. Can someone check?",
  "Is the store on Main St open on Sunday?",
  "Bonjour, ma commande #### est arrivée abîmée. Que dois-je faire ?",
  "您好，我的订单####什么时候发货？",
  "Thanks 👍 got it",
  "Can I change my delivery slot for #### to Thursday morning? 🙏",
];

interface Webhook {
  id: string;
  raw: string;
  sig: string;
}

const sign = (raw: string) => `sha256=${createHmac("sha256", APP_SECRET).update(raw).digest("hex")}`;

function webhook(id: string, from: string, at: number, message: Record<string, unknown>): Webhook {
  const body = {
    object: "whatsapp_business_account",
    entry: [{ id: "102290129340398", changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata: { display_phone_number: "15550783881", phone_number_id: PHONE_ID }, contacts: [{ profile: { name: `Customer ${from.slice(-4)}` }, wa_id: from }], messages: [{ from, id, timestamp: String(Math.floor(at / 1000)), ...message }] } }] }],
  };
  const raw = JSON.stringify(body);
  return { id, raw, sig: sign(raw) };
}

const sender = (i: number) => `1415555${String(1000 + (i % opts.senders)).padStart(4, "0")}`;
const textHook = (run: string, phase: string, i: number, at = Date.now()) => webhook(`wamid.${run}${phase}${i}`, sender(i), at, { type: "text", text: { body: TEXTS[i % TEXTS.length]!.replace("####", String(100_000 + i)) } });
const imageHook = (run: string, i: number) => webhook(`wamid.${run}m${i}`, sender(i + 7), Date.now(), { type: "image", image: { id: `MEDIA${run}${i}`, mime_type: "image/jpeg", caption: `photo ${i}` } });

async function post(url: string, w: Webhook, sig = w.sig): Promise<{ status: number; body: string; ms: number }> {
  const t0 = performance.now();
  const r = await request(url, { method: "POST", headers: { "content-type": "application/json", "x-hub-signature-256": sig, "user-agent": "facebookexternalua" }, body: w.raw, expect: "any", timeoutMs: opts.requestTimeoutMs });
  return { status: r.status, body: r.body, ms: performance.now() - t0 };
}

interface Load {
  sent: number;
  ok: number;
  perS: number;
  ms: Latency;
  errors: number;
  errorSamples: { index: number; error: string }[];
}

async function load(url: string, hooks: Webhook[], c: number): Promise<Load> {
  const r = await pool(hooks.length, c, opts.phaseTimeLimitMs, async (i) => {
    const a = await post(url, hooks[i]!);
    if (a.status !== 200) throw new Error(`${hooks[i]!.id}: ${a.status} ${a.body.slice(0, 200)}`);
    return a.ms;
  });
  const ok = r.results.filter((x): x is number => x !== undefined);
  return { sent: r.started, ok: ok.length, perS: perSecond(ok.length, r.elapsedMs), ms: latency(ok), errors: r.errors.length, errorSamples: r.errors.slice(0, 5) };
}

function socialTenant(mediaPort: number): TenantConfigInput {
  return {
    tenant: { id: TENANT, name: "Social bench" },
    settings: { offerTimeoutSeconds: 600, tokenTtlSeconds: 8 * 3600, afterWorkSeconds: 0, notReadyReasons: ["break"] },
    skills: [],
    agents: [
      ...Array.from({ length: 5 }, (_, i) => ({ id: `s${i}`, login: `s${i}`, fullName: `Social Agent ${i}`, role: "agent" as const, password: PASSWORD, skills: {}, capacity: { chat: 5 } })),
      { id: "sup", login: "sup", fullName: "Bench Supervisor", role: "supervisor" as const, password: PASSWORD, skills: {}, capacity: {} },
    ],
    queues: [{ name: "social", media: ["chat" as const], steps: [{ type: "route" as const, targets: [{ skills: "*" }] }] }],
    workflows: [{ name: "wa", queue: "social" }],
    social: { whatsapp: [{ phoneNumberId: PHONE_ID, number: "+15550783881", workflow: "wa", appSecret: "meta-app", verifyToken: "meta-verify", token: "wa-token", apiBase: `http://127.0.0.1:${mediaPort}/v21.0` }] },
  };
}

/** The Graph API's media endpoints: the lookup, then the bytes. */
function mediaServer(port: number, counts: { lookups: number; downloads: number }): Promise<Server> {
  const s = createServer((req, res) => {
    const url = req.url ?? "";
    if (url.startsWith("/v21.0/MEDIA")) {
      counts.lookups++;
      return void res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ url: `http://127.0.0.1:${port}/media${url.slice(6)}`, mime_type: "image/jpeg", file_size: IMAGE.length }));
    }
    if (url.startsWith("/media/")) {
      counts.downloads++;
      return void res.writeHead(200, { "Content-Type": "image/jpeg", "Content-Length": String(IMAGE.length) }).end(IMAGE);
    }
    res.writeHead(404).end();
  });
  return new Promise((r) => s.listen(port, "127.0.0.1", () => r(s)));
}

export async function run(): Promise<BenchResult> {
  const { count: N, media: M, concurrency: C, warmup: W, port } = opts;
  const basePort = port + 2;
  const mediaPort = port + 4;
  const phases: Record<string, number> = {};
  const phase = phaseTimer(phases);
  const cpu: Record<string, CpuUse & { workerd_cpu_ms_per_msg: number }> = {};
  const measured = async <T>(label: string, dev: Dev, n: number, fn: () => Promise<T>): Promise<T> => {
    const meter = cpuMeter(dev.pid);
    try {
      return await fn();
    } finally {
      const use = meter();
      cpu[label] = { ...use, workerd_cpu_ms_per_msg: round((use.workerd * 1000) / n, 3) };
    }
  };
  const loadBefore = loadavg().map((x) => round(x, 2));
  const w = workdir();
  const run8 = randomBytes(4).toString("hex");
  const warm = Array.from({ length: W }, (_, i) => textHook(run8, "w", i));
  const main = Array.from({ length: N }, (_, i) => textHook(run8, "t", i));
  const images = Array.from({ length: M }, (_, i) => imageHook(run8, i));
  const logPath = `${root}bench/results/social-wrangler.log`;
  const baseLogPath = `${root}bench/results/social-hub-only-wrangler.log`;
  const counts = { lookups: 0, downloads: 0 };
  let baseDev: Dev | undefined;
  let dev: Dev | undefined;
  let media: Server | undefined;
  try {
    await ensurePortsFree(port, port + 1000, basePort, basePort + 1000, mediaPort);

    // ---- 1. the baseline ----
    const bw = baselineWorkdir(w, "hub-only");
    const baseline = await phase(`hub-only Worker: wrangler dev on :${basePort}, ${W} warm-up, ${N} webhooks, ${C} in flight`, async () => {
      baseDev = startDev(basePort, bw, { logPath: baseLogPath, inspectorPort: basePort + 1000 });
      const d = baseDev;
      await waitUpOrBuildError(d);
      const url = `${d.base}${PATH}`;
      const wu = await load(url, warm, C);
      if (wu.errors) throw new Error(`hub-only warm-up: ${wu.errors} failed; first: ${wu.errorSamples[0]?.error}`);
      await settle(d.pid, { minS: 3, maxS: 30 });
      const r = await measured("baseline", d, N, () => load(url, main, C));
      if (r.errors) throw new Error(`hub-only: ${r.errors} of ${N} failed; first: ${r.errorSamples[0]?.error}`);
      await d.stop();
      return r;
    });

    // ---- 2. Parley ----
    const checks: Record<string, unknown> = {};
    let text: Load | undefined;
    let withMedia: Load | undefined;
    let parleyError: string | undefined;
    try {
      media = await mediaServer(mediaPort, counts);
      // The media server is the one host this snapshot may fetch from over plain http.
      appendFileSync(join(w.src, ".dev.vars"), `\nDEV_OUTBOUND_HOST=127.0.0.1:${mediaPort}\n`);
      await phase("D1 migrations and the tenant (one WhatsApp number → queue social, nobody logged in)", async () => {
        applyMigrationsIn(w);
        const { loadBigTenant } = await import("./lib/tenant.ts");
        await loadBigTenant(socialTenant(mediaPort), INGEST_KEY, w, { "meta-app": APP_SECRET, "meta-verify": "bench-verify", "wa-token": "bench-token" });
      });
      dev = startDev(port, w, { logPath, inspectorPort: port + 1000, vars: { BENCH: "1" } });
      const d = dev;
      const url = `${d.base}${PATH}`;
      await phase(`parley: wrangler dev on :${port}`, () => waitUpOrBuildError(d));
      await phase(`parley warm-up: a forged signature, then ${W} webhooks`, async () => {
        const f = await post(url, warm[0]!, sign("forged"));
        checks.forged_signature = { status: f.status, refused: f.status === 403 };
        const wu = await load(url, warm, C);
        if (wu.ok === 0) throw new Error(`parley took none of the warm-up; first: ${wu.errorSamples[0]?.error}`);
        checks.warmup = { ok: wu.ok, errors: wu.errors };
      });
      await phase("settling", () => settle(d.pid, { minS: 3, maxS: 30 }));
      text = await phase(`parley text: ${N} webhooks from ${opts.senders} senders, ${C} in flight`, () => measured("text", d, N, () => load(url, main, C)));
      await phase("settling", () => settle(d.pid, { minS: 3, maxS: 30 }));
      withMedia = await phase(`parley media: ${M} image webhooks, each fetched into R2, ${C} in flight`, () => measured("media", d, M, () => load(url, images, C)));

      // Reversed pairs: the later message first, each pair from a sender of its own.
      const now = Date.now();
      const pairs = Array.from({ length: opts.pairs }, (_, i) => {
        const from = `1628555${String(2000 + i).padStart(4, "0")}`;
        const first = webhook(`wamid.${run8}p${i}a`, from, now - 60_000, { type: "text", text: { body: `first ${i}` } });
        const second = webhook(`wamid.${run8}p${i}b`, from, now, { type: "text", text: { body: `second ${i}` } });
        return { first, second };
      });
      await phase(`${opts.pairs} pairs sent in reverse order`, async () => {
        for (const p of pairs) {
          const a = await post(url, p.second);
          const b = await post(url, p.first);
          if (a.status !== 200 || b.status !== 200) throw new Error(`pair: ${a.status} ${b.status}`);
        }
      });
      await phase(`retries: ${opts.retries} measured webhooks sent again`, async () => {
        const r = await pool(Math.min(opts.retries, N), C, 60_000, async (i) => {
          const a = await post(url, main[i]!);
          return a.status === 200 && /"duplicates":1/.test(a.body);
        });
        checks.retries = { sent: r.started, answered_duplicate: r.results.filter(Boolean).length };
      });
      // The order as the history lists it (the provider's), read through the API for each pair.
      const { issueToken } = await import("../workers/auth/tokens.ts");
      const token = (await issueToken(authSecret(w), { tenant: TENANT, agentId: "sup", role: "supervisor" }, 3600)).token;
      let fixed = 0;
      const ids = queryD1<{ provider_id: string; interaction_id: string }>(w, `SELECT provider_id, interaction_id FROM social_messages WHERE tenant_id = '${TENANT}' AND provider_id LIKE 'wamid.${run8}p%a'`);
      for (const row of ids) {
        const res = await fetch(`${d.base}/api/v1/interactions/${row.interaction_id}/social`, { headers: { authorization: `Bearer ${token}` } });
        const j = (await res.json()) as { messages?: { providerId: string }[] };
        const order = (j.messages ?? []).map((m) => m.providerId).filter((x) => x.startsWith(`wamid.${run8}p`));
        if (order.length === 2 && order[0]!.endsWith("a") && order[1]!.endsWith("b")) fixed++;
      }
      checks.out_of_order = { pairs: opts.pairs, listed_in_provider_order: fixed };
      await sleep(2000);
      await d.stop();
      await phase("D1 checks (wrangler dev stopped)", async () => {
        const T = `tenant_id = '${TENANT}'`;
        const row = queryD1<Record<string, number>>(
          w,
          `SELECT (SELECT COUNT(*) FROM social_messages WHERE ${T} AND direction = 'in') AS rows_in,
                  (SELECT COUNT(DISTINCT provider_id) FROM social_messages WHERE ${T} AND direction = 'in') AS distinct_ids,
                  (SELECT COUNT(*) FROM social_messages WHERE ${T} AND state != 'posted') AS not_posted,
                  (SELECT COUNT(*) FROM social_media WHERE ${T} AND state = 'stored') AS media_stored,
                  (SELECT COUNT(*) FROM social_media WHERE ${T}) AS media_rows,
                  (SELECT COUNT(*) FROM interactions WHERE ${T} AND channel = 'whatsapp') AS conversations`,
        )[0] ?? {};
        checks.d1 = row;
      });
    } catch (err) {
      parleyError = (err instanceof Error ? err.message : String(err)).slice(0, 1000);
      console.log(`\n  parley phase failed: ${parleyError.split("\n")[0]}`);
    }

    const d1 = (checks.d1 ?? {}) as Record<string, number>;
    const expectedRows = W + N + M + 2 * opts.pairs;
    const duplicates = d1.rows_in !== undefined ? d1.rows_in - d1.distinct_ids! : null;
    const r = text ? ratio(text.perS, baseline.perS) : null;
    const result = {
      inbound_per_s: text?.perS ?? null,
      baseline_per_s: baseline.perS,
      media_inbound_per_s: withMedia?.perS ?? null,
      duplicates_stored: duplicates,
      out_of_order_fixed: (checks.out_of_order as { listed_in_provider_order?: number } | undefined)?.listed_in_provider_order ?? null,
      detail: {
        bench: name,
        date: new Date().toISOString(),
        target: { inbound_at_least_half_baseline: r === null ? null : r >= 0.5, ratio: r },
        ...(parleyError ? { parley_error: parleyError } : {}),
        latency_ms: { text: text?.ms ?? null, media: withMedia?.ms ?? null, baseline: baseline.ms },
        counts: { measured: N, media: M, warmup: W, concurrency: C, senders: opts.senders, expected_rows: expectedRows, text, media_load: withMedia, baseline: { ok: baseline.ok, errors: baseline.errors } },
        checks,
        media_server: counts,
        phases_s: phases,
        cpu,
        wrangler_log: { path: "bench/results/social-wrangler.log", ...troubleInLog(logPath) },
        code: w.code,
        load_average: { before: loadBefore, after: loadavg().map((x) => round(x, 2)) },
        machine: { node: process.version, cpus: cpus().length, cpu_model: cpus()[0]?.model ?? "unknown", memory_gb: round(totalmem() / 2 ** 30, 1), through: "wrangler dev (local workerd), client on the same machine" },
      },
    };
    const summary = [
      `hub-only Worker:  ${baseline.perS} webhooks/s   p50 ${baseline.ms.p50} ms   p99 ${baseline.ms.p99} ms   (C=${C})`,
      text ? `parley text:      ${text.perS} webhooks/s   p50 ${text.ms.p50} ms   p99 ${text.ms.p99} ms   (${text.ok}/${N}, ${text.errors} errors)` : `parley: FAILED: ${parleyError?.slice(0, 300)}`,
      withMedia ? `parley media:     ${withMedia.perS} webhooks/s   p50 ${withMedia.ms.p50} ms   p99 ${withMedia.ms.p99} ms   (${withMedia.ok}/${M}; media server: ${counts.lookups} lookups, ${counts.downloads} downloads)` : "",
      `target inbound/s ≥ 0.5× baseline/s: ${r === null ? "n/a" : r >= 0.5 ? "met" : "MISSED"} (ratio ${r ?? "n/a"})`,
      `stored: ${JSON.stringify(d1)} (expected ${expectedRows} rows); duplicates stored ${duplicates}; reversed pairs in provider order ${JSON.stringify(checks.out_of_order)}; retries ${JSON.stringify(checks.retries)}; forged ${JSON.stringify(checks.forged_signature)}`,
    ].filter(Boolean);
    return { result, summary };
  } finally {
    if (baseDev) await baseDev.stop();
    if (dev) await dev.stop();
    media?.close();
    removeWorkdir(w);
  }
}
