// Dashboard: one per tenant, named by the bare tenant id; the push side of the real-time Stat Server.
// Supervisors' consoles hold WebSockets to it (hibernation API). Its alarm gathers the tenant's live
// stats (workers/stats/live.ts, the same as GET /api/v1/stats) every 2 s while a socket is open and
// pushes them, and records a history sample every 15 s in its SQLite, pruned to the last hour. After
// the last socket closes it goes on sampling, without pushes, for an hour, so a supervisor who comes
// back finds the recent hour charted; then the alarm stops and the object costs nothing.
// The frames are workers/protocol/dashboard.ts; their parsing and the timings workers/stats/frames.ts.
import { objectEnv } from "../workers/tenancy/tenant-env.ts";
import type { DashboardFrame } from "../workers/protocol/dashboard.ts";
import { DurableObject } from "cloudflare:workers";
import { getConfig } from "../workers/config/store.ts";
import { liveStats, type LiveStats } from "../workers/stats/live.ts";
import { dueAt, HISTORY_MS, nextAlarm, parseClientFrame, statsFrame, TICK_MS, toSample, type Clock, type QueueSample, type Sample } from "../workers/stats/frames.ts";
import { CLOSE_REVOKED, checkHeld, heldFromHeaders, heldOf, type Held } from "../workers/auth/revocation.ts";
import { Alarm } from "./alarm.ts";
import { hasSchema } from "./schema.ts";

/** Bumped when the tables below change, so a warm object skips the DDL. */
const SCHEMA = "1";
const UNAVAILABLE: DashboardFrame = { type: "error", error: { code: "stats_unavailable", message: "the statistics could not be gathered just now; they follow on the next tick" } };

export class Dashboard extends DurableObject<Env> {
  /** This object's tenant's env: its shard, bucket and objects in its jurisdiction. */
  protected te = () => objectEnv(this.env, this.tenant);
  private readonly sql: SqlStorage;
  private readonly tenant: string;
  private readonly timer: Alarm;
  /** The last stats gathered: a queue whose call fails shows its last known figures meanwhile. */
  private last: LiveStats | null = null;
  private pushedAt = 0;
  /** When a sample last failed, so a failing one waits its turn like the rest. */
  private triedSampleAt = 0;
  private linger: number | null | undefined; // undefined: not read yet

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // The name is the tenant: only a Worker that checked the caller's tenant can name this object.
    const name = ctx.id.name;
    if (!name || !/^[a-z0-9][a-z0-9_-]*$/.test(name)) throw new Error(`Dashboard created without a tenant id as its name: ${name}`);
    this.tenant = name;
    this.sql = ctx.storage.sql;
    if (!hasSchema(this.sql, SCHEMA)) this.sql.exec(`
      CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS samples (at INTEGER PRIMARY KEY, queues TEXT NOT NULL);
      INSERT OR REPLACE INTO kv (k, v) VALUES ('schema', '${SCHEMA}');
    `);
    this.timer = new Alarm(ctx.storage);
  }

  /** Pushes fresh stats to every open socket at once (after a supervisor's action); none open, nothing
   *  is gathered. Answers how many sockets got them. Never throws: callers fire and forget. */
  async nudge(): Promise<number> {
    if (this.open().length === 0) return 0;
    const s = await this.gather();
    return s ? this.broadcast(statsFrame(s)) : 0;
  }

  // ---- sockets ----

  /** The Worker has checked the caller is a supervisor of this tenant. */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return Response.json({ error: { code: "upgrade_required", message: "expected a WebSocket upgrade" } }, { status: 426 });
    // Gathered before the socket is accepted, so a tick running meanwhile cannot reach it first:
    // the snapshot is always its first frame.
    const s = await this.gather();
    const now = Date.now();
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    // Who holds the socket, kept with it (it survives hibernation); none given, it is dropped on the first tick.
    const viewer: Held | null = heldFromHeaders(request);
    pair[1].serializeAttachment(viewer);
    this.send(pair[1], { type: "snapshot", at: s?.at ?? now, queues: s?.queues ?? [], agents: s?.agents ?? [], history: this.history(now) });
    if (!s) this.send(pair[1], UNAVAILABLE);
    this.setLinger(null);
    await this.timer.arm(now + TICK_MS);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    if (await this.dropIfRevoked(ws, Date.now())) return;
    const parsed = parseClientFrame(raw);
    if (!parsed.ok) return this.send(ws, { type: "error", error: parsed.error });
    if (parsed.frame.type === "ping") return this.send(ws, { type: "pong", at: Date.now() });
    const s = await this.gather();
    this.send(ws, s ? statsFrame(s) : UNAVAILABLE);
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "bye");
    } catch {
      // already closed
    }
    if (this.open(ws).length === 0) this.setLinger(Date.now() + HISTORY_MS);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.webSocketClose(ws, 1011);
  }

  // ---- the loop ----

  override async alarm(): Promise<void> {
    this.timer.fired();
    try {
      await this.tick(Date.now());
    } catch (err) {
      // A bad tick must not end the loop (a thrown alarm is retried with backoff, then dropped).
      console.error(`dashboard ${this.tenant}: tick`, err);
    }
    const next = nextAlarm(Date.now(), this.clock());
    if (next !== null) await this.timer.arm(next);
  }

  private async tick(now: number): Promise<void> {
    await this.dropRevoked(now);
    const open = this.open().length > 0;
    // Sockets gone without a close event (the object restarted): linger as after a close.
    if (!open && this.lingerUntil() === null) this.setLinger(now + HISTORY_MS);
    const due = dueAt(now, this.clock());
    if (!due.push && !due.sample) return;
    // One gathering serves both: a tick costs one call per queue and per agent, at most.
    const s = await this.gather();
    if (due.push) this.pushedAt = now;
    // A stored sample dates itself; a failed one is tried again on the next interval, not at once.
    if (due.sample && !s) this.triedSampleAt = now;
    if (!s) return;
    if (due.push) this.broadcast(statsFrame(s));
    if (due.sample) {
      const sample = this.record(s);
      this.broadcast({ type: "sample", sample });
    }
  }

  private clock(): Clock {
    const stored = this.sql.exec<{ at: number | null }>("SELECT MAX(at) AS at FROM samples").one().at ?? 0;
    return { open: this.open().length > 0, pushedAt: this.pushedAt, sampledAt: Math.max(stored, this.triedSampleAt), lingerUntil: this.lingerUntil() };
  }

  /** The tenant's live stats, or null (logged) when they cannot be had: callers go on without. */
  private async gather(): Promise<LiveStats | null> {
    try {
      const s = await liveStats(await this.te(), this.tenant, {
        queueFailed: (queue, err) => {
          console.warn(`dashboard ${this.tenant}: stats of queue ${queue}`, err);
          return this.last?.queues.find((q) => q.queue === queue) ?? null;
        },
      });
      this.last = s;
      return s;
    } catch (err) {
      console.error(`dashboard ${this.tenant}: stats`, err);
      return null;
    }
  }

  // ---- history ----

  private record(s: LiveStats): Sample {
    const sample = toSample(s);
    this.sql.exec("INSERT OR REPLACE INTO samples (at, queues) VALUES (?, ?)", sample.at, JSON.stringify(sample.queues));
    this.sql.exec("DELETE FROM samples WHERE at < ?", sample.at - HISTORY_MS);
    return sample;
  }

  private history(now: number): Sample[] {
    return this.sql
      .exec<{ at: number; queues: string }>("SELECT at, queues FROM samples WHERE at >= ? ORDER BY at", now - HISTORY_MS)
      .toArray()
      .map((r) => ({ at: r.at, queues: JSON.parse(r.queues) as Record<string, QueueSample> }));
  }

  // ---- inside ----

  private lingerUntil(): number | null {
    if (this.linger === undefined) {
      const v = this.sql.exec<{ v: string }>("SELECT v FROM kv WHERE k = 'linger_until'").toArray()[0]?.v;
      this.linger = v === undefined ? null : Number(v);
    }
    return this.linger;
  }

  /** Until when sampling goes on with no socket open; null while one is. */
  private setLinger(until: number | null): void {
    if (this.lingerUntil() === until) return;
    if (until === null) this.sql.exec("DELETE FROM kv WHERE k = 'linger_until'");
    else this.sql.exec("INSERT OR REPLACE INTO kv (k, v) VALUES ('linger_until', ?)", String(until));
    this.linger = until;
  }

  /** A socket outlives the request that checked it: each tick (2 s) and each frame close those whose
   *  token has lapsed or been revoked (workers/auth/revocation.ts), or whose login is no longer a
   *  supervisor (a changed role applies at once, as in the API). */
  private async dropRevoked(now: number): Promise<void> {
    for (const ws of this.open()) await this.dropIfRevoked(ws, now);
  }

  private async dropIfRevoked(ws: WebSocket, now: number): Promise<boolean> {
    const v = heldOf(ws.deserializeAttachment());
    const why = v ? await this.whyDrop(v, now) : "this socket has no token; log in again";
    if (!why) return false;
    this.send(ws, { type: "error", error: { code: "unauthorized", message: why } });
    try {
      ws.close(CLOSE_REVOKED, why);
    } catch {
      // already closing
    }
    return true;
  }

  private async whyDrop(v: Held, now: number): Promise<string | null> {
    const refused = await checkHeld((await this.te()).DB, this.tenant, v, now);
    if (refused) return refused.message;
    const agents = await getConfig((await this.te()).DB, this.tenant).then((c) => c.agents, () => null);
    const role = agents?.get(v.agentId)?.role;
    return agents && role !== "supervisor" && role !== "admin" ? "this login is no longer a supervisor" : null;
  }

  /** Open sockets, but for one that is closing. */
  private open(except?: WebSocket): WebSocket[] {
    return this.ctx.getWebSockets().filter((ws) => ws !== except && ws.readyState === WebSocket.OPEN);
  }

  private broadcast(frame: DashboardFrame): number {
    const data = JSON.stringify(frame);
    let n = 0;
    for (const ws of this.open()) if (this.sendRaw(ws, data)) n++;
    return n;
  }

  private send(ws: WebSocket, frame: DashboardFrame): void {
    this.sendRaw(ws, JSON.stringify(frame));
  }

  private sendRaw(ws: WebSocket, data: string): boolean {
    try {
      ws.send(data);
      return true;
    } catch {
      return false; // a socket closing under us; its client reconnects and gets a snapshot
    }
  }

  /** Its tenant was deleted (the platform's delete): the object's storage goes with it, and any
   *  socket still open is told so. */
  async wipe(): Promise<void> {
    for (const ws of this.ctx.getWebSockets()) ws.close(1000, "tenant deleted");
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    // The instance's memory (its schema made, its caches) goes too, once this answer is sent: a
    // tenant made later with the same id starts from nothing.
    setTimeout(() => this.ctx.abort("wiped"), 0);
  }
}
