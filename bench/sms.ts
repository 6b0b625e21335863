// SMS bench: Twilio inbound webhooks taken per second (POST /api/v1/sms/twilio: signature checked, the
// message stored, an SMS interaction created and queued, TwiML back) against a bare Worker that only
// answers TwiML to the same requests, and against a bare pipeline of the same shape as Parley's, each
// measured in the same run at the same concurrency.
//
//   1. Baseline: bench/twiml-only in its own wrangler dev (port BENCH_PORT+2); the warm-up, then the N
//      measured webhooks, C in flight. Stopped before 1b.
//  1b. Same shape: bench/shape-sms in its own wrangler dev (port BENCH_PORT+2 again, fresh state), no
//      Parley logic: the X-Twilio-Signature checked (WebCrypto HMAC-SHA1 over PUBLIC_URL's origin + the
//      path + the sorted fields, base64, constant-time compare; given Parley's PUBLIC_URL and the token
//      with --var) → one D1 batch (two INSERTs) → one Durable Object RPC → the empty TwiML. A forged
//      signature first (must be a 403), then the same warm-up and N webhooks, C in flight. Stopped
//      before 2. Target (ratio_same_shape.per_s): inbound/s ≥ 0.6× the same shape's.
//   2. Parley: a snapshot of the code (fresh state) with a tenant "bench" whose Twilio number (paging
//      mode) leads to the queue "sms" (nobody logged in: stored and queued is what counts), signed with
//      the tenant's own secret "twilio" (sealed into the snapshot's D1). A forged signature first (must be a 403),
//      the same warm-up and the same N webhooks, C in flight, each one a 200 with an empty TwiML
//      <Response>; then a few measured ones again (Twilio's retry: the same answer, nothing stored twice),
//      the queue's stats, and (after stopping) D1: N sms_messages rows for the measured MessageSids, N
//      distinct interactions of media sms, none twice.
//
// Every webhook is what Twilio posts for an SMS (its fields, a unique MessageSid, one of six senders,
// bodies in GSM-7 and UCS-2, one and several segments), signed as Twilio signs it: base64 HMAC-SHA1,
// keyed with the auth token, over the URL Twilio was given (Parley's PUBLIC_URL origin + the path,
// whatever port the bench uses) followed by the fields sorted by name. Both Workers get the same bytes.
// Sizes: BENCH_SMS_COUNT, BENCH_SMS_CONCURRENCY, BENCH_SMS_WARMUP, BENCH_PORT. BENCH_PROFILE=1: V8 CPU
// profiles of both measured phases (the Worker's isolate; the runtime's D1 and entry isolates), figures
// to sms-profiled.json.
import { createHmac, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { root } from "../scripts/local.ts";
import { tripsFor, type TripOp, type TripsResult } from "./lib/trips.ts";
import { tripsSummary } from "./trips.ts";
import type { TenantConfigInput } from "../workers/config/schema.ts";
import { segmentInfo } from "../workers/sms/segments.ts";
import { cpuMeter, settle, type CpuUse } from "./lib/cpu.ts";
import { bundleMap, runtimeInspector, startProfile, startProfileAt, summarize, type ProfileSummary } from "./lib/profile.ts";
import { applyMigrationsIn, authSecret, baselineWorkdir, ensurePortsFree, queryD1, removeWorkdir, startDev, troubleInLog, waitUpOrBuildError, workdir, type Dev } from "./lib/dev.ts";
import { envInt } from "./lib/env.ts";
import { phaseTimer } from "./lib/phase.ts";
import { pool, request, sleep } from "./lib/pool.ts";
import { latency, perSecond, ratio, round, type Latency } from "./lib/stats.ts";
import type { BenchResult } from "./lib/types.ts";

export const name = "sms";
export const description = "Twilio inbound SMS webhooks stored and queued per second (POST /api/v1/sms/twilio) vs. a bare Worker answering TwiML and a same-shape bare pipeline (signature, D1 batch, one object RPC, TwiML)";

const TENANT = "bench";
const INGEST_KEY = "bench-sms-ingest-key-not-secret";
const PASSWORD = "bench-password-shared";
const PATH = "/api/v1/sms/twilio";
/** The contact-center number (Twilio's sandbox number) and its account. */
const CENTER = "+14155238886";
const ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef";
/** 32 hex characters, as Twilio's auth tokens are; only for this bench's wrangler dev. */
const AUTH_TOKEN = "0b3c1e5a7d9f2468ace13579bdf02468";
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

const opts = {
  count: envInt("BENCH_SMS_COUNT", 2000),
  concurrency: envInt("BENCH_SMS_CONCURRENCY", 8),
  warmup: envInt("BENCH_SMS_WARMUP", 100),
  /** Measured webhooks sent again afterwards, as Twilio retries. */
  retries: 20,
  port: envInt("BENCH_PORT", 8801),
  /** BENCH_PROFILE=1: profiles of the measured phases (figures then go to sms-profiled.json). */
  profile: process.env.BENCH_PROFILE === "1",
  requestTimeoutMs: 30_000,
  phaseTimeLimitMs: 600_000,
};

/** The senders, with the location fields Twilio adds (empty outside North America). */
const SENDERS = [
  { from: "+14155550101", country: "US", state: "CA", city: "SAN FRANCISCO", zip: "94107" },
  { from: "+447911123456", country: "GB", state: "", city: "", zip: "" },
  { from: "+33612345678", country: "FR", state: "", city: "", zip: "" },
  { from: "+4915123456789", country: "DE", state: "", city: "", zip: "" },
  { from: "+8613800138000", country: "CN", state: "", city: "", zip: "" },
  { from: "+306912345678", country: "GR", state: "", city: "", zip: "" },
];

/** Bodies as customers write them; `#` becomes a number unique to the send. None is a keyword (STOP, HELP…). */
const BODIES = [
  "Hi, my order #### still hasn't shipped. Can someone check?",
  "Is the store on Main St open on Sunday?",
  "I was charged twice for order ####, please refund one of them. Thanks",
  "Bonjour, ma commande #### est arrivée abîmée. Que dois-je faire ?",
  "Hallo, können Sie mir die Rechnung für Bestellung #### schicken? Danke!",
  "Thanks 👍 got it",
  "您好，我的订单####什么时候发货？",
  "Καλησπέρα, θα ήθελα να αλλάξω τη διεύθυνση παράδοσης για την παραγγελία ####.",
  "Здравствуйте! Заказ #### пришёл не того размера, можно обменять?",
  "Hello, I've been trying to reach someone about my account for three days now. The app keeps saying my card was declined but the bank says everything is fine. Order ####, can you call me back after 5pm?",
  "Can I change my delivery slot for #### to Thursday morning? 🙏 I won't be home on Wednesday, sorry for the hassle, and please leave it with the neighbour at no. 12 if nobody answers.",
  "ok",
];

interface Webhook {
  sid: string;
  from: string;
  body: string;
  encoding: string;
  /** The urlencoded request body and its X-Twilio-Signature. */
  form: string;
  signature: string;
}

/** Twilio's signature (https://www.twilio.com/docs/usage/security#validating-requests), written here
 *  with node:crypto rather than taken from Parley: the URL, then each field name and value, by name. */
function twilioSign(url: string, params: [string, string][]): string {
  const data = url + [...params].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => k + v).join("");
  return createHmac("sha1", AUTH_TOKEN).update(data, "utf8").digest("base64");
}

/** Webhook `i` of a phase: a unique MessageSid ("SM" + 32 hex: the run, the phase, the index). */
function webhook(run: string, phase: "a" | "b" | "c", i: number, signedUrl: string): Webhook {
  const sid = `SM${run}${phase}0${i.toString(16).padStart(22, "0")}`;
  const s = SENDERS[i % SENDERS.length]!;
  // Senders and bodies cycle at different lengths (6 and 12 → each sender gets half of them): offset so all meet.
  const body = BODIES[(i + Math.floor(i / BODIES.length)) % BODIES.length]!.replace("####", String(100_000 + i));
  const seg = segmentInfo(body);
  const params: [string, string][] = [
    ["ToCountry", "US"], ["ToState", "CA"], ["SmsMessageSid", sid], ["NumMedia", "0"], ["ToCity", "SAN FRANCISCO"], ["FromZip", s.zip],
    ["SmsSid", sid], ["FromState", s.state], ["SmsStatus", "received"], ["FromCity", s.city], ["Body", body], ["FromCountry", s.country],
    ["To", CENTER], ["ToZip", "94105"], ["NumSegments", String(seg.segments)], ["MessageSid", sid], ["AccountSid", ACCOUNT_SID], ["From", s.from], ["ApiVersion", "2010-04-01"],
  ];
  return { sid, from: s.from, body, encoding: seg.encoding, form: new URLSearchParams(params).toString(), signature: twilioSign(signedUrl, params) };
}

// node:http with keep-alive, like lib/pool.ts's request, but every status and the content type returned.
interface Answer {
  status: number;
  type: string;
  body: string;
  ms: number;
}

async function post(url: string, wh: Webhook, signature = wh.signature): Promise<Answer> {
  const t0 = performance.now();
  const r = await request(url, {
    method: "POST",
    // What Twilio sends along (its User-Agent, the signature), minus what only matters on the internet.
    headers: { "content-type": "application/x-www-form-urlencoded", "user-agent": "TwilioProxy/1.1", "x-twilio-signature": signature, accept: "*/*" },
    body: wh.form,
    expect: "any",
    timeoutMs: opts.requestTimeoutMs,
  });
  return { ...r, ms: performance.now() - t0 };
}

/** A webhook answered as Twilio needs: 200, XML, an empty <Response> (no reply texted). */
async function send(url: string, wh: Webhook): Promise<number> {
  const a = await post(url, wh);
  if (a.status !== 200 || !/^text\/xml\b/i.test(a.type) || a.body !== EMPTY_TWIML) throw new Error(`${wh.sid}: ${a.status} ${a.type} ${a.body.slice(0, 200)}`);
  return a.ms;
}

interface Load {
  sent: number;
  ok: number;
  perS: number;
  ms: Latency;
  spanS: number;
  errors: number;
  errorSamples: { index: number; error: string }[];
}

/** The webhooks, C in flight; per second is those answered right over the time from the first send to the last answer. */
async function load(url: string, whs: Webhook[], c: number): Promise<Load> {
  const r = await pool(whs.length, c, opts.phaseTimeLimitMs, (i) => send(url, whs[i]!));
  const ok = r.results.filter((x): x is number => x !== undefined);
  return { sent: r.started, ok: ok.length, perS: perSecond(ok.length, r.elapsedMs), ms: latency(ok), spanS: round(r.elapsedMs / 1000, 2), errors: r.errors.length, errorSamples: r.errors.slice(0, 5) };
}

function smsTenant(): TenantConfigInput {
  return {
    tenant: { id: TENANT, name: "SMS bench" },
    settings: { offerTimeoutSeconds: 600, tokenTtlSeconds: 8 * 3600, afterWorkSeconds: 0, notReadyReasons: ["break"] },
    skills: [],
    agents: [
      // Nobody logs in: stored and queued is what the bench counts.
      ...Array.from({ length: 5 }, (_, i) => ({ id: `s${i}`, login: `s${i}`, fullName: `SMS Agent ${i}`, role: "agent" as const, password: PASSWORD, skills: {}, capacity: { sms: 5 } })),
      { id: "sup", login: "sup", fullName: "Bench Supervisor", role: "supervisor" as const, password: PASSWORD, skills: {}, capacity: {} },
    ],
    queues: [{ name: "sms", media: ["sms" as const], steps: [{ type: "route" as const, targets: [{ skills: "*" }] }] }],
    workflows: [{ name: "sms", queue: "sms" }],
    numbers: [{ number: CENTER, provider: "twilio" as const, mode: "paging" as const, workflow: "sms", accountSid: ACCOUNT_SID, secret: "twilio" }],
  };
}

const tomlVar = (path: string, key: string) => new RegExp(`^${key}\\s*=\\s*"([^"]+)"`, "m").exec(readFileSync(path, "utf8"))?.[1];
const compatDate = (path: string) => tomlVar(path, "compatibility_date") ?? "unknown";
const errText = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 1000);
const reloads = (logPath: string) => {
  try {
    return (readFileSync(logPath, "utf8").match(/Reloading local server/g) ?? []).length;
  } catch {
    return null;
  }
};

function version(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(`${root}node_modules/${pkg}/package.json`, "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

export async function run(): Promise<BenchResult> {
  const { count: N, concurrency: C, warmup: W, port } = opts;
  const basePort = port + 2;
  const phases: Record<string, number> = {};
  const phase = phaseTimer(phases);
  const cpu: Record<string, CpuUse & { workerd_cpu_ms_per_msg: number }> = {};
  const profiles: Record<string, ProfileSummary & { ms_per_msg: number; busy_ms_per_msg: number }> = {};
  const profileErrors: string[] = [];
  /** A measured phase of `n` webhooks: CPU use by process and, with BENCH_PROFILE=1, V8 profiles of the
   *  Worker's isolate and of the runtime's D1 and entry isolates (as bench/email.ts). */
  const measured = async <T>(label: string, dev: Dev, src: string, n: number, fn: () => Promise<T>): Promise<T> => {
    const stops: { isolate: string; stop: () => Promise<Parameters<typeof summarize>[0]> }[] = [];
    if (opts.profile) {
      try {
        stops.push({ isolate: "worker", stop: await startProfile(dev.inspectorPort) });
      } catch (err) {
        profileErrors.push(`${label} worker: ${errText(err)}`);
      }
      const rt = await runtimeInspector(dev.pid).catch(() => undefined);
      if (!rt) profileErrors.push(`${label}: workerd's own inspector not found: no D1 profiles`);
      for (const t of rt?.targets ?? []) {
        if (!/^(d1:|core:entry$)/.test(t.id)) continue;
        try {
          stops.push({ isolate: t.id, stop: await startProfileAt(t.url) });
        } catch (err) {
          profileErrors.push(`${label} ${t.id}: ${errText(err)}`);
        }
      }
    }
    const meter = cpuMeter(dev.pid);
    try {
      return await fn();
    } finally {
      const use = meter();
      cpu[label] = { ...use, workerd_cpu_ms_per_msg: round((use.workerd * 1000) / n, 3) };
      for (const { isolate, stop } of stops) {
        try {
          const p = await stop();
          const file = `${label}-${isolate.replace(/[^a-z0-9]+/gi, "_")}`;
          writeFileSync(`${root}bench/results/sms-${file}.cpuprofile`, JSON.stringify(p));
          const sum = summarize(p, isolate === "worker" ? bundleMap(src) : undefined, 30, 1000);
          profiles[file] = { ...sum, ms_per_msg: round(sum.totalMs / n, 3), busy_ms_per_msg: round((sum.totalMs * sum.busyPct) / 100 / n, 3) };
        } catch (err) {
          profileErrors.push(`${label} ${isolate}: ${errText(err)}`);
        }
      }
    }
  };

  const loadBefore = loadavg().map((x) => round(x, 2));
  const w = workdir();
  const logPath = `${root}bench/results/sms-wrangler.log`;
  const baseLogPath = `${root}bench/results/sms-twiml-only-wrangler.log`;
  const shapeLogPath = `${root}bench/results/sms-shape-wrangler.log`;
  // Twilio signs the URL it was configured with, Parley's public one, whatever port wrangler dev is on.
  const publicUrl = tomlVar(join(w.src, "wrangler.toml"), "PUBLIC_URL");
  if (!publicUrl) throw new Error("wrangler.toml has no PUBLIC_URL var to sign Twilio's webhooks for");
  const signedUrl = `${new URL(publicUrl).origin}${PATH}`;
  // 8 hex characters for this run: its MessageSids are its own.
  const run8 = randomBytes(4).toString("hex");
  const warm = Array.from({ length: W }, (_, i) => webhook(run8, "a", i, signedUrl));
  const main = Array.from({ length: N }, (_, i) => webhook(run8, "b", i, signedUrl));
  const forged = webhook(run8, "c", 0, signedUrl);
  const measuredLike = `SM${run8}b0%`;
  let baseDev: Dev | undefined;
  let shapeDev: Dev | undefined;
  let dev: Dev | undefined;

  try {
    await ensurePortsFree(port, port + 1000, basePort, basePort + 1000);
    console.log(`  code: ${w.code.ref} at ${w.code.commit.slice(0, 12)}${w.code.dirty.length ? ` with ${w.code.dirty.length} changed file(s)` : ""}, snapshot in ${w.src}`);

    // ---- 1. the TwiML-only baseline ----
    const bw = baselineWorkdir(w, "twiml-only");
    const baseline = await phase(`twiml-only Worker: wrangler dev on :${basePort}, ${W} warm-up, ${N} webhooks, ${C} in flight`, async () => {
      baseDev = startDev(basePort, bw, { logPath: baseLogPath, inspectorPort: basePort + 1000 });
      const d = baseDev;
      await waitUpOrBuildError(d);
      const url = `${d.base}${PATH}`;
      const wu = await load(url, warm, C);
      if (wu.errors) throw new Error(`twiml-only warm-up: ${wu.errors} failed; first: ${wu.errorSamples[0]?.error}`);
      await settle(d.pid, { minS: 3, maxS: 30 });
      const r = await measured("baseline", d, bw.src, N, () => load(url, main, C));
      if (r.errors) throw new Error(`twiml-only: ${r.errors} of ${N} failed; first: ${r.errorSamples.map((e) => `#${e.index} ${e.error}`).join(" | ")}`);
      await d.stop();
      return r;
    });
    const baseTrouble = troubleInLog(baseLogPath);

    // ---- 1b. the same shape, without Parley ----
    let shape: Load | undefined;
    let shapeError: string | undefined;
    let shapeForged: { status: number; refused: boolean } | undefined;
    let shapeTrouble: ReturnType<typeof troubleInLog> | undefined;
    try {
      const sw = baselineWorkdir(w, "shape-sms");
      shape = await phase(`same-shape Worker: wrangler dev on :${basePort}, a forged signature, ${W} warm-up, ${N} webhooks, ${C} in flight`, async () => {
        shapeDev = startDev(basePort, sw, { logPath: shapeLogPath, inspectorPort: basePort + 1000, vars: { PUBLIC_URL: publicUrl, TWILIO_AUTH_TOKEN: AUTH_TOKEN } });
        const d = shapeDev;
        await waitUpOrBuildError(d);
        const url = `${d.base}${PATH}`;
        const a = await post(url, forged, twilioSign(signedUrl, [["MessageSid", forged.sid]]));
        shapeForged = { status: a.status, refused: a.status === 403 };
        if (!shapeForged.refused) throw new Error(`same shape took a forged signature: ${a.status} ${a.body.slice(0, 200)}`);
        const wu = await load(url, warm, C);
        if (wu.errors) throw new Error(`same-shape warm-up: ${wu.errors} failed; first: ${wu.errorSamples[0]?.error}`);
        await settle(d.pid, { minS: 3, maxS: 30 });
        const r = await measured("same_shape", d, sw.src, N, () => load(url, main, C));
        if (r.errors) throw new Error(`same shape: ${r.errors} of ${N} failed; first: ${r.errorSamples.map((e) => `#${e.index} ${e.error}`).join(" | ")}`);
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

    // ---- 2. Parley ----
    let inbound: Load | undefined;
    let parleyError: string | undefined;
    let trouble: ReturnType<typeof troubleInLog> | undefined;
    const checks: Record<string, unknown> = {};
    try {
      await phase("D1 migrations and the tenant (Twilio number, paging → queue sms, 5 agents, nobody logged in)", async () => {
        applyMigrationsIn(w);
        // Loaded late: a half-edited tree breaks phase 2 only, not the baseline.
        const { loadBigTenant } = await import("./lib/tenant.ts");
        // The number's token is the tenant's own secret "twilio" (no Worker variable is used).
        await loadBigTenant(smsTenant(), INGEST_KEY, w, { twilio: AUTH_TOKEN });
      });
      dev = startDev(port, w, { logPath, inspectorPort: port + 1000, vars: { BENCH: "1" } });
      const d = dev;
      const url = `${d.base}${PATH}`;
      await phase(`parley: wrangler dev on :${port} (log: bench/results/sms-wrangler.log)`, () => waitUpOrBuildError(d));

      await phase(`parley warm-up: a forged signature, then ${W} webhooks, ${C} in flight`, async () => {
        const a = await post(url, forged, twilioSign(signedUrl, [["MessageSid", forged.sid]]));
        checks.forged_signature = { status: a.status, body: a.body.slice(0, 200), refused: a.status === 403 };
        const wu = await load(url, warm, C);
        checks.warmup = { ok: wu.ok, errors: wu.errors, error_samples: wu.errorSamples };
        if (wu.ok === 0) throw new Error(`parley took none of the warm-up; first: ${wu.errorSamples[0]?.error}`);
      });
      await phase("settling (wrangler dev quiet)", () => settle(d.pid, { minS: 3, maxS: 30 }));
      inbound = await phase(`parley inbound: ${N} webhooks, ${C} in flight`, () => measured("inbound", d, w.src, N, () => load(url, main, C)));

      // Twilio retries a webhook it got no answer to: the same answer, nothing new stored.
      await phase(`retries: ${opts.retries} measured webhooks sent again`, async () => {
        const r = await pool(Math.min(opts.retries, N), C, 60_000, (i) => send(url, main[i]!));
        checks.retries = { sent: r.started, answered_empty_twiml: r.results.filter((x) => x !== undefined).length, errors: r.errors.slice(0, 3) };
      });

      // The queue as its object sees it.
      try {
        const { issueToken } = await import("../workers/auth/tokens.ts");
        const token = (await issueToken(authSecret(w), { tenant: TENANT, agentId: "sup", role: "supervisor" }, 3600)).token;
        const res = await fetch(`${d.base}/api/v1/stats`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(60_000) });
        const st = (await res.json()) as { queues?: { queue?: string; entered?: number; waiting?: number; offered?: number }[] };
        const q = st.queues?.find((x) => x.queue === "sms");
        checks.queue_stats = { status: res.status, entered: q?.entered, waiting: q?.waiting, offered: q?.offered, expected: W + N };
      } catch (err) {
        checks.queue_stats = { error: errText(err) };
      }
      // Give the objects' outboxes a moment to reach D1 before stopping.
      await sleep(2_000);
      await d.stop();
      trouble = troubleInLog(logPath);

      // ---- D1: each measured webhook stored once, in its own SMS interaction ----
      await phase("D1 checks (wrangler dev stopped)", async () => {
        // One query (each wrangler d1 execute costs some 3 s), each part a JSON value.
        const T = `tenant_id = '${TENANT}'`;
        const M = `provider_id LIKE '${measuredLike}'`;
        const parts: Record<string, string> = {
          measured_sms_messages: `SELECT json_object('rows', COUNT(*), 'sids', COUNT(DISTINCT provider_id), 'interactions', COUNT(DISTINCT interaction_id), 'without_interaction', COALESCE(SUM(interaction_id IS NULL), 0), 'keywords', COALESCE(SUM(keyword IS NOT NULL), 0)) FROM sms_messages WHERE ${T} AND provider = 'twilio' AND direction = 'inbound' AND ${M}`,
          measured_sms_interactions: `SELECT json_object('n', COUNT(*), 'ids', COUNT(DISTINCT i.id)) FROM sms_messages s JOIN interactions i ON i.tenant_id = s.tenant_id AND i.id = s.interaction_id WHERE s.${T} AND s.${M} AND i.media = 'sms' AND i.direction = 'inbound'`,
          measured_interactions_by_external_id: `SELECT json_object('n', COUNT(*)) FROM interactions WHERE ${T} AND media = 'sms' AND external_id LIKE 'sms:twilio:${measuredLike}'`,
          measured_interactions_by_state: `SELECT json_group_array(json_object('state', state, 'n', n)) FROM (SELECT state, COUNT(*) AS n FROM interactions WHERE ${T} AND external_id LIKE 'sms:twilio:${measuredLike}' GROUP BY state)`,
          all_sms_messages: `SELECT json_object('rows', COUNT(*), 'interactions', COUNT(DISTINCT interaction_id)) FROM sms_messages WHERE ${T}`,
          all_interactions_by_media: `SELECT json_group_array(json_object('media', media, 'n', n)) FROM (SELECT media, COUNT(*) AS n FROM interactions WHERE ${T} GROUP BY media)`,
          interactions_with_two_messages: `SELECT json_group_array(json_object('interaction_id', interaction_id, 'n', n)) FROM (SELECT interaction_id, COUNT(*) AS n FROM sms_messages WHERE ${T} AND interaction_id IS NOT NULL GROUP BY interaction_id HAVING n > 1 LIMIT 5)`,
          forged_stored: `SELECT json_object('n', COUNT(*)) FROM sms_messages WHERE provider_id = '${forged.sid}'`,
          encodings: `SELECT json_group_array(json_object('encoding', encoding, 'segments', segments, 'n', n)) FROM (SELECT encoding, segments, COUNT(*) AS n FROM sms_messages WHERE ${T} AND ${M} GROUP BY encoding, segments ORDER BY encoding, segments)`,
          contacts_per_sender: `SELECT json_group_array(json_object('phone', phone, 'contacts', contacts)) FROM (SELECT value AS phone, COUNT(DISTINCT contact_id) AS contacts FROM contact_identifiers WHERE ${T} AND kind = 'phone' GROUP BY value ORDER BY value)`,
        };
        let got: Record<string, unknown> = {};
        try {
          const row = queryD1<Record<string, string>>(w, `SELECT ${Object.entries(parts).map(([k, q]) => `(${q}) AS ${k}`).join(", ")}`)[0] ?? {};
          got = Object.fromEntries(Object.entries(row).map(([k, v]) => [k, JSON.parse(v) as unknown]));
        } catch (err) {
          got = { error: errText(err).slice(0, 300) };
        }
        checks.d1 = got;
        const rows = (got.measured_sms_messages ?? {}) as Record<string, unknown>;
        const ints = (got.measured_sms_interactions ?? {}) as Record<string, unknown>;
        const byExternal = (got.measured_interactions_by_external_id ?? {}) as Record<string, unknown>;
        const okN = inbound!.ok;
        checks.all_stored_once = rows.rows === okN && rows.sids === okN && rows.interactions === okN && ints.n === okN && ints.ids === okN && byExternal.n === okN;
        checks.stored_n = okN === N && checks.all_stored_once === true;
      });
    } catch (err) {
      parleyError = errText(err);
      console.log(`\n  parley phase failed: ${parleyError.split("\n")[0]}`);
      if (dev) {
        await dev.stop();
        trouble = troubleInLog(logPath);
      }
    }

    // ---- figures ----
    const inboundPerS = inbound?.perS ?? null;
    const r = inboundPerS !== null ? ratio(inboundPerS, baseline.perS) : null;
    const met = r === null ? null : r >= 0.5;
    const sameShapeRatio = inbound && shape ? { per_s: ratio(inbound.perS, shape.perS), p99: ratio(inbound.ms.p99, shape.ms.p99) } : null;
    const busy = Object.entries(cpu).filter(([, c]) => c.cores_used.other > 0.2).map(([label, c]) => `${label} ${c.cores_used.other}`);
    const d1 = checks.d1 as { measured_sms_messages?: Record<string, unknown>; contacts_per_sender?: unknown } | undefined;
    // D1 round trips of the operations this bench exercises (issue 17), on a dev of their own.
    const tripOps: TripOp[] = ["sms_webhook"];
    const trips: TripsResult | { error: string } = await phase(`D1 round trips: ${tripOps.join(", ")}, one at a time`, () => tripsFor(tripOps, opts.port, `${root}bench/results/sms-trips-wrangler.log`)).catch((e: unknown) => ({ error: (e instanceof Error ? e.message : String(e)).slice(0, 500) }));
    const result = {
      d1_round_trips: "d1_round_trips" in trips ? trips.d1_round_trips : null,
      d1_round_trips_by_place: "by_place" in trips ? trips.by_place : trips,
      inbound_per_s: inboundPerS,
      baseline_per_s: baseline.perS,
      // The same platform operations without Parley (bench/shape-sms): the same webhooks, N and C.
      same_shape: shape
        ? {
            per_s: shape.perS,
            p99_ms: shape.ms.p99,
            p50_ms: shape.ms.p50,
            ms: shape.ms,
            pipeline: "POST Twilio form → Worker → X-Twilio-Signature check (WebCrypto HMAC-SHA1, base64, constant-time compare) → one D1 batch (2 INSERTs) → one Durable Object RPC → empty TwiML",
            answered_empty_twiml: shape.ok,
            sent: shape.sent,
            span_s: shape.spanS,
            forged_signature: shapeForged ?? null,
          }
        : { per_s: null, p99_ms: null, error: shapeError ?? null, forged_signature: shapeForged ?? null },
      ratio_same_shape: sameShapeRatio ?? { per_s: null, p99: null },
      inbound_at_least_0_6x_same_shape: sameShapeRatio ? sameShapeRatio.per_s >= 0.6 : null,
      detail: {
        bench: name,
        date: new Date().toISOString(),
        target: { inbound_at_least_half_baseline: met, ratio: r },
        ...(parleyError ? { parley_error: parleyError } : {}),
        latency_ms: { inbound: inbound?.ms ?? null, baseline: baseline.ms },
        counts: {
          measured: N,
          warmup: W,
          concurrency: C,
          inbound: inbound ? { sent: inbound.sent, answered_empty_twiml: inbound.ok, errors: inbound.errors, error_samples: inbound.errorSamples, span_s: inbound.spanS } : null,
          baseline: { sent: baseline.sent, answered_empty_twiml: baseline.ok, errors: baseline.errors, span_s: baseline.spanS },
        },
        duplicates_check: {
          all_stored_once: checks.all_stored_once ?? null,
          n_stored_and_queued: checks.stored_n ?? null,
          ...(d1 ?? {}),
          retries: checks.retries ?? null,
        },
        parley_checks: { forged_signature: checks.forged_signature ?? null, warmup: checks.warmup ?? null, queue_stats: checks.queue_stats ?? null },
        webhooks: {
          signed_url: signedUrl,
          senders: SENDERS.map((s) => s.from),
          bodies: BODIES.length,
          encodings: Object.entries(main.reduce<Record<string, number>>((m, x) => ((m[x.encoding] = (m[x.encoding] ?? 0) + 1), m), {})).map(([encoding, n]) => ({ encoding, n })),
          mean_request_bytes: Math.round(main.reduce((s, x) => s + Buffer.byteLength(x.form), 0) / main.length),
          message_sids: `SM${run8}a0… (warm-up), SM${run8}b0… (measured)`,
        },
        phases_s: phases,
        cpu,
        other_load_during: busy,
        wrangler_log: { path: "bench/results/sms-wrangler.log", reloads: reloads(logPath), ...(trouble ?? {}) },
        baseline_wrangler_log: { path: "bench/results/sms-twiml-only-wrangler.log", reloads: reloads(baseLogPath), ...baseTrouble },
        same_shape_wrangler_log: { path: "bench/results/sms-shape-wrangler.log", reloads: reloads(shapeLogPath), ...(shapeTrouble ?? {}) },
        code: w.code,
        compatibility_date: { parley: compatDate(`${root}wrangler.toml`), twiml_only: compatDate(`${root}bench/twiml-only/wrangler.toml`), same_shape: compatDate(`${root}bench/shape-sms/wrangler.toml`) },
        load_average: { before: loadBefore, after: loadavg().map((x) => round(x, 2)) },
        ...(opts.profile ? { profiled: true, profiles, profile_errors: profileErrors } : {}),
        machine: { node: process.version, wrangler: version("wrangler"), cpus: cpus().length, cpu_model: cpus()[0]?.model ?? "unknown", memory_gb: round(totalmem() / 2 ** 30, 1), through: "wrangler dev (local workerd), client on the same machine" },
      },
    };
    const yes = (b: boolean | null) => (b === null ? "n/a" : b ? "met" : "MISSED");
    const summary = [
      `twiml-only Worker: ${baseline.perS} webhooks/s   p50 ${baseline.ms.p50} ms   p99 ${baseline.ms.p99} ms   (C=${C}; workerd ${cpu.baseline?.workerd_cpu_ms_per_msg} ms CPU/webhook)`,
      shape
        ? `same shape:        ${shape.perS} webhooks/s   p50 ${shape.ms.p50} ms   p99 ${shape.ms.p99} ms   (signature, D1 batch, object RPC; ${shape.ok}/${N} answered; workerd ${cpu.same_shape?.workerd_cpu_ms_per_msg} ms CPU/webhook)`
        : `same shape:        FAILED: ${shapeError?.split("\n")[0]?.slice(0, 300)}`,
      inbound
        ? `parley inbound:    ${inbound.perS} webhooks/s   p50 ${inbound.ms.p50} ms   p99 ${inbound.ms.p99} ms   (${inbound.ok}/${N} answered, ${inbound.errors} errors; workerd ${cpu.inbound?.workerd_cpu_ms_per_msg} ms CPU/webhook)`
        : `parley inbound:    FAILED: ${parleyError?.split("\n")[0]?.slice(0, 300)}`,
      `target inbound/s ≥ 0.5× baseline/s:  ${yes(met)} (ratio ${r ?? "n/a"})`,
      `target inbound/s ≥ 0.6× same shape/s: ${yes(result.inbound_at_least_0_6x_same_shape)} (ratio ${sameShapeRatio?.per_s ?? "n/a"}; p99 ratio ${sameShapeRatio?.p99 ?? "n/a"})`,
      ...(inbound ? [`stored once each, own SMS interaction: ${String(checks.all_stored_once)}; measured rows ${JSON.stringify(d1?.measured_sms_messages)}; forged signature ${JSON.stringify((checks.forged_signature as { status?: number } | undefined)?.status)}; retries ${JSON.stringify(checks.retries)}; queue ${JSON.stringify(checks.queue_stats)}`] : []),
      ...(busy.length ? [`WARNING: other processes used CPU during measured phases (cores: ${busy.join(", ")}): compare with care, or run again`] : []),
      ...Object.entries(cpu).map(([label, c]) => `CPU by process (${label}, ${c.wall_s} s): ${c.by_process.slice(0, 4).map((p) => `${p.role} ${p.cpu_s} s`).join("; ")}`),
      ...(trouble ? [`wrangler dev log: ${trouble.errors.lines} error line(s) (${trouble.errors.distinct} kinds), ${trouble.warnings.lines} warning(s)`, ...trouble.errors.samples.slice(0, 3).map((l) => `    ${l.slice(0, 240)}`)] : []),
    ];
    summary.push(...("d1_round_trips" in trips ? tripsSummary(tripOps, trips) : [`D1 round trips: ${trips.error}`]));
    if (opts.profile)
      summary.push(
        ...Object.entries(profiles).flatMap(([label, p]) => [
          `profile ${label}: ${p.busy_ms_per_msg} ms/webhook busy of ${p.ms_per_msg} (raw: bench/results/sms-${label}.cpuprofile); by file: ${p.byFile.slice(0, 8).map((f) => `${f.file} ${f.pct}%`).join(", ")}`,
          ...p.byCaller.slice(0, 12).map((f) => `    ${String(f.pct).padStart(5)}%  ${f.fn}`),
        ]),
        ...(profileErrors.length ? [`profile errors: ${profileErrors.join(" | ")}`] : []),
      );
    return { result, summary, file: opts.profile ? "sms-profiled" : undefined };
  } finally {
    if (baseDev) await baseDev.stop();
    if (shapeDev) await shapeDev.stop();
    if (dev) await dev.stop();
    removeWorkdir(w);
  }
}
