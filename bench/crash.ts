// Crash campaign: mixed traffic against wrangler dev, killed with SIGKILL (its whole process group) at
// random moments and restarted on the same state, round after round; then every input that was
// acknowledged must be stored exactly once, and every agent reply must have gone out at most once.
//
//   Setup: a snapshot with the tenant "hostile" (bench/lib/doors.ts) and its credentials; one persist dir
//   for every round.
//   Each round: wrangler dev starts on that state; the agent logs in and is ready (chat is offered only
//   then), the supervisor logs in (she writes the replies: a supervisor may answer any interaction,
//   so no offer has to be accepted first). C clients send a mix: mail through email() and
//   /api/v1/email/inbound (by Message-ID), signed Twilio SMS and MMS (by MessageSid), form posts (by
//   Idempotency-Key), chat starts (by clientId) and chat messages (by clientId, through the chat's HTTP
//   door), and agent replies (a draft to an acknowledged mail, then its send). At a random moment
//   (--min-s..--max-s after the traffic starts) the process group gets SIGKILL. What was not
//   acknowledged is sent again in the next round with the same id, as a provider or a person would.
//   Last round: not killed; everything still unacknowledged is retried, the scheduled sweep is run, and
//   the chats' messages are counted through the API. Then, stopped, D1: each input's copies, and the
//   outbox rows of each reply.
//
// crash.json: { rounds, acknowledged, lost, doubled, sent_twice } and detail (with the event log's
// check: contiguous, every history row in it exactly once). Target: 0, 0, 0.
// Flags: --rounds=6, --min-s=4, --max-s=15, --concurrency=4 (or BENCH_CRASH_ROUNDS, BENCH_CRASH_MIN_S,
// BENCH_CRASH_MAX_S, BENCH_CRASH_CONCURRENCY); BENCH_PORT.
import { randomBytes } from "node:crypto";
import { cpus, loadavg, totalmem } from "node:os";
import { root } from "../scripts/local.ts";
import { applyMigrationsIn, ensurePortsFree, queryD1, removeWorkdir, startDev, troubleInLog, waitUpOrBuildError, workdir, type Dev, type Workdir } from "./lib/dev.ts";
import { agentReady, CUSTOMER, doorsTenant, FORM, login, MAILBOX, ORIGIN, plainMail, signingSecrets, publicOrigin, send, tenantKeys, TENANT, twilioWebhook, visitorIp, type Answer } from "./lib/doors.ts";
import { envInt } from "./lib/env.ts";
import { numFlag } from "./lib/flags.ts";
import { phaseTimer } from "./lib/phase.ts";
import { sleep } from "./lib/pool.ts";
import { round } from "./lib/stats.ts";
import { chatMessageCounts, countStored, type StoredKey } from "./lib/stored.ts";
import type { BenchResult } from "./lib/types.ts";

export const name = "crash";
export const description = "mixed traffic, wrangler dev killed (SIGKILL, process group) at random moments and restarted on the same state: acknowledged inputs stored exactly once, replies sent at most once";

const opts = {
  rounds: Math.max(1, Math.round(numFlag("rounds", "BENCH_CRASH_ROUNDS", 6))),
  minS: numFlag("min-s", "BENCH_CRASH_MIN_S", 4),
  maxS: numFlag("max-s", "BENCH_CRASH_MAX_S", 15),
  concurrency: Math.max(1, Math.round(numFlag("concurrency", "BENCH_CRASH_CONCURRENCY", 4))),
  port: envInt("BENCH_PORT", 8801),
  requestTimeoutMs: 30_000,
  /** The final round's retries: each unacknowledged input at most this many more times. */
  finalTries: 3,
  /** Every op is tried at most this many times in all. */
  maxTries: 8,
  chatMessagesPerChat: 40,
};

type Kind = "email()" | "email/inbound" | "twilio sms" | "twilio mms" | "form" | "chat start" | "chat message" | "reply";
const WEIGHTS: [Kind, number][] = [["email()", 2], ["email/inbound", 2], ["twilio sms", 2], ["twilio mms", 1], ["form", 2], ["chat start", 1], ["chat message", 3], ["reply", 1]];

interface Chat {
  clientId: string;
  chatId?: string;
  token?: string;
  messages: number;
}

interface Op {
  kind: Kind;
  /** What it is stored as: an email, an interaction's external id, an SMS, or a chat message. */
  key: StoredKey | { kind: "chat_msg"; chat: Chat; clientId: string };
  tries: number;
  acked: boolean;
  statuses: Record<string, number>;
  attempt(base: string): Promise<Answer>;
  /** Called with an acknowledging answer. */
  onAck?(a: Answer): void;
}

interface Reply {
  parent: string;
  id?: string;
  emailId?: string;
  /** The send was acknowledged (or a retry was told it had already gone). */
  sent: boolean;
  sendTries: number;
  statuses: Record<string, number>;
}

const ok2xx = (a: Answer) => a.status >= 200 && a.status < 300;
const skey = (a: Answer) => (a.status ? String(a.status) : "no answer");
const errText = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 600);

class Traffic {
  readonly ops: Op[] = [];
  readonly chats: Chat[] = [];
  readonly replies: Reply[] = [];
  /** Acknowledged inbound mail not answered yet: candidates for a reply. */
  readonly answerable: string[] = [];
  private seq = 0;
  tokens = { supervisor: "" };
  readonly run: string;
  readonly signedUrl: string;
  readonly ingestKey: string;
  constructor(run: string, signedUrl: string, ingestKey: string) {
    this.run = run;
    this.signedUrl = signedUrl;
    this.ingestKey = ingestKey;
  }

  private id = (tag: string) => `${this.run}-${tag}${(this.seq++).toString(36)}`;

  /** A new op of a kind drawn by weight (a kind that cannot be made now falls back to a mail). */
  make(rand: number): Op | Reply {
    const total = WEIGHTS.reduce((s, [, w]) => s + w, 0);
    let r = rand * total;
    let kind: Kind = "email()";
    for (const [k, w] of WEIGHTS) if ((r -= w) < 0) { kind = k; break; }
    if (kind === "reply") {
      const parent = this.answerable.shift();
      if (parent) {
        const rep: Reply = { parent, sent: false, sendTries: 0, statuses: {} };
        this.replies.push(rep);
        return rep;
      }
      kind = "email/inbound";
    }
    if (kind === "chat message") {
      const chat = this.chats.find((c) => c.token && c.messages < opts.chatMessagesPerChat);
      if (!chat) kind = "chat start";
      else {
        const clientId = `${chat.clientId}-m${chat.messages++}`;
        return this.push({
          kind, key: { kind: "chat_msg", chat, clientId },
          attempt: (base) => send(`${base}/api/v1/chat/sessions/${chat.chatId}/messages`, { method: "POST", headers: { authorization: `Bearer ${chat.token}`, origin: ORIGIN, "content-type": "application/json" }, body: JSON.stringify({ clientId, text: `message ${clientId}` }), timeoutMs: opts.requestTimeoutMs }),
        });
      }
    }
    switch (kind) {
      case "email()": {
        const mid = `${this.id("e")}@crash.bench`;
        const raw = plainMail({ messageId: mid, subject: `crash ${mid}` });
        return this.push({ kind, key: { kind: "email", id: mid }, attempt: (base) => send(`${base}/cdn-cgi/handler/email?from=${encodeURIComponent(CUSTOMER)}&to=${encodeURIComponent(MAILBOX)}`, { method: "POST", headers: { "content-type": "message/rfc822" }, body: raw, timeoutMs: opts.requestTimeoutMs }) });
      }
      case "email/inbound": {
        const mid = `${this.id("i")}@crash.bench`;
        const raw = plainMail({ messageId: mid, subject: `crash ${mid}` });
        return this.push({
          kind, key: { kind: "email", id: mid },
          attempt: (base) => send(`${base}/api/v1/email/inbound?to=${encodeURIComponent(MAILBOX)}`, { method: "POST", headers: { authorization: `Bearer ${this.ingestKey}`, "content-type": "message/rfc822" }, body: raw, timeoutMs: opts.requestTimeoutMs }),
          onAck: (a) => {
            const r = JSON.parse(a.body) as { interactionId?: string; duplicate?: boolean };
            if (r.interactionId && !r.duplicate) this.answerable.push(r.interactionId);
          },
        });
      }
      case "twilio sms":
      case "twilio mms": {
        const sid = `${kind === "twilio sms" ? "SM" : "MM"}${this.run.padEnd(8, "0").slice(0, 8)}${(this.seq++).toString(16).padStart(24, "0")}`;
        const wh = twilioWebhook({ sid, from: `+1415555${String(1000 + (this.seq % 9000)).padStart(4, "0")}`, body: `crash ${sid}`, ...(kind === "twilio mms" ? { media: [{ url: `https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/${sid}/Media/ME0`, type: "image/jpeg" }] } : {}) }, this.signedUrl);
        return this.push({ kind, key: { kind: "sms", id: sid }, attempt: (base) => send(`${base}/api/v1/sms/twilio`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": wh.signature }, body: wh.form, timeoutMs: opts.requestTimeoutMs }) });
      }
      case "form": {
        const key = this.id("f");
        const body = `name=Crash&email=${encodeURIComponent(CUSTOMER)}&message=${encodeURIComponent(`form ${key}`)}`;
        return this.push({
          kind, key: { kind: "external", id: `form:${FORM}:${key}` },
          attempt: (base) => send(`${base}/api/v1/forms/${TENANT}.${FORM}`, { method: "POST", headers: { origin: ORIGIN, "content-type": "application/x-www-form-urlencoded", "idempotency-key": key, "cf-connecting-ip": visitorIp(this.seq) }, body, timeoutMs: opts.requestTimeoutMs }),
        });
      }
      default: {
        const chat: Chat = { clientId: this.id("c"), messages: 0 };
        return this.push({
          kind: "chat start", key: { kind: "external", id: `chat:${chat.clientId}` },
          attempt: (base) => send(`${base}/api/v1/chat/${TENANT}/sessions`, { method: "POST", headers: { origin: ORIGIN, "content-type": "application/json", "cf-connecting-ip": visitorIp(this.seq) }, body: JSON.stringify({ clientId: chat.clientId, name: "Crash" }), timeoutMs: opts.requestTimeoutMs }),
          onAck: (a) => {
            const r = JSON.parse(a.body) as { chatId: string; token: string };
            if (!chat.token) this.chats.push(chat);
            Object.assign(chat, { chatId: r.chatId, token: r.token });
          },
        });
      }
    }
  }

  private push(o: Omit<Op, "tries" | "acked" | "statuses">): Op {
    const op: Op = { ...o, tries: 0, acked: false, statuses: {} };
    this.ops.push(op);
    return op;
  }

  /** One try of an op, or one step of a reply (its draft, then its send). */
  async step(x: Op | Reply, base: string): Promise<void> {
    if ("kind" in x) {
      x.tries++;
      const a = await x.attempt(base);
      x.statuses[skey(a)] = (x.statuses[skey(a)] ?? 0) + 1;
      if (ok2xx(a) && !x.acked) {
        x.acked = true;
        try {
          x.onAck?.(a);
        } catch {
          // an answer we cannot read: still acknowledged
        }
      }
      return;
    }
    const auth = { authorization: `Bearer ${this.tokens.supervisor}`, "content-type": "application/json" };
    if (!x.id) {
      // A draft that was not acknowledged is abandoned (a person would write another): nothing was sent.
      const a = await send(`${base}/api/v1/interactions/${x.parent}/replies`, { method: "POST", headers: auth, body: JSON.stringify({ text: `Thanks, we are on it (${x.parent}).`, send: false }), timeoutMs: opts.requestTimeoutMs });
      x.statuses[`draft ${skey(a)}`] = (x.statuses[`draft ${skey(a)}`] ?? 0) + 1;
      if (a.status !== 201) return;
      const r = JSON.parse(a.body) as { id: string; emailId: string };
      x.id = r.id;
      x.emailId = r.emailId;
    }
    x.sendTries++;
    const s = await send(`${base}/api/v1/replies/${x.id}/send`, { method: "POST", headers: auth, body: "{}", timeoutMs: opts.requestTimeoutMs });
    x.statuses[`send ${skey(s)}`] = (x.statuses[`send ${skey(s)}`] ?? 0) + 1;
    // A retry told "already on its way" means an earlier try went through.
    if (ok2xx(s) || (s.status === 409 && s.body.includes("not_a_draft"))) x.sent = true;
  }

  /** What is still owed: ops not acknowledged, replies with a draft not sent. */
  pending(): (Op | Reply)[] {
    return [...this.ops.filter((o) => !o.acked && o.tries < opts.maxTries), ...this.replies.filter((r) => r.id && !r.sent && r.sendTries < opts.maxTries)];
  }
}

async function startRound(w: Workdir, r: number | "final"): Promise<Dev> {
  const dev = startDev(opts.port, w, { logPath: `${root}bench/results/crash-wrangler-${r}.log`, inspectorPort: opts.port + 1000, vars: { BENCH: "1" } });
  await waitUpOrBuildError(dev);
  return dev;
}

async function killGroup(dev: Dev): Promise<void> {
  try {
    if (dev.pid) process.kill(-dev.pid, "SIGKILL");
  } catch {
    // already gone
  }
  for (let i = 0; i < 50 && dev.exitCode() === undefined; i++) await sleep(100);
  await dev.stop();
}

export async function run(): Promise<BenchResult> {
  const phases: Record<string, number> = {};
  const phase = phaseTimer(phases);
  const loadBefore = loadavg().map((x) => round(x, 2));
  const w = workdir();
  const keys = tenantKeys();
  const runTag = randomBytes(4).toString("hex");
  const roundsDone: { round: number; up_s: number; traffic_s: number; kill_after_s: number; started: number; acked: number; in_flight_at_kill: number; errors: string[] }[] = [];
  let dev: Dev | undefined;
  try {
    await ensurePortsFree(opts.port, opts.port + 1000);
    console.log(`  code: ${w.code.ref} at ${w.code.commit.slice(0, 12)}${w.code.dirty.length ? ` with ${w.code.dirty.length} changed file(s)` : ""}; ${opts.rounds} killed rounds, kill ${opts.minS}-${opts.maxS} s into the traffic, ${opts.concurrency} clients`);
    await phase("D1 migrations, the tenant 'hostile', signing secrets", async () => {
      applyMigrationsIn(w);
      const { loadBigTenant } = await import("./lib/tenant.ts");
      await loadBigTenant(doorsTenant(), keys.ingest, w, signingSecrets());
    });
    const traffic = new Traffic(runTag, `${publicOrigin(w)}/api/v1/sms/twilio`, keys.ingest);

    /** Logs in (the supervisor writes replies; the agent, ready, makes chat available). */
    const prepare = async (d: Dev) => {
      traffic.tokens.supervisor = await login(d.base, "supervisor");
      await agentReady(d.base, await login(d.base, "agent"));
    };

    for (let r = 1; r <= opts.rounds; r++) {
      const t0 = performance.now();
      const rec = { round: r, up_s: 0, traffic_s: 0, kill_after_s: 0, started: 0, acked: 0, in_flight_at_kill: 0, errors: [] as string[] };
      await phase(`round ${r}: start, traffic, SIGKILL`, async () => {
        dev = await startRound(w, r);
        rec.up_s = round((performance.now() - t0) / 1000, 1);
        const d = dev;
        try {
          await prepare(d);
        } catch (err) {
          rec.errors.push(`login: ${errText(err)}`);
        }
        const killAfter = (opts.minS + Math.random() * (opts.maxS - opts.minS)) * 1000;
        rec.kill_after_s = round(killAfter / 1000, 1);
        const retry = traffic.pending();
        let stop = false;
        let inFlight = 0;
        const ackedBefore = traffic.ops.filter((o) => o.acked).length;
        const client = async () => {
          while (!stop) {
            const x = retry.shift() ?? traffic.make(Math.random());
            rec.started++;
            inFlight++;
            try {
              await traffic.step(x, d.base);
            } catch (err) {
              if (rec.errors.length < 5) rec.errors.push(errText(err));
            } finally {
              inFlight--;
            }
          }
        };
        const tt = performance.now();
        const clients = Array.from({ length: opts.concurrency }, client);
        await sleep(killAfter);
        rec.in_flight_at_kill = inFlight;
        // No new request from here; those in flight meet the kill.
        stop = true;
        await killGroup(d);
        // Every request in flight fails once the server is gone (each has a time limit besides).
        await Promise.race([Promise.all(clients), sleep(opts.requestTimeoutMs + 5_000)]);
        rec.traffic_s = round((performance.now() - tt) / 1000, 1);
        rec.acked = traffic.ops.filter((o) => o.acked).length - ackedBefore;
        dev = undefined;
      });
      roundsDone.push(rec);
      console.log(`    round ${r}: killed ${rec.kill_after_s} s into the traffic, ${rec.started} sent, ${rec.acked} newly acknowledged, ${rec.in_flight_at_kill} in flight at the kill${rec.errors.length ? `; ${rec.errors[0]}` : ""}`);
    }

    // ---- the last round: no kill; what is owed is retried; the sweep; chat messages counted ----
    const final: Record<string, unknown> = {};
    const chatCounts = new Map<string, number>();
    const chatErrors: string[] = [];
    await phase("final round: restart, retries, the scheduled sweep, chat messages counted", async () => {
      dev = await startRound(w, "final");
      const d = dev;
      await prepare(d);
      for (let t = 0; t < opts.finalTries; t++) {
        const owed = traffic.pending();
        if (!owed.length) break;
        for (let i = 0; i < owed.length; i += opts.concurrency) await Promise.all(owed.slice(i, i + opts.concurrency).map((x) => traffic.step(x, d.base)));
      }
      // The sweep puts back what a crash left half-routed (wrangler dev --test-scheduled).
      const sweep = await send(`${d.base}/cdn-cgi/handler/scheduled`, { timeoutMs: 60_000 });
      final.sweep = sweep.status === 404 ? (await send(`${d.base}/__scheduled`, { timeoutMs: 60_000 })).status : sweep.status;
      // Deliveries get time to reach the outbox (polled through the API, at most 30 s).
      const sentIds = new Set(traffic.replies.filter((r) => r.sent && r.id).map((r) => r.id!));
      const waitEnd = performance.now() + 30_000;
      let inOutbox = 0;
      while (performance.now() < waitEnd) {
        const a = await send(`${d.base}/api/v1/outbox?limit=500`, { headers: { authorization: `Bearer ${traffic.tokens.supervisor}` }, timeoutMs: 30_000, maxBodyBytes: 16 * 1024 * 1024 });
        if (a.status === 200) inOutbox = (JSON.parse(a.body) as { messages: { interaction_id: string }[] }).messages.filter((m) => sentIds.has(m.interaction_id)).length;
        if (inOutbox >= sentIds.size) break;
        await sleep(1_000);
      }
      final.replies_in_outbox_before_stop = `${inOutbox} of ${sentIds.size}`;
      for (const chat of traffic.chats) {
        const r = await chatMessageCounts(d.base, chat.chatId!, chat.token!);
        if (r.error) chatErrors.push(`${chat.chatId}: ${r.error}`);
        for (const [k, v] of r.counts) chatCounts.set(k, v);
      }
      await d.stop();
      dev = undefined;
    });

    // ---- D1: copies of every input, outbox rows of every reply ----
    const keyed = traffic.ops.filter((o): o is Op & { key: StoredKey } => o.key.kind !== "chat_msg");
    const stored = await phase(`D1: ${keyed.length} inputs and ${traffic.replies.filter((r) => r.id).length} replies`, async () => countStored(w, keyed.map((o) => o.key)));
    const replyIds = traffic.replies.filter((r) => r.id).map((r) => r.id!);
    const sends = new Map<string, { outbox: number; emails: number; status: string | null }>();
    let replyError: string | undefined;
    try {
      const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
      for (let i = 0; i < replyIds.length; i += 200) {
        const ids = replyIds.slice(i, i + 200).map(q).join(", ");
        const rows = queryD1<{ id: string; outbox: number; emails: number; status: string | null }>(
          w,
          `SELECT i.id AS id, (SELECT COUNT(*) FROM outbox o WHERE o.tenant_id = i.tenant_id AND o.interaction_id = i.id) AS outbox, (SELECT COUNT(*) FROM emails e WHERE e.tenant_id = i.tenant_id AND e.interaction_id = i.id AND e.direction = 'outbound') AS emails, (SELECT group_concat(e.status) FROM emails e WHERE e.tenant_id = i.tenant_id AND e.interaction_id = i.id AND e.direction = 'outbound') AS status FROM interactions i WHERE i.tenant_id = '${TENANT}' AND i.id IN (${ids})`,
        );
        for (const r of rows) sends.set(r.id, { outbox: r.outbox, emails: r.emails, status: r.status });
      }
    } catch (err) {
      replyError = errText(err);
    }

    // ---- the event log: contiguous, every history row in it once, no transition written twice ----
    let eventLog: { events: number; max_seq: number; contiguous: boolean; lost: number; doubled: number; phantom: number; history_doubled: number; interactions_without_events: number; error?: string };
    try {
      const t = `'${TENANT}'`;
      const [row] = queryD1<Omit<typeof eventLog, "contiguous" | "error"> & { min_seq: number | null }>(
        w,
        `SELECT (SELECT COUNT(*) FROM event_log WHERE tenant_id = ${t}) AS events, (SELECT COALESCE(MIN(seq), 1) FROM event_log WHERE tenant_id = ${t}) AS min_seq, (SELECT COALESCE(MAX(seq), 0) FROM event_log WHERE tenant_id = ${t}) AS max_seq,
           (SELECT COUNT(*) FROM interaction_events e LEFT JOIN (SELECT history_seq FROM event_log WHERE tenant_id = ${t} AND history_seq IS NOT NULL GROUP BY history_seq) l ON l.history_seq = e.seq WHERE e.tenant_id = ${t} AND l.history_seq IS NULL) AS lost,
           (SELECT COUNT(*) FROM (SELECT history_seq FROM event_log WHERE tenant_id = ${t} AND history_seq IS NOT NULL GROUP BY history_seq HAVING COUNT(*) > 1)) AS doubled,
           (SELECT COUNT(*) FROM event_log l LEFT JOIN interaction_events e ON e.seq = l.history_seq WHERE l.tenant_id = ${t} AND l.history_seq IS NOT NULL AND e.seq IS NULL) AS phantom,
           (SELECT COUNT(*) FROM (SELECT 1 FROM interaction_events WHERE tenant_id = ${t} GROUP BY interaction_id, action, at, actor, from_state, to_state HAVING COUNT(*) > 1)) AS history_doubled,
           (SELECT COUNT(*) FROM interactions i WHERE i.tenant_id = ${t} AND NOT EXISTS (SELECT 1 FROM event_log l WHERE l.tenant_id = i.tenant_id AND l.subject = i.id)) AS interactions_without_events`,
      );
      eventLog = { ...row!, contiguous: row!.min_seq === 1 && row!.max_seq === row!.events };
      delete (eventLog as { min_seq?: number }).min_seq;
    } catch (err) {
      eventLog = { events: 0, max_seq: 0, contiguous: false, lost: -1, doubled: -1, phantom: -1, history_doubled: -1, interactions_without_events: -1, error: errText(err) };
    }

    // ---- figures ----
    const countOf = (o: Op) => (o.key.kind === "chat_msg" ? (chatCounts.get(o.key.clientId) ?? 0) : (stored.counts.get(`${o.key.kind}:${o.key.id}`) ?? 0));
    const acked = traffic.ops.filter((o) => o.acked);
    const lost = acked.filter((o) => countOf(o) === 0);
    const doubled = traffic.ops.filter((o) => countOf(o) > 1);
    const sentTwice = traffic.replies.filter((r) => r.id && ((sends.get(r.id)?.outbox ?? 0) > 1 || (sends.get(r.id)?.emails ?? 0) > 1));
    const sentNotDelivered = traffic.replies.filter((r) => r.sent && r.id && (sends.get(r.id)?.outbox ?? 0) === 0);
    const byKind = Object.fromEntries(
      WEIGHTS.map(([k]) => k).filter((k) => k !== "reply").map((k) => {
        const os = traffic.ops.filter((o) => o.kind === k);
        return [k, { sent: os.length, tries: os.reduce((s, o) => s + o.tries, 0), acknowledged: os.filter((o) => o.acked).length, never_acknowledged: os.filter((o) => !o.acked).length, stored_unacknowledged: os.filter((o) => !o.acked && countOf(o) > 0).length, lost: lost.filter((o) => o.kind === k).length, doubled: doubled.filter((o) => o.kind === k).length }];
      }),
    );
    const statuses: Record<string, number> = {};
    for (const o of traffic.ops) for (const [k, v] of Object.entries(o.statuses)) statuses[`${o.kind} ${k}`] = (statuses[`${o.kind} ${k}`] ?? 0) + v;
    for (const r of traffic.replies) for (const [k, v] of Object.entries(r.statuses)) statuses[`reply ${k}`] = (statuses[`reply ${k}`] ?? 0) + v;
    const logs = [...roundsDone.map((r) => String(r.round)), "final"].map((r) => ({ round: r, ...troubleInLog(`${root}bench/results/crash-wrangler-${r}.log`).errors }));
    const result = {
      rounds: roundsDone.length,
      acknowledged: acked.length,
      lost: lost.length,
      doubled: doubled.length,
      sent_twice: sentTwice.length,
      detail: {
        bench: name,
        date: new Date().toISOString(),
        targets: {
          none_lost: lost.length === 0, none_doubled: doubled.length === 0, no_reply_sent_twice: sentTwice.length === 0, at_least_5_rounds: roundsDone.length >= 5,
          event_log_contiguous: eventLog.contiguous, event_log_none_lost: eventLog.lost === 0 && eventLog.interactions_without_events === 0, event_log_none_doubled: eventLog.doubled === 0 && eventLog.phantom === 0 && eventLog.history_doubled === 0,
        },
        event_log: eventLog,
        settings: { rounds: opts.rounds, kill_between_s: [opts.minS, opts.maxS], concurrency: opts.concurrency, request_timeout_s: opts.requestTimeoutMs / 1000, final_tries: opts.finalTries, weights: Object.fromEntries(WEIGHTS) },
        by_kind: byKind,
        replies: {
          drafts: traffic.replies.filter((r) => r.id).length,
          sent: traffic.replies.filter((r) => r.sent).length,
          sent_twice: sentTwice.map((r) => ({ id: r.id, ...sends.get(r.id!) })),
          sent_but_not_in_outbox: sentNotDelivered.length,
          sent_but_not_in_outbox_samples: sentNotDelivered.slice(0, 5).map((r) => ({ id: r.id, email_status: sends.get(r.id!)?.status ?? null })),
          note: "A reply acknowledged as sent goes to delivery through a Queue; a job lost with the process (if the local queue does not keep it across a kill) leaves the email 'sending' until the sweep requeues it (workers/sweep.ts REQUEUE_SENDING_AFTER_MS), so 'sent but not in the outbox' is a delay, not a loss, unless its status says otherwise.",
          ...(replyError ? { error: replyError } : {}),
        },
        lost_samples: lost.slice(0, 10).map((o) => ({ kind: o.kind, key: o.key.kind === "chat_msg" ? `chat message ${o.key.clientId}` : `${o.key.kind}:${o.key.id}`, statuses: o.statuses })),
        doubled_samples: doubled.slice(0, 10).map((o) => ({ kind: o.kind, key: o.key.kind === "chat_msg" ? `chat message ${o.key.clientId}` : `${o.key.kind}:${o.key.id}`, copies: countOf(o), statuses: o.statuses })),
        still_unacknowledged: traffic.ops.filter((o) => !o.acked).length,
        statuses,
        rounds: roundsDone,
        final,
        check_errors: [...(stored.error ? [`D1: ${stored.error}`] : []), ...chatErrors.slice(0, 5)],
        wrangler_logs: logs.map((l) => ({ round: l.round, error_lines: l.lines, samples: l.samples.slice(0, 3) })),
        code: w.code,
        load_average: { before: loadBefore, after: loadavg().map((x) => round(x, 2)) },
        machine: { node: process.version, cpus: cpus().length, cpu_model: cpus()[0]?.model ?? "unknown", memory_gb: round(totalmem() / 2 ** 30, 1) },
      },
    };
    const yes = (b: boolean) => (b ? "met" : "MISSED");
    const summary = [
      `${roundsDone.length} rounds killed with SIGKILL (+ a final one): ${traffic.ops.length} inputs, ${acked.length} acknowledged, ${traffic.ops.length - acked.length} never acknowledged`,
      ...Object.entries(byKind).map(([k, v]) => `    ${k.padEnd(14)} sent ${String(v.sent).padStart(4)}  acknowledged ${String(v.acknowledged).padStart(4)}  lost ${v.lost}  doubled ${v.doubled}  (stored though unacknowledged: ${v.stored_unacknowledged})`),
      `lost: ${lost.length} (${yes(lost.length === 0)}); doubled: ${doubled.length} (${yes(doubled.length === 0)}); replies sent twice: ${sentTwice.length} of ${traffic.replies.filter((r) => r.sent).length} sent (${yes(sentTwice.length === 0)}); sent but not in the outbox: ${sentNotDelivered.length}`,
      ...lost.slice(0, 5).map((o) => `    lost: ${o.kind} ${o.key.kind === "chat_msg" ? o.key.clientId : o.key.id} ${JSON.stringify(o.statuses)}`),
      ...doubled.slice(0, 5).map((o) => `    doubled: ${o.kind} ${o.key.kind === "chat_msg" ? o.key.clientId : o.key.id} x${countOf(o)}`),
      `event log: ${eventLog.events} events, ${eventLog.contiguous ? "contiguous 1.." + eventLog.max_seq : "NOT contiguous (max " + eventLog.max_seq + ")"}; history rows missing from it ${eventLog.lost}, in it twice ${eventLog.doubled}, without a history row ${eventLog.phantom}; transitions written twice ${eventLog.history_doubled}; interactions with no event ${eventLog.interactions_without_events}${eventLog.error ? ` (check error: ${eventLog.error.slice(0, 200)})` : ""}`,
      ...(result.detail.check_errors.length ? [`check errors: ${result.detail.check_errors.join(" | ").slice(0, 300)}`] : []),
      `wrangler dev logs: ${logs.map((l) => `${l.round}: ${l.lines}`).join(", ")} error line(s)`,
    ];
    return { result, summary };
  } finally {
    if (dev) await dev.stop();
    removeWorkdir(w);
  }
}
