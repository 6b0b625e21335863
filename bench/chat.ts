// Chat bench: what a website chat costs through Parley's ChatSession against a bare Durable Object
// that relays WebSocket frames (bench/relay), both on wrangler dev, measured in the same run:
//
//   1. Baseline: bench/relay in its own wrangler dev (port BENCH_PORT+2), stopped before 2.
//        a. latency: client A sends {type:"msg",clientId,text} one at a time; the time until client B
//           (same object) receives it. Warm-up, then the measured messages.
//        b. rate: W messages kept in flight from A to B through one object (at a time) for S seconds; frames
//           received by B per second (after a 1 s warm-up).
//        c. idle sessions: N objects with one socket each (C connecting at a time, each socket
//           carrying one ping and pong once open, as a Parley socket carries its hello); workerd's RSS
//           (every workerd of that wrangler dev, /proc/<pid>/status VmRSS) before and after they are
//           open and idle; then each one pinged ({"type":"ping"} → {"type":"pong"}, the runtime's
//           auto-response, as Parley's).
//   2. Parley: a snapshot of the code (fresh state), a tenant "bench" with website chat (workflow →
//      queue "chat", the bench origin allowed) and one agent, ana, capacity { chat: 50 }, who logs in
//      (POST /api/v1/auth/login) and is ready (POST /api/v1/me/login). Chats started as the widget
//      does (POST /api/v1/chat/bench/sessions with an Origin), each accepted by ana (her offer polled on
//      GET /api/v1/me), the customer's and ana's WebSockets connected; then the same a. and b. from
//      the customer to ana (the `msg` frame carrying the customer's clientId at ana's socket), and c.
//      with N chats started through the API (C at a time, each from its own CF-Connecting-IP, as N
//      visitors would: the start is rate-limited per IP) and each customer's WebSocket connected; the
//      extra chats wait in the queue (ana has no room for them), which is what an idle chat is.
//   3. widget_gzip_bytes: public/widget.js gzipped (level 9), built first if missing.
//
// A chat holds at most 2,000 messages (409 chat_too_long), so a. and b. move on to a fresh session (a
// chat accepted by ana, or a relay object) every 1,900 messages, in both alike: the sessions are
// prepared beforehand (2 for a., enough for 4,000 msg/s for b.), and closed before c.
// The client sends the same bytes in both (the same frame, the same text length); what the receiver
// gets differs (Parley's msg frame carries the stored message), and is recorded. Compression is off
// on both sockets. The two wrangler devs never run at once (the machine has two cores).
// Sizes: BENCH_CHAT_SESSIONS (default 2000; workerd runs out of file descriptors at ~3,300 sockets),
// BENCH_CHAT_MESSAGES, BENCH_CHAT_WARMUP, BENCH_CHAT_WINDOW, BENCH_CHAT_SECONDS, BENCH_CHAT_CONCURRENCY,
// BENCH_CHAT_IDLE_SECONDS, BENCH_PORT. BENCH_PROFILE=1: V8 CPU profiles of the Worker's isolate (the
// Worker and its objects) over the latency and rate phases of both, figures to chat-profiled.json.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { root } from "../scripts/local.ts";
import type { TenantConfigInput } from "../workers/config/schema.ts";
import { cpuMeter, settle, type CpuUse } from "./lib/cpu.ts";
import { bundleMap, startProfile, summarize, type ProfileSummary } from "./lib/profile.ts";
import { applyMigrationsIn, ensurePortsFree, removeWorkdir, startDev, troubleInLog, waitUpOrBuildError, workdir, type Dev, type Workdir } from "./lib/dev.ts";
import { envInt } from "./lib/env.ts";
import { phaseTimer } from "./lib/phase.ts";
import { pool, request, sleep, until } from "./lib/pool.ts";
import { latency, perSecond, ratio, round, type Latency } from "./lib/stats.ts";
import type { BenchResult } from "./lib/types.ts";
import { WebSocketClient, type WsLike } from "./lib/ws.ts";

export const name = "chat";
export const description = "chat message latency and rate through one ChatSession, and idle sessions held, vs. a bare Durable Object relaying WebSocket frames";

const TENANT = "bench";
const ORIGIN = "https://shop.bench.parley.test";
const INGEST_KEY = "bench-chat-ingest-key-not-secret";
const PASSWORD = "bench-password-shared";
const AGENT = "ana";
/** The most AgentConfig allows is 100; 50 leaves the idle chats mostly waiting in the queue. */
const CHAT_CAPACITY = 50;

const opts = {
  warmup: envInt("BENCH_CHAT_WARMUP", 200),
  messages: envInt("BENCH_CHAT_MESSAGES", 2000),
  window: envInt("BENCH_CHAT_WINDOW", 64),
  rateSeconds: envInt("BENCH_CHAT_SECONDS", 10),
  rateWarmupSeconds: 1,
  sessions: envInt("BENCH_CHAT_SESSIONS", 2000),
  concurrency: envInt("BENCH_CHAT_CONCURRENCY", 20),
  idleSeconds: envInt("BENCH_CHAT_IDLE_SECONDS", 10),
  textChars: 100,
  port: envInt("BENCH_PORT", 8801),
  /** BENCH_PROFILE=1: V8 CPU profiles of the Worker's isolate over the latency and rate phases (figures then go to chat-profiled.json). */
  profile: process.env.BENCH_PROFILE === "1",
  messageTimeoutMs: 10_000,
  connectTimeoutMs: 30_000,
  phaseTimeLimitMs: 600_000,
};

// A WebSocket client that can set Origin (Node's global WebSocket cannot): bench/lib/ws.ts.

interface Frame {
  type?: string;
  clientId?: string;
  status?: string;
  message?: { clientId?: string | null };
}

class Conn {
  readonly frames: Record<string, number> = {};
  bytesIn = 0;
  pongs = 0;
  closed: string | null = null;
  hello: Frame | null = null;
  status: string | null = null;
  /** The last error frames the server sent (at most 5). */
  readonly errors: Frame[] = [];
  onFrame: ((f: Frame, bytes: number, at: number) => void) | null = null;
  readonly ws: WsLike;

  constructor(ws: WsLike) {
    this.ws = ws;
    ws.on("message", (data) => {
      const at = performance.now();
      this.bytesIn += data.length;
      let f: Frame;
      try {
        f = JSON.parse(data.toString("utf8")) as Frame;
      } catch {
        f = { type: "(not json)" };
      }
      const type = f.type ?? "(no type)";
      this.frames[type] = (this.frames[type] ?? 0) + 1;
      if (type === "pong") this.pongs++;
      else if (type === "error" && this.errors.push(f) > 5) this.errors.shift();
      else if (type === "hello") {
        this.hello ??= f;
        this.status = f.status ?? this.status;
      } else if (type === "status") this.status = f.status ?? this.status;
      this.onFrame?.(f, data.length, at);
    });
    ws.on("close", (code, reason) => {
      this.closed = `${code} ${reason.toString("utf8")}`.trim();
    });
    // Errors show as a close (or a refused connect, below).
    ws.on("error", () => undefined);
  }

  get open(): boolean {
    return this.closed === null && this.ws.readyState === WebSocketClient.OPEN;
  }

  send(frame: string): void {
    this.ws.send(frame);
  }
}

/** Opens a socket; resolves once it is open, and then with "hello" once Parley's hello frame came, with
 *  "pong" once a ping was answered (so that a relay socket has carried a frame each way, as a Parley
 *  socket has once its hello came). */
function connect(url: string, headers: Record<string, string>, ready: "open" | "hello" | "pong", timeoutMs = opts.connectTimeoutMs): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocketClient(url, { headers, perMessageDeflate: false, handshakeTimeout: timeoutMs });
    const c = new Conn(ws);
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        ws.terminate();
        reject(err);
      } else resolve(c);
    };
    const timer = setTimeout(() => finish(new Error(`no ${ready} in ${timeoutMs} ms`)), timeoutMs);
    ws.on("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (b: Buffer) => chunks.push(b));
      res.on("end", () => finish(new Error(`refused: ${res.statusCode} ${Buffer.concat(chunks).toString("utf8").slice(0, 300)}`)));
      res.on("error", () => finish(new Error(`refused: ${res.statusCode}`)));
    });
    ws.on("error", (err) => finish(new Error(`WebSocket error: ${err.message}`)));
    ws.on("close", (code, reason) => finish(new Error(`closed before ${ready}: ${code} ${reason.toString("utf8")}`)));
    if (ready === "open") ws.on("open", () => finish());
    else {
      if (ready === "pong") ws.on("open", () => ws.send('{"type":"ping"}'));
      c.onFrame = (f) => {
        if (f.type !== ready) return;
        c.onFrame = null;
        finish();
      };
    }
  });
}

// ---- the measurements, the same for the relay and for Parley ----

/** The frame the sender sends, the same bytes for both: the client's msg frame with a fixed-width clientId and text. */
const TEXT = "How long will my order take to arrive? It was placed on Monday and the tracking page says nothing.".padEnd(opts.textChars, ".").slice(0, opts.textChars);
const msgFrame = (clientId: string) => JSON.stringify({ type: "msg", clientId, text: TEXT });
const cid = (tag: string, i: number) => `${tag}${String(i).padStart(7, "0")}`;

/** Where the receiver finds the sender's clientId: the relay passes the frame on as is; Parley sends the stored message. */
type IdOf = (f: Frame) => string | null | undefined;
const relayId: IdOf = (f) => (f.type === "msg" ? f.clientId : undefined);
const parleyId: IdOf = (f) => (f.type === "msg" ? f.message?.clientId : undefined);
/** Parley acknowledges each message to its sender (stored, with its seq); the relay does not. */
const parleyAck: IdOf = (f) => (f.type === "ack" ? f.clientId : undefined);

/** A sender and a receiver on one session (a chat, or a relay object). A chat holds at most 2,000
 *  messages (docs/chat.md: 409 chat_too_long), notices included: a run uses a session for at most
 *  `budget` messages, then goes on with the next one, in Parley and in the relay alike. */
interface Pair {
  from: Conn;
  to: Conn;
}

class Pairs {
  private cur = 0;
  private used = 0;
  readonly list: Pair[];
  readonly budget: number;

  constructor(list: Pair[], budget: number) {
    this.list = list;
    this.budget = budget;
  }

  /** The pair the next message goes through, or null when every one is used up. */
  next(): Pair | null {
    if (this.used >= this.budget) {
      this.cur++;
      this.used = 0;
    }
    const p = this.list[this.cur];
    if (!p) return null;
    this.used++;
    return p;
  }

  get sessionsUsed(): number {
    return Math.min(this.list.length, this.cur + (this.used > 0 ? 1 : 0));
  }

  each(fn: (p: Pair) => void): void {
    for (const p of this.list) fn(p);
  }
}

/** Messages per session: 2,000 minus room for the chat's notices (greeting, the agent joining, the queue position). */
const SESSION_BUDGET = 1900;
/** The rate phase prepares sessions for this many messages a second (the relay does ~2,900 here); past
 *  it, the run stops when they are used up and says so (`sessions_ran_out`). */
const RATE_CEILING = 4000;

interface LatencyRun {
  ms: Latency;
  /** Mean bytes of the frame the receiver got per message. */
  received_frame_bytes: number;
  /** Parley: send → the sender's ack (context; the next message goes when the receiver has the last one). */
  ack_ms?: Latency;
}

/** n messages one at a time, each timed from its send until the receiver has it. */
async function oneAtATime(pairs: Pairs, idOf: IdOf, tag: string, n: number, ackOf?: IdOf): Promise<LatencyRun> {
  const ms: number[] = [];
  let waiting = "";
  let arrived: ((at: number) => void) | null = null;
  let bytes = 0;
  const sentAt = new Map<string, number>();
  const ackMs: number[] = [];
  pairs.each(({ from, to }) => {
    if (ackOf)
      from.onFrame = (f, _b, at) => {
        const id = ackOf(f);
        const t = id ? sentAt.get(id) : undefined;
        if (t !== undefined) ackMs.push(at - t);
      };
    to.onFrame = (f, b, at) => {
      if (idOf(f) === waiting && arrived) {
        bytes += b;
        arrived(at);
      }
    };
  });
  try {
    for (let i = 0; i < n; i++) {
      const pair = pairs.next();
      if (!pair) throw new Error(`out of sessions after ${i} of ${n} messages`);
      const { from, to } = pair;
      waiting = cid(tag, i);
      const got = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`message ${waiting} did not arrive in ${opts.messageTimeoutMs} ms (sender ${from.closed ?? "open"}, receiver ${to.closed ?? "open"}; errors the sender got: ${JSON.stringify(from.errors)})`)), opts.messageTimeoutMs);
        arrived = (at) => {
          clearTimeout(timer);
          arrived = null;
          resolve(at);
        };
      });
      const t0 = performance.now();
      sentAt.set(waiting, t0);
      from.send(msgFrame(waiting));
      ms.push((await got) - t0);
    }
    if (ackOf) await until(() => ackMs.length >= n, 10_000);
  } finally {
    pairs.each(({ from, to }) => {
      from.onFrame = null;
      to.onFrame = null;
    });
  }
  return { ms: latency(ms), received_frame_bytes: n ? Math.round(bytes / n) : 0, ...(ackOf ? { ack_ms: latency(ackMs) } : {}) };
}

interface RateRun {
  msgs_per_s: number;
  window: number;
  /** The measured span: `seconds`, or less when every prepared session was used up. */
  measured_s: number;
  received_in_window: number;
  /** Frames received in each second of the measured span: saturation here flips between two regimes
   *  (seen through the relay alone: ~3,000 and ~1,400 msg/s, each taking twice the CPU per message of
   *  the other), so a run's mean depends on the regimes it met; this shows them. */
  per_second: number[];
  sent: number;
  received: number;
  /** Sessions the run went through, `budget` messages each. */
  sessions_used: number;
  sessions_ran_out: boolean;
  /** Whether every message sent arrived once the sending stopped. */
  all_arrived: boolean;
  /** Parley: the sender's acks when the last message reached the receiver, and how long until all had come. */
  acks?: { at_last_arrival: number; all_in_ms: number | null };
}

/** `window` messages in flight for warm-up + `seconds` (moving to the next session when one has had its
 *  budget); frames the receivers got per second after the warm-up. */
async function saturate(pairs: Pairs, idOf: IdOf, tag: string, window: number, seconds: number, ackOf?: IdOf): Promise<RateRun> {
  let sent = 0;
  let acked = 0;
  let received = 0;
  let inWindow = 0;
  const perSecondCounts: number[] = [];
  let stop = false;
  let ranOutAt: number | null = null;
  const t0 = performance.now();
  const mStart = t0 + opts.rateWarmupSeconds * 1000;
  const mEnd = mStart + seconds * 1000;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => (done = r));
  const sendOne = () => {
    const p = pairs.next();
    if (!p) {
      stop = true;
      ranOutAt ??= performance.now();
      done();
      return;
    }
    p.from.send(msgFrame(cid(tag, sent)));
    sent++;
  };
  pairs.each(({ from, to }) => {
    if (ackOf)
      from.onFrame = (f) => {
        if (ackOf(f)?.startsWith(tag)) acked++;
      };
    to.onFrame = (f, _b, at) => {
      if (!idOf(f)?.startsWith(tag)) return;
      received++;
      if (at >= mStart && at < mEnd) {
        inWindow++;
        const k = Math.floor((at - mStart) / 1000);
        perSecondCounts[k] = (perSecondCounts[k] ?? 0) + 1;
      }
      while (!stop && sent - received < window) sendOne();
    };
  });
  try {
    for (let i = 0; i < window && !stop; i++) sendOne();
    await Promise.race([sleep(mEnd - performance.now()), finished]);
    stop = true;
    const all = await until(() => received >= sent, 30_000);
    const ackedThen = acked;
    const a0 = performance.now();
    const acksIn = ackOf ? await until(() => acked >= sent, 30_000) : false;
    const spanMs = ranOutAt !== null && ranOutAt < mEnd ? Math.max(0, ranOutAt - mStart) : seconds * 1000;
    return {
      msgs_per_s: perSecond(inWindow, spanMs), window, measured_s: round(spanMs / 1000, 2), received_in_window: inWindow,
      per_second: Array.from({ length: Math.ceil(spanMs / 1000) }, (_, k) => perSecondCounts[k] ?? 0), sent, received,
      sessions_used: pairs.sessionsUsed, sessions_ran_out: ranOutAt !== null, all_arrived: all && received === sent,
      ...(ackOf ? { acks: { at_last_arrival: ackedThen, all_in_ms: acksIn ? round(performance.now() - a0, 1) : null } } : {}),
    };
  } finally {
    pairs.each(({ from, to }) => {
      from.onFrame = null;
      to.onFrame = null;
    });
  }
}

interface Rss {
  total_mb: number;
  by_process: { pid: number; role: string; rss_mb: number; fds: number | null }[];
}

const MB = 2 ** 20;

/** RSS of every workerd of a wrangler dev (its process group: npx → wrangler → the two workerd). */
function workerdRss(group: number | undefined): Rss {
  const out: Rss["by_process"] = [];
  let pids: string[] = [];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return { total_mb: NaN, by_process: [] };
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const pgrp = Number(stat.slice(close + 2).split(" ")[2]);
      if (group === undefined || pgrp !== group || !comm.startsWith("workerd")) continue;
      const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN);
      const args = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      let fds: number | null = null;
      try {
        fds = readdirSync(`/proc/${pid}/fd`).length;
      } catch {
        // not ours to read
      }
      out.push({ pid: Number(pid), role: args.includes("--inspector-addr") ? "runtime" : "proxy", rss_mb: round((kb * 1024) / MB, 1), fds });
    } catch {
      // gone meanwhile
    }
  }
  return { total_mb: round(out.reduce((s, p) => s + p.rss_mb, 0), 1), by_process: out.sort((a, b) => a.role.localeCompare(b.role)) };
}

/** The open-files limit of wrangler dev's runtime workerd, for the record. */
function fdLimit(group: number | undefined): number | null {
  const p = workerdRss(group).by_process.find((x) => x.role === "runtime");
  if (!p) return null;
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${p.pid}/limits`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

interface IdleRun {
  target: number;
  opened: number;
  open_errors: number;
  open_error_samples: string[];
  /** Open and answering a ping at the end. */
  held: number;
  still_open: number;
  rss_before: Rss;
  rss_after: Rss;
  /** Total RSS each second of the idle hold. */
  rss_during_idle_mb: number[];
  mb_per_session: number | null;
  open_span_s: number;
  /** workerd's CPU while the sessions were being opened. */
  cpu_open: { workerd_cores: number; workerd_cpu_ms_per_session: number; other_cores: number };
  start_ms?: Latency;
  connect_ms: Latency;
  /** p50/p99 of the start (Parley) or connect (relay) by consecutive blocks of sessions: does it grow with the sessions already open? */
  by_block: { sessions: string; p50: number; p99: number }[];
  ping_ms: number;
  cpu_idle_hold: CpuUse;
  fd_limit: number | null;
}

/** Opens up to `target` idle sessions (`open(i)`, C at a time), lets them idle, measures RSS and CPU, and pings each. */
async function idleSessions(dev: Dev, target: number, open: (i: number) => Promise<{ conn: Conn; startMs?: number; connectMs: number }>, conns: Conn[]): Promise<IdleRun> {
  await settle(dev.pid, { minS: 3, maxS: 30 });
  const before = workerdRss(dev.pid);
  const t0 = performance.now();
  const openMeter = cpuMeter(dev.pid);
  const r = await pool(target, opts.concurrency, opts.phaseTimeLimitMs, async (i) => {
    const x = await open(i);
    conns.push(x.conn);
    return x;
  });
  const openCpu = openMeter();
  const spanS = round((performance.now() - t0) / 1000, 1);
  const ok = r.results.filter((x) => x !== undefined);
  const block = Math.max(1, Math.ceil(target / 8));
  const byBlock: IdleRun["by_block"] = [];
  for (let from = 0; from < target; from += block) {
    const ms = r.results.slice(from, from + block).flatMap((x) => (x ? [x.startMs ?? x.connectMs] : []));
    if (ms.length) byBlock.push({ sessions: `${from}-${Math.min(target, from + block) - 1}`, p50: latency(ms).p50, p99: latency(ms).p99 });
  }
  const meter = cpuMeter(dev.pid);
  const during: number[] = [];
  for (let s = 0; s < opts.idleSeconds; s++) {
    await sleep(1_000);
    during.push(workerdRss(dev.pid).total_mb);
  }
  const hold = meter();
  const after = workerdRss(dev.pid);
  // Each open socket pings once; a pong means the session is there and answering.
  const mine = ok.map((x) => x.conn);
  const pongs0 = mine.map((c) => c.pongs);
  const p0 = performance.now();
  for (const c of mine) if (c.open) c.send('{"type":"ping"}');
  await until(() => mine.every((c, k) => c.pongs > pongs0[k]! || !c.open), 30_000, 100);
  const pingMs = performance.now() - p0;
  const held = mine.filter((c, k) => c.pongs > pongs0[k]! && c.open).length;
  const errors = r.errors.map((e) => e.error);
  const samples = [...new Set(errors.map((e) => e.replace(/\d+/g, "N")))].slice(0, 5).map((k) => errors.find((e) => e.replace(/\d+/g, "N") === k)!);
  return {
    target,
    opened: ok.length,
    open_errors: r.errors.length,
    open_error_samples: samples,
    held,
    still_open: mine.filter((c) => c.open).length,
    rss_before: before,
    rss_after: after,
    rss_during_idle_mb: during,
    mb_per_session: held ? round((after.total_mb - before.total_mb) / held, 3) : null,
    open_span_s: spanS,
    cpu_open: { workerd_cores: openCpu.cores_used.workerd, workerd_cpu_ms_per_session: ok.length ? round((openCpu.workerd * 1000) / ok.length, 2) : NaN, other_cores: openCpu.cores_used.other },
    ...(ok.some((x) => x.startMs !== undefined) ? { start_ms: latency(ok.flatMap((x) => (x.startMs === undefined ? [] : [x.startMs]))) } : {}),
    connect_ms: latency(ok.map((x) => x.connectMs)),
    by_block: byBlock,
    ping_ms: round(pingMs, 1),
    cpu_idle_hold: hold,
    fd_limit: fdLimit(dev.pid),
  };
}

// ---- Parley's side ----

function chatTenant(): TenantConfigInput {
  return {
    tenant: { id: TENANT, name: "Chat bench" },
    // Offers of the waiting chats to ana do not time out during the run.
    settings: { offerTimeoutSeconds: 600, tokenTtlSeconds: 8 * 3600, afterWorkSeconds: 0, notReadyReasons: ["break"] },
    skills: [],
    agents: [{ id: AGENT, login: AGENT, fullName: "Ana Bench", role: "agent" as const, password: PASSWORD, skills: {}, capacity: { chat: CHAT_CAPACITY } }],
    queues: [{ name: "chat", media: ["chat" as const], steps: [{ type: "route" as const, targets: [{ skills: "*" }] }] }],
    workflows: [{ name: "chat", queue: "chat" }],
    // The product's defaults (greeting, the position every 30 s), except that the measured chat must
    // not be alerted or closed as idle during the run, nor held to a customer's message rate (it
    // measures the object's throughput, not a person typing).
    chat: { workflow: "chat", allowedOrigins: [ORIGIN], idle: { alertSeconds: 3600, closeSeconds: 3600 }, messageRate: { max: 100_000, perSeconds: 1 } } as TenantConfigInput["chat"],
  };
}

interface Started {
  chatId: string;
  interactionId: string;
  token: string;
}

/** A visitor of its own (the start is rate-limited per IP): 10.x.y.z from the index. */
const visitorIp = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

async function startChat(base: string, clientId: string, ip: string, name: string): Promise<Started> {
  const res = await request(`${base}/api/v1/chat/${TENANT}/sessions`, {
    method: "POST",
    headers: { origin: ORIGIN, "content-type": "application/json", "cf-connecting-ip": ip },
    body: JSON.stringify({ clientId, name }),
    expect: [201],
    timeoutMs: 60_000,
  });
  return JSON.parse(res.body) as Started;
}

const customerUrl = (base: string, s: Started) => `${base.replace(/^http/, "ws")}/api/v1/chat/sessions/${s.chatId}/ws?token=${encodeURIComponent(s.token)}`;

/** lib/dev.ts links the snapshot's node_modules to the checkout's. esbuild then sees the packages (and
 *  wrangler's middleware) at their real paths in the checkout and watches the checkout's tsconfig.json
 *  and package.json as well: an edit of either by someone else at work makes wrangler dev rebuild and
 *  reload mid-run, which drops every object and socket (seen: half the idle chats gone). A hard-linked
 *  copy (the same files, no extra space, well under a second) keeps those paths inside the snapshot. */
function isolateNodeModules(w: Workdir): boolean {
  const nm = join(w.src, "node_modules");
  if (!lstatSync(nm).isSymbolicLink()) return true;
  rmSync(nm);
  const r = spawnSync("cp", ["-al", join(root, "node_modules"), nm], { encoding: "utf8" });
  if (r.status === 0) return true;
  rmSync(nm, { recursive: true, force: true });
  symlinkSync(join(root, "node_modules"), nm);
  console.log(`  (node_modules could not be hard-linked, linked instead: an edit of package.json or tsconfig.json during the run reloads wrangler dev; ${r.stderr.trim().slice(0, 200)})`);
  return false;
}

// ---- the widget ----

async function widgetSize(): Promise<{ gzip_bytes: number | null; bytes: number | null; built_by_bench: boolean; modified?: string; note?: string }> {
  const path = `${root}public/widget.js`;
  let built = false;
  if (!existsSync(path)) {
    if (!existsSync(`${root}scripts/build-widget.ts`)) return { gzip_bytes: null, bytes: null, built_by_bench: false, note: "public/widget.js does not exist and scripts/build-widget.ts is not there to build it" };
    try {
      const { buildWidget } = (await import("../scripts/build-widget.ts")) as { buildWidget: (o?: { quiet?: boolean }) => Promise<unknown> };
      await buildWidget({ quiet: true });
      built = true;
    } catch (err) {
      if (!existsSync(path)) return { gzip_bytes: null, bytes: null, built_by_bench: false, note: `building the widget failed: ${errText(err).slice(0, 300)}` };
      built = true;
    }
  }
  const code = readFileSync(path);
  return { gzip_bytes: gzipSync(code, { level: 9 }).byteLength, bytes: code.byteLength, built_by_bench: built, modified: statSync(path).mtime.toISOString() };
}

// ---- the run ----

const errText = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 1000);
/** How often wrangler dev reloaded the Worker after it started (each reload drops every object and socket). */
const reloads = (logPath: string) => {
  try {
    return (readFileSync(logPath, "utf8").match(/Reloading local server/g) ?? []).length;
  } catch {
    return null;
  }
};
const compatDate = (path: string) => /^compatibility_date\s*=\s*"([^"]+)"/m.exec(readFileSync(path, "utf8"))?.[1] ?? "unknown";

function version(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(`${root}node_modules/${pkg}/package.json`, "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

interface Side {
  latency: LatencyRun;
  rate: RateRun;
  idle: IdleRun;
  cpu: Record<string, CpuUse & { workerd_cpu_ms_per_msg?: number }>;
}

export async function run(): Promise<BenchResult> {
  const { port, warmup, messages: N, window: W, rateSeconds: S, sessions: IDLE } = opts;
  const latencySessions = Math.ceil((warmup + N) / SESSION_BUDGET);
  /** Enough sessions for the rate phase up to RATE_CEILING messages a second. */
  const rateSessions = Math.ceil((RATE_CEILING * (opts.rateWarmupSeconds + S)) / SESSION_BUDGET);
  const relayPort = port + 2;
  const phases: Record<string, number> = {};
  const phase = phaseTimer(phases);
  const profiles: Record<string, ProfileSummary & { ms_per_msg: number; busy_ms_per_msg: number }> = {};
  const profileErrors: string[] = [];
  /** A measured phase: its CPU by process, workerd's CPU per message and, with BENCH_PROFILE=1, a profile of the Worker's isolate. */
  const measured = async <T>(cpu: Side["cpu"], label: string, dev: Dev, src: string, msgs: () => number, fn: () => Promise<T>): Promise<T> => {
    let stop: (() => Promise<Parameters<typeof summarize>[0]>) | undefined;
    if (opts.profile)
      try {
        stop = await startProfile(dev.inspectorPort);
      } catch (err) {
        profileErrors.push(`${label}: ${errText(err)}`);
      }
    const meter = cpuMeter(dev.pid);
    try {
      return await fn();
    } finally {
      const use = meter();
      const n = msgs();
      cpu[label] = { ...use, ...(n ? { workerd_cpu_ms_per_msg: round((use.workerd * 1000) / n, 3) } : {}) };
      if (stop)
        try {
          const p = await stop();
          writeFileSync(`${root}bench/results/chat-${label}.cpuprofile`, JSON.stringify(p));
          const sum = summarize(p, bundleMap(src), 30, 1000);
          profiles[label] = { ...sum, ms_per_msg: n ? round(sum.totalMs / n, 3) : NaN, busy_ms_per_msg: n ? round((sum.totalMs * sum.busyPct) / 100 / n, 3) : NaN };
        } catch (err) {
          profileErrors.push(`${label}: ${errText(err)}`);
        }
    }
  };

  const runTag = Date.now().toString(36);
  const loadBefore = loadavg().map((x) => round(x, 2));
  const w = workdir();
  const logPath = `${root}bench/results/chat-wrangler.log`;
  const relayLogPath = `${root}bench/results/chat-relay-wrangler.log`;
  const conns: Conn[] = [];
  const isolated = isolateNodeModules(w);
  let relayDev: Dev | undefined;
  let dev: Dev | undefined;
  const closeAll = () => {
    for (const c of conns.splice(0)) {
      try {
        c.ws.terminate();
      } catch {
        // gone
      }
    }
  };

  try {
    await ensurePortsFree(port, port + 1000, relayPort, relayPort + 1000);
    console.log(`  code: ${w.code.ref} at ${w.code.commit.slice(0, 12)}${w.code.dirty.length ? ` with ${w.code.dirty.length} changed file(s)` : ""}, snapshot in ${w.src}`);
    const widget = await widgetSize();

    // ---- 1. the relay ----
    const rw: Workdir = { dir: join(w.dir, "relay"), src: join(w.dir, "relay", "src"), state: join(w.dir, "relay", "state"), code: w.code };
    mkdirSync(rw.src, { recursive: true });
    mkdirSync(rw.state, { recursive: true });
    for (const f of ["worker.ts", "wrangler.toml"]) cpSync(`${root}bench/relay/${f}`, join(rw.src, f));
    symlinkSync(join(w.src, "node_modules"), join(rw.src, "node_modules"));
    const relay: Side = { cpu: {} } as Side;
    {
      relayDev = startDev(relayPort, rw, { logPath: relayLogPath, inspectorPort: relayPort + 1000, vars: { BENCH: "1" } });
      const d = relayDev;
      const wsBase = d.base.replace(/^http/, "ws");
      await phase(`relay: wrangler dev on :${relayPort} (log: bench/results/chat-relay-wrangler.log)`, () => waitUpOrBuildError(d));
      const relayPair = async (name: string): Promise<Pair> => {
        const [from, to] = await Promise.all([connect(`${wsBase}/relay/${name}`, {}, "open"), connect(`${wsBase}/relay/${name}`, {}, "open")]);
        conns.push(from, to);
        return { from, to };
      };
      const { lat, rate } = await phase(`relay: ${latencySessions} + ${rateSessions} objects with two sockets each`, async () => ({
        lat: new Pairs(await Promise.all(Array.from({ length: latencySessions }, (_, k) => relayPair(`lat-${k}`))), SESSION_BUDGET),
        rate: new Pairs(await Promise.all(Array.from({ length: rateSessions }, (_, k) => relayPair(`rate-${k}`))), SESSION_BUDGET),
      }));
      await settle(d.pid, { minS: 3, maxS: 30 });
      relay.latency = await phase(`relay latency: ${N} messages one at a time (after ${warmup} warm-up)`, async () => {
        await oneAtATime(lat, relayId, "w-", warmup);
        return measured(relay.cpu, "relay_latency", d, rw.src, () => N, () => oneAtATime(lat, relayId, "l-", N));
      });
      await settle(d.pid, { minS: 2, maxS: 30 });
      relay.rate = await phase(`relay rate: ${W} in flight for ${opts.rateWarmupSeconds} + ${S} s`, () => {
        let r: RateRun | undefined;
        return measured(relay.cpu, "relay_rate", d, rw.src, () => r?.received ?? 0, async () => (r = await saturate(rate, relayId, "r-", W, S)));
      });
      // The idle phase measures the idle sockets alone.
      closeAll();
      relay.idle = await phase(`relay idle sessions: ${IDLE} objects with one socket each, ${opts.concurrency} at a time, then ${opts.idleSeconds} s idle`, () =>
        idleSessions(d, IDLE, async (i) => {
          const t0 = performance.now();
          const conn = await connect(`${wsBase}/relay/idle-${i}`, {}, "pong");
          return { conn, connectMs: performance.now() - t0 };
        }, conns),
      );
      await d.stop();
      closeAll();
    }
    const relayTrouble = troubleInLog(relayLogPath);

    // ---- 2. Parley ----
    const parley: Partial<Side> & { cpu: Side["cpu"] } = { cpu: {} };
    let parleyError: string | undefined;
    let trouble: ReturnType<typeof troubleInLog> | undefined;
    const setup: Record<string, unknown> = {};
    try {
      await phase("D1 migrations and the tenant (chat → queue chat, ana with chat capacity 50)", async () => {
        applyMigrationsIn(w);
        // Loaded late: a half-edited tree breaks phase 2 only, not the baseline.
        const { loadBigTenant } = await import("./lib/tenant.ts");
        await loadBigTenant(chatTenant(), INGEST_KEY, w);
      });
      dev = startDev(port, w, { logPath, inspectorPort: port + 1000, vars: { BENCH: "1" } });
      const d = dev;
      const base = d.base;
      await phase(`parley: wrangler dev on :${port} (log: bench/results/chat-wrangler.log)`, () => waitUpOrBuildError(d));

      const { agentToken, lat, rate } = await phase(`ana logs in, ready; ${latencySessions} + ${rateSessions} chats started, accepted, both sockets connected`, async () => {
        const login = JSON.parse((await request(`${base}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ tenant: TENANT, login: AGENT, password: PASSWORD }) })).body) as { token: string };
        const agentToken = login.token;
        const auth = { authorization: `Bearer ${agentToken}`, "content-type": "application/json" };
        const me = JSON.parse((await request(`${base}/api/v1/me/login`, { method: "POST", headers: auth, body: JSON.stringify({ ready: true }) })).body) as { presence?: string };
        if (me.presence !== "ready") throw new Error(`ana's presence after login is ${me.presence}, not ready`);
        let cfg: { available?: boolean; reason?: string } = {};
        for (let k = 0; k < 50 && cfg.available !== true; k++) {
          cfg = JSON.parse((await request(`${base}/api/v1/chat/${TENANT}/config`, { headers: { origin: ORIGIN } })).body) as typeof cfg;
          if (cfg.available !== true) await sleep(200);
        }
        if (cfg.available !== true) throw new Error(`chat is not available with ana ready: ${JSON.stringify(cfg)}`);
        /** A chat as the widget starts it, accepted by ana, the customer's and ana's sockets connected. */
        const chatPair = async (k: number): Promise<Pair> => {
          const s = await startChat(base, `${runTag}-measured-${k}`, visitorIp(1_000_000 + k), `Kim Bench ${k}`);
          const customer = await connect(customerUrl(base, s), { origin: ORIGIN }, "hello");
          conns.push(customer);
          let offered = false;
          for (let t = 0; t < 100 && !offered; t++) {
            const st = JSON.parse((await request(`${base}/api/v1/me`, { headers: auth })).body) as { offers?: { interactionId: string }[] };
            offered = (st.offers ?? []).some((o) => o.interactionId === s.interactionId);
            if (!offered) await sleep(100);
          }
          if (!offered) throw new Error(`no offer of ${s.interactionId} to ana in 10 s`);
          await request(`${base}/api/v1/interactions/${s.interactionId}/accept`, { method: "POST", headers: { authorization: `Bearer ${agentToken}` } });
          if (!(await until(() => customer.status === "active", 10_000))) throw new Error(`the customer did not see chat ${s.chatId} become active (status ${customer.status})`);
          const agent = await connect(`${base.replace(/^http/, "ws")}/api/v1/chat/sessions/${s.interactionId}/ws?token=${encodeURIComponent(agentToken)}`, {}, "hello");
          conns.push(agent);
          if (k === 0) Object.assign(setup, { customer_hello: customer.hello, agent_hello_status: agent.hello?.status });
          return { from: customer, to: agent };
        };
        const r = await pool(latencySessions + rateSessions, 4, 120_000, chatPair);
        if (r.errors.length || r.results.some((x) => !x)) throw new Error(`preparing the measured chats: ${r.errors.length} failed; first: ${r.errors[0]?.error}`);
        const all = r.results as Pair[];
        return { agentToken, lat: new Pairs(all.slice(0, latencySessions), SESSION_BUDGET), rate: new Pairs(all.slice(latencySessions), SESSION_BUDGET) };
      });

      await settle(d.pid, { minS: 3, maxS: 30 });
      parley.latency = await phase(`parley latency: ${N} messages customer → ana, one at a time (after ${warmup} warm-up)`, async () => {
        await oneAtATime(lat, parleyId, "w-", warmup, parleyAck);
        return measured(parley.cpu, "parley_latency", d, w.src, () => N, () => oneAtATime(lat, parleyId, "l-", N, parleyAck));
      });
      await settle(d.pid, { minS: 2, maxS: 30 });
      parley.rate = await phase(`parley rate: ${W} in flight customer → ana for ${opts.rateWarmupSeconds} + ${S} s`, () => {
        let r: RateRun | undefined;
        return measured(parley.cpu, "parley_rate", d, w.src, () => r?.received ?? 0, async () => (r = await saturate(rate, parleyId, "r-", W, S, parleyAck)));
      });
      const frames = (cs: Conn[]) => cs.reduce<Record<string, number>>((m, c) => (Object.entries(c.frames).forEach(([k, v]) => (m[k] = (m[k] ?? 0) + v)), m), {});
      setup.customer_frames = frames([...lat.list, ...rate.list].map((x) => x.from));
      setup.agent_frames = frames([...lat.list, ...rate.list].map((x) => x.to));
      // The idle phase measures the idle sessions alone (the measured chats stay open, their sockets go).
      closeAll();
      parley.idle = await phase(`parley idle sessions: ${IDLE} chats started and their customers' sockets connected, ${opts.concurrency} at a time, then ${opts.idleSeconds} s idle`, () =>
        idleSessions(d, IDLE, async (i) => {
          const t0 = performance.now();
          const st = await startChat(base, `${runTag}-idle-${i}`, visitorIp(i + 1), `Visitor ${i}`);
          const t1 = performance.now();
          const conn = await connect(customerUrl(base, st), { origin: ORIGIN }, "hello");
          return { conn, startMs: t1 - t0, connectMs: performance.now() - t1 };
        }, conns),
      );
      // The queue and ana as the objects see them at the end.
      try {
        const st = JSON.parse((await request(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${agentToken}` }, timeoutMs: 30_000 })).body) as { presence?: string; offers?: unknown[]; work?: unknown[] };
        setup.ana_at_end = { presence: st.presence, offers: st.offers?.length, work: st.work?.length };
      } catch (err) {
        setup.ana_at_end = { error: errText(err) };
      }
      // Stop the server before closing the sockets: nobody measures the goodbyes.
      await d.stop();
      closeAll();
      trouble = troubleInLog(logPath);
    } catch (err) {
      parleyError = errText(err);
      console.log(`\n  parley phase failed: ${parleyError.split("\n")[0]}`);
      if (dev) {
        await dev.stop();
        trouble = troubleInLog(logPath);
      }
      closeAll();
    }

    // ---- figures ----
    const p = parley;
    const pick = (l?: LatencyRun) => (l ? { p50: l.ms.p50, p99: l.ms.p99 } : null);
    const latRatio = p.latency ? ratio(p.latency.ms.p99, relay.latency.ms.p99) : null;
    const rateRatio = p.rate ? ratio(p.rate.msgs_per_s, relay.rate.msgs_per_s) : null;
    const memRatio = p.idle?.mb_per_session != null && relay.idle.mb_per_session ? ratio(p.idle.mb_per_session, relay.idle.mb_per_session) : null;
    const targets = {
      latency_p99_within_1_5x_baseline_p99: { met: latRatio === null ? null : latRatio <= 1.5, ratio: latRatio },
      msgs_per_s_at_least_half_baseline: { met: rateRatio === null ? null : rateRatio >= 0.5, ratio: rateRatio },
      mb_per_session_within_1_5x_baseline: { met: memRatio === null ? null : memRatio <= 1.5, ratio: memRatio },
      sessions_held_at_least_2000: { met: p.idle ? p.idle.held >= 2000 : null, held: p.idle?.held ?? null },
    };
    const cpuAll = { ...relay.cpu, ...p.cpu };
    const busy = Object.entries(cpuAll).filter(([, c]) => c.cores_used.other > 0.2).map(([label, c]) => `${label} ${c.cores_used.other}`);
    const idleCpu = (i?: IdleRun) => (i ? { workerd_cores: i.cpu_idle_hold.cores_used.workerd, by_process: i.cpu_idle_hold.by_process.map((x) => ({ role: x.role, cpu_s: x.cpu_s })) } : null);
    const result = {
      latency_ms: pick(p.latency),
      baseline_ms: pick(relay.latency),
      msgs_per_s: p.rate?.msgs_per_s ?? null,
      baseline_msgs_per_s: relay.rate.msgs_per_s,
      sessions_held: p.idle?.held ?? null,
      mb_per_session: p.idle?.mb_per_session ?? null,
      baseline_mb_per_session: relay.idle.mb_per_session,
      widget_gzip_bytes: widget.gzip_bytes,
      detail: {
        bench: name,
        date: new Date().toISOString(),
        targets,
        ...(parleyError ? { parley_error: parleyError } : {}),
        sizes: {
          messages_per_session: SESSION_BUDGET,
          latency_sessions: latencySessions,
          rate_sessions_prepared: rateSessions,
          latency_messages: N,
          latency_warmup: warmup,
          rate_window: W,
          rate_seconds: S,
          rate_warmup_seconds: opts.rateWarmupSeconds,
          idle_sessions_target: IDLE,
          idle_open_concurrency: opts.concurrency,
          idle_hold_seconds: opts.idleSeconds,
          sent_frame_bytes: msgFrame(cid("l-", 0)).length,
          text_chars: opts.textChars,
        },
        units: { mb: "MiB (2^20 bytes) of RSS, summed over wrangler dev's workerd processes (runtime and proxy)" },
        latency: { parley: p.latency ?? null, relay: relay.latency },
        rate: { parley: p.rate ?? null, relay: relay.rate },
        idle: { parley: p.idle ?? null, relay: relay.idle },
        idle_hold_cpu: { parley: idleCpu(p.idle), relay: idleCpu(relay.idle) },
        parley_setup: setup,
        widget,
        phases_s: phases,
        cpu: cpuAll,
        other_load_during: busy,
        wrangler_log: { path: "bench/results/chat-wrangler.log", reloads: reloads(logPath), ...(trouble ?? {}) },
        relay_wrangler_log: { path: "bench/results/chat-relay-wrangler.log", reloads: reloads(relayLogPath), ...relayTrouble },
        ...(opts.profile ? { profiled: true, profiles, profile_errors: profileErrors } : {}),
        code: w.code,
        node_modules_hard_linked: isolated,
        compatibility_date: { parley: compatDate(`${root}wrangler.toml`), relay: compatDate(`${root}bench/relay/wrangler.toml`) },
        load_average: { before: loadBefore, after: loadavg().map((x) => round(x, 2)) },
        machine: { node: process.version, wrangler: version("wrangler"), ws: version("ws"), cpus: cpus().length, cpu_model: cpus()[0]?.model ?? "unknown", memory_gb: round(totalmem() / 2 ** 30, 1), through: "wrangler dev (local workerd), client on the same machine; WebSocket compression off" },
      },
    };
    const yes = (b: boolean | null) => (b === null ? "n/a" : b ? "met" : "MISSED");
    const lat = (l?: LatencyRun) => (l ? `p50 ${l.ms.p50} ms   p99 ${l.ms.p99} ms` : "n/a");
    const idleLine = (i?: IdleRun) =>
      i ? `${i.held}/${i.target} held (${i.opened} opened, ${i.open_errors} errors) in ${i.open_span_s} s; RSS ${i.rss_before.total_mb} → ${i.rss_after.total_mb} MiB = ${i.mb_per_session} MiB/session; workerd ${i.cpu_idle_hold.cores_used.workerd} cores while idle` : "n/a";
    const summary = [
      `latency (one in flight):   relay ${lat(relay.latency)}   |   parley ${lat(p.latency)}`,
      `rate (${W} in flight, 1 session): relay ${relay.rate.msgs_per_s} msg/s   |   parley ${p.rate?.msgs_per_s ?? "n/a"} msg/s   (per second: relay ${relay.rate.per_second.join(" ")}; parley ${p.rate?.per_second.join(" ") ?? "n/a"})`,
      `idle sessions, relay:  ${idleLine(relay.idle)}`,
      `idle sessions, parley: ${idleLine(p.idle)}${p.idle?.start_ms ? `; start p50 ${p.idle.start_ms.p50} ms p99 ${p.idle.start_ms.p99} ms` : ""}`,
      `widget.js: ${widget.gzip_bytes ?? "n/a"} bytes gzipped (${widget.bytes ?? "n/a"} raw)${widget.note ? `: ${widget.note}` : ""}`,
      `target latency p99 ≤ 1.5× baseline p99:        ${yes(targets.latency_p99_within_1_5x_baseline_p99.met)} (ratio ${latRatio ?? "n/a"})`,
      `target msgs/s ≥ 0.5× baseline:                 ${yes(targets.msgs_per_s_at_least_half_baseline.met)} (ratio ${rateRatio ?? "n/a"})`,
      `target MiB/session ≤ 1.5× baseline:            ${yes(targets.mb_per_session_within_1_5x_baseline.met)} (ratio ${memRatio ?? "n/a"})`,
      `target sessions held ≥ 2000:                   ${yes(targets.sessions_held_at_least_2000.met)} (${p.idle?.held ?? "n/a"})`,
      ...(parleyError ? [`PARLEY FAILED: ${parleyError.split("\n")[0]?.slice(0, 300)}`] : []),
      ...([reloads(relayLogPath), reloads(logPath)].some((n) => n) ? [`WARNING: wrangler dev reloaded mid-run (relay ${reloads(relayLogPath)}, parley ${reloads(logPath)} times), dropping objects and sockets: figures suspect`] : []),
      ...(busy.length ? [`WARNING: other processes used CPU during measured phases (cores: ${busy.join(", ")}): compare with care, or run again`] : []),
      ...Object.entries(cpuAll).map(([label, c]) => `CPU (${label}, ${c.wall_s} s): workerd ${c.workerd_cpu_ms_per_msg ?? "n/a"} ms/msg; ${c.by_process.slice(0, 3).map((x) => `${x.role} ${x.cpu_s} s`).join("; ")}`),
      ...Object.entries(profiles).flatMap(([label, pr]) => [
        `profile ${label}: ${pr.busy_ms_per_msg} ms/msg busy in the Worker's isolate (raw: bench/results/chat-${label}.cpuprofile); by file: ${pr.byFile.slice(0, 8).map((f) => `${f.file} ${f.pct}%`).join(", ")}`,
        ...pr.byCaller.slice(0, 15).map((f) => `    ${String(f.pct).padStart(5)}%  ${f.fn}`),
      ]),
      ...(profileErrors.length ? [`profile errors: ${profileErrors.join(" | ")}`] : []),
      ...(trouble ? [`wrangler dev log: ${trouble.errors.lines} error line(s) (${trouble.errors.distinct} kinds), ${trouble.warnings.lines} warning(s)`, ...trouble.errors.samples.slice(0, 3).map((l) => `    ${l.slice(0, 240)}`)] : []),
    ];
    return { result, summary, file: opts.profile ? "chat-profiled" : undefined };
  } finally {
    closeAll();
    if (relayDev) await relayDev.stop();
    if (dev) await dev.stop();
    removeWorkdir(w);
  }
}
