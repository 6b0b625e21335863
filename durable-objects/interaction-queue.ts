// InteractionQueue: one per (tenant, queue). Owns the queue's waiting interactions in view order,
// runs its workflow steps, proposes offers to agents and keeps the queue's live statistics.
// An offer is proposed here but reserved by the agent's own object, so no interaction is offered
// to two agents and no agent goes beyond capacity.
import { DurableObject } from "cloudflare:workers";
import { getConfig } from "../workers/config/store.ts";
import type { CompiledQueue } from "../workers/config/compiled.ts";
import { MEDIA, type Media } from "../workers/config/schema.ts";
import { AppError, badRequest, conflict, notFound } from "../workers/kernel/errors.ts";
import { canTake, type AgentSnapshot } from "../workers/routing/agent-state.ts";
import { currentTarget, effectivePriority, viewOrderSql } from "../workers/routing/order.ts";
import { explain, rankAgents } from "../workers/routing/select.ts";
import { matches } from "../workers/routing/skills.ts";
import { runSteps, type CompiledTarget } from "../workers/workflow/steps.ts";
import { queueSms } from "../workers/sms/outbound.ts";
import { agentStub, queueStub, splitName } from "./names.ts";
import { clearHandoff, noteHandoff, receiverHolds, type HandoffTarget } from "./handoff.ts";
import { Alarm } from "./alarm.ts";
import { Outbox, OUTBOX_DDL } from "./outbox.ts";
import { hasSchema } from "./schema.ts";
import { guard, unwrap, type Result } from "./result.ts";
import type { Candidate, Offer, QueueStats, QueueItem, ReturnWhy, SubmitOptions, SubmitResult, WorkbinEntry } from "./types.ts";

/** Extra time past the agent's own offer timeout before the queue takes an offer back by itself. */
const STALE_GRACE_MS = 15_000;
/** A returned interaction is not offered again to agents who passed on it until the cycle ends:
 *  every eligible agent was tried (and at least this long has passed) or the target overflowed. */
const CYCLE_MIN_MS = 5_000;
const MAX_HOPS = 10;
/** A handoff not finished by then is settled by asking its receiver. */
const HANDOFF_DEADLINE_MS = 60_000;
/** Bumped when the tables below change, so a warm object skips the DDL. */
const SCHEMA = "5";
const SCAN = 200;

type ItemState = "waiting" | "offered" | "parked" | "moving" | "scheduled";

interface ItemRow {
  id: string;
  seq: number;
  media: Media;
  priority: number;
  entered_at: number;
  target_since: number;
  target_idx: number;
  boost: number;
  state: ItemState;
  agent_id: string | null;
  offer_until: number | null;
  pinned_agent: string | null;
  excluded: string;
  excluded_at: number | null;
  data: string;
  parked_by: string | null;
  pin_until: number | null;
  due_at: number | null;
  [k: string]: SqlStorageValue;
}

export type { Candidate } from "./types.ts";

export type { QueueStats } from "./types.ts";

const fail = (e: AppError): never => {
  throw e;
};
const today = (now: number) => new Date(now).toISOString().slice(0, 10);
const availability = (s: AgentSnapshot) => MEDIA.filter((m) => canTake(s, m)).join(",");

export class InteractionQueue extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly tenant: string;
  private readonly queue: string;
  private readonly outbox: Outbox;
  private readonly hints = new Map<string, AgentSnapshot>();
  /** The view order as last computed, for queue-position answers. */
  private order: { at: number; ids: Map<string, number>; avgHandleMs: number | null } | null = null;
  private dispatching: Promise<void> | null = null;
  private seq: number;
  private readonly timer: Alarm;
  private redispatch = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    [this.tenant, this.queue] = splitName(ctx.id.name);
    this.sql = ctx.storage.sql;
    if (!hasSchema(this.sql, SCHEMA)) this.sql.exec(`
      CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS items (
        id TEXT PRIMARY KEY, seq INTEGER NOT NULL, media TEXT NOT NULL, priority INTEGER NOT NULL,
        entered_at INTEGER NOT NULL, target_since INTEGER NOT NULL, target_idx INTEGER NOT NULL DEFAULT 0,
        boost INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, agent_id TEXT, offer_until INTEGER,
        pinned_agent TEXT, excluded TEXT NOT NULL DEFAULT '[]', excluded_at INTEGER, data TEXT NOT NULL, parked_by TEXT,
        pin_until INTEGER, due_at INTEGER);
      CREATE INDEX IF NOT EXISTS items_state ON items (state);
      CREATE INDEX IF NOT EXISTS items_pinned ON items (pinned_agent) WHERE pinned_agent IS NOT NULL;
      CREATE TABLE IF NOT EXISTS hints (agent_id TEXT PRIMARY KEY, version INTEGER NOT NULL, snapshot TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS stats (day TEXT PRIMARY KEY, entered INTEGER NOT NULL DEFAULT 0, distributed INTEGER NOT NULL DEFAULT 0,
        abandoned INTEGER NOT NULL DEFAULT 0, stopped INTEGER NOT NULL DEFAULT 0, in_sl INTEGER NOT NULL DEFAULT 0,
        wait_sum INTEGER NOT NULL DEFAULT 0, handled INTEGER NOT NULL DEFAULT 0, handle_sum INTEGER NOT NULL DEFAULT 0);
      ${OUTBOX_DDL}
    `);
    if (!hasSchema(this.sql, SCHEMA)) {
      // Columns added after schema 3: a no-op on a new object's fresh table is an error, so check first.
      const cols = new Set(this.sql.exec<{ name: string }>("PRAGMA table_info(items)").toArray().map((c) => c.name));
      if (!cols.has("pin_until")) this.sql.exec("ALTER TABLE items ADD COLUMN pin_until INTEGER");
      if (!cols.has("due_at")) this.sql.exec("ALTER TABLE items ADD COLUMN due_at INTEGER");
      // Timers and scans read only the rows they are about, however much is waiting.
      this.sql.exec(`
        CREATE INDEX IF NOT EXISTS items_pin_until ON items (pin_until) WHERE pin_until IS NOT NULL;
        CREATE INDEX IF NOT EXISTS items_due ON items (due_at) WHERE due_at IS NOT NULL;
        CREATE INDEX IF NOT EXISTS items_excluded ON items (excluded_at) WHERE excluded_at IS NOT NULL;
        CREATE INDEX IF NOT EXISTS items_offer_until ON items (offer_until) WHERE offer_until IS NOT NULL;
        CREATE INDEX IF NOT EXISTS items_state_entered ON items (state, entered_at);`);
      this.sql.exec(`INSERT OR REPLACE INTO kv (k, v) VALUES ('schema', '${SCHEMA}')`);
    }
    this.seq = this.sql.exec<{ s: number | null }>("SELECT MAX(seq) AS s FROM items").one().s ?? 0;
    for (const h of this.sql.exec<{ snapshot: string }>("SELECT snapshot FROM hints")) {
      const s = JSON.parse(h.snapshot) as AgentSnapshot;
      this.hints.set(s.agentId, s);
    }
    this.timer = new Alarm(ctx.storage);
    this.outbox = new Outbox(this.sql, env.DB, () => void this.timer.arm(Date.now() + 5_000));
    // Work interrupted by an eviction resumes: items half-moved go back to waiting, routing restarts.
    const moving = this.sql.exec<ItemRow>("SELECT * FROM items WHERE state = 'moving'").toArray();
    if (moving.length) ctx.waitUntil(this.resolveHandoffs(moving));
    ctx.waitUntil(Promise.resolve().then(() => this.kick()));
  }

  /** Items that were being handed on when the object stopped: gone if the receiver has them, else back. */
  private async resolveHandoffs(moving: ItemRow[]): Promise<void> {
    for (const it of moving) {
      const held = await receiverHolds(this.sql, this.env, this.tenant, it.id, "").catch(() => false);
      if (held) this.sql.exec("DELETE FROM items WHERE id = ? AND state = 'moving'", it.id);
      else this.sql.exec("UPDATE items SET state = ? WHERE id = ? AND state = 'moving'", it.parked_by ? "parked" : "waiting", it.id);
      clearHandoff(this.sql, it.id);
    }
    this.kick();
  }

  // ---- entering the queue ----

  /** Takes an interaction into this queue. Idempotent on the interaction id while it is here. */
  submit(item: QueueItem, opts: SubmitOptions): Promise<Result<SubmitResult>> {
    return guard(() => this.doSubmit(item, opts));
  }

  private async doSubmit(item: QueueItem, opts: SubmitOptions): Promise<SubmitResult> {
    if (this.row(item.id)) return { status: "duplicate", queue: this.queue };
    const cq = await this.compiled();
    if (!cq.config.media.includes(item.media)) fail(badRequest("media_not_accepted", `queue '${this.queue}' does not take ${item.media}`));
    const now = Date.now();
    const steps = item.skipSteps ? null : runSteps(cq.config.steps, item);
    const fields = steps ? { ...item, priority: steps.priority, attributes: steps.attributes, categories: steps.categories } : item;
    const outcome = steps?.outcome ?? { kind: cq.targets ? "route" : "hold" };
    const base = { tenant: this.tenant, id: item.id, at: now, actor: opts.actor, priority: fields.priority, categories: fields.categories, attributes: fields.attributes };
    if (steps?.sms.length) await this.stepSms(item, steps.sms);

    if (outcome.kind === "forward") {
      const hops = (item.hops ?? 0) + 1;
      if (hops <= MAX_HOPS) {
        const to = queueStub(this.env, this.tenant, outcome.queue);
        const r = unwrap(await to.submit({ ...fields, hops }, { actor: "workflow", action: "forwarded", reason: { from: this.queue, steps: steps?.trace } }));
        return { status: r.status === "duplicate" ? "duplicate" : "forwarded", queue: r.queue };
      }
      this.outbox.add({ ...base, action: "stopped", to: "stopped", queue: this.queue, reason: { why: `more than ${MAX_HOPS} forwards: workflow loop` } });
      void this.outbox.flush();
      return { status: "stopped", queue: this.queue };
    }
    if (outcome.kind === "stop") {
      this.bump(now, "stopped");
      this.outbox.add({ ...base, action: "stopped", to: "stopped", queue: this.queue, reason: { why: outcome.reason, steps: steps?.trace } });
      void this.outbox.flush();
      return { status: "stopped", queue: this.queue };
    }
    // Re-check after the awaits above: a concurrent submit of the same id may have landed.
    if (this.row(item.id)) return { status: "duplicate", queue: this.queue };
    const scheduled = item.dueAt != null && item.dueAt > now;
    this.sql.exec(
      `INSERT INTO items (id, seq, media, priority, entered_at, target_since, boost, state, pinned_agent, data, pin_until, due_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      item.id, this.nextSeq(), item.media, fields.priority, now, now, item.pinnedAgent ? 1 : 0, scheduled ? "scheduled" : "waiting", item.pinnedAgent ?? null,
      JSON.stringify({ ...fields, dueAt: null, pinUntil: null }), item.pinnedAgent ? (item.pinUntil ?? null) : null, scheduled ? item.dueAt : null,
    );
    const trace = opts.reason ?? (steps?.trace.length ? { steps: steps.trace } : undefined);
    if (scheduled) {
      this.outbox.add({ ...base, action: opts.action ?? "scheduled", to: "scheduled", queue: this.queue, reason: { dueAt: item.dueAt, ...(trace ?? {}) } });
      void this.outbox.flush();
      await this.scheduleAlarm();
      return { status: "queued", queue: this.queue };
    }
    this.bump(now, "entered");
    this.outbox.add({ ...base, action: opts.action ?? "queued", to: "queued", queue: this.queue, reason: item.pinUntil && item.pinnedAgent ? { ...(trace ?? {}), preferredAgent: item.pinnedAgent, until: item.pinUntil } : trace });
    void this.outbox.flush();
    if (item.pinnedAgent) await this.notifyPinned(item.pinnedAgent);
    this.kick();
    return { status: "queued", queue: this.queue };
  }

  // ---- routing ----

  /** Starts a dispatch pass, or asks the running one to go again. */
  private kick(): void {
    if (this.dispatching) {
      this.redispatch = true;
      return;
    }
    this.dispatching = (async () => {
      try {
        do {
          this.redispatch = false;
          await this.dispatchPass();
        } while (this.redispatch);
      } catch (err) {
        console.error(`dispatch in ${this.queue} failed`, err);
      } finally {
        this.dispatching = null;
        await this.scheduleAlarm();
      }
    })();
    this.ctx.waitUntil(this.dispatching);
  }

  private async dispatchPass(): Promise<void> {
    const cq = await this.compiled();
    const now = Date.now();
    this.promoteDue(now);
    this.expirePins(now);
    // Without free agents (or without a strategy: review and holding queues) only assigned work moves.
    const routes = cq.targets !== undefined && [...this.hints.values()].some((h) => cq.config.media.some((m) => canTake(h, m)));
    const rows = routes ? this.waitingInOrder(cq, now, SCAN) : this.pinnedInOrder(cq, now);
    for (const r of rows) {
      for (let attempt = 0; attempt < 4; attempt++) {
        const it = this.row(r.id);
        if (!it || it.state !== "waiting") break;
        if (!it.pinned_agent && !routes) break;
        let agentId: string;
        let reason: unknown;
        if (it.pinned_agent) {
          const h = this.hints.get(it.pinned_agent);
          if (h && !canTake(h, it.media)) break;
          const index = cq.targets ? this.targetOf(it, cq.targets, now).index : 0;
          agentId = it.pinned_agent;
          reason = { target: index, why: "assigned to this agent (transfer or supervisor assign)" };
        } else {
          const { target, index } = this.targetOf(it, cq.targets!, now);
          const excluded = this.exclusions(it, target, now);
          const { ranked, considered, excluded: nEx } = rankAgents(this.hints.values(), it.media, target, excluded);
          if (ranked.length === 0) break;
          const choice = explain(index, target, ranked, ranked[0]!, now, considered, nEx);
          agentId = choice.agentId;
          reason = choice.reason;
        }
        const offer = this.markOffered(it, agentId, reason, now);
        let res: { ok: boolean; snapshot?: AgentSnapshot };
        try {
          res = await agentStub(this.env, this.tenant, agentId).reserve(offer);
        } catch (err) {
          console.error(`reserve at ${agentId} failed`, err);
          res = { ok: false };
        }
        if (res.snapshot) this.storeHint(res.snapshot);
        else if (!res.ok) this.dropHint(agentId);
        if (res.ok) {
          this.outbox.add({ tenant: this.tenant, id: it.id, at: now, actor: "router", action: "offered", from: "queued", to: "offered", queue: this.queue, agent: agentId, reason });
          void this.outbox.flush();
          break;
        }
        this.sql.exec("UPDATE items SET state = 'waiting', agent_id = NULL, offer_until = NULL WHERE id = ? AND state = 'offered' AND agent_id = ?", it.id, agentId);
        if (it.pinned_agent) break;
      }
    }
  }

  /** The best interaction here this agent could take now, for an agent choosing across its queues,
   *  and how many waiting here are assigned to it (so it knows whether to keep looking here). */
  async peek(snapshot: AgentSnapshot): Promise<{ best: Candidate | null; pinnedHere: number }> {
    this.storeHint(snapshot);
    const cq = await this.compiled();
    const now = Date.now();
    const pinnedHere = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM items WHERE pinned_agent = ? AND state != 'parked'", snapshot.agentId).one().n;
    const found = this.findFor(snapshot, cq, now);
    if (!found) return { best: null, pinnedHere };
    return {
      pinnedHere,
      best: {
        queue: this.queue, itemId: found.id, media: found.media, boost: found.boost, pinned: found.pinned_agent === snapshot.agentId,
        priority: effectivePriority(found.priority, found.entered_at, now, cq.config.aging), enteredAt: found.entered_at,
      },
    };
  }

  /** An agent claims an interaction it peeked. Returns the offer, or null if it went elsewhere meanwhile. */
  async claim(itemId: string, snapshot: AgentSnapshot): Promise<Offer | null> {
    this.storeHint(snapshot);
    const cq = await this.compiled();
    const now = Date.now();
    const it = this.row(itemId);
    if (!it || it.state !== "waiting" || !this.fits(it, snapshot, cq.targets, now)) return null;
    let reason: unknown;
    if (it.pinned_agent === snapshot.agentId) {
      const index = cq.targets ? this.targetOf(it, cq.targets, now).index : 0;
      reason = { target: index, why: "assigned to this agent (transfer or supervisor assign)" };
    } else {
      const { index, target } = this.targetOf(it, cq.targets!, now);
      reason = { target: index, skills: target.skills, pick: "agent_choice", why: "agent became free and chose the best interaction across its queues" };
    }
    const offer = this.markOffered(it, snapshot.agentId, reason, now);
    this.outbox.add({ tenant: this.tenant, id: it.id, at: now, actor: "router", action: "offered", from: "queued", to: "offered", queue: this.queue, agent: snapshot.agentId, reason });
    void this.outbox.flush();
    return offer;
  }

  /** The agent accepted: the interaction leaves the queue (the agent's object already holds it). */
  accepted(itemId: string, agentId: string): { ok: boolean; waitedMs?: number } {
    const it = this.row(itemId);
    if (!it || it.state !== "offered" || it.agent_id !== agentId) return { ok: false };
    const now = Date.now();
    const waited = now - it.entered_at;
    this.sql.exec("DELETE FROM items WHERE id = ?", itemId);
    const cq = this.lastCompiled;
    const sl = (cq?.config.serviceLevelSeconds ?? 60) * 1000;
    this.sql.exec(
      `INSERT INTO stats (day, distributed, wait_sum, in_sl) VALUES (?, 1, ?, ?) ON CONFLICT (day) DO UPDATE SET
         distributed = distributed + 1, wait_sum = wait_sum + excluded.wait_sum, in_sl = in_sl + excluded.in_sl`,
      today(now), waited, waited <= sl ? 1 : 0,
    );
    return { ok: true, waitedMs: waited };
  }

  /** The offer came back (rejected, timed out, agent gone): head of the queue, not to that agent again this cycle. */
  returned(itemId: string, agentId: string, why: ReturnWhy): boolean {
    const it = this.row(itemId);
    if (!it || it.state !== "offered" || it.agent_id !== agentId) return false;
    const now = Date.now();
    const excluded = new Set(JSON.parse(it.excluded) as string[]);
    excluded.add(agentId);
    // A refused transfer or assignment falls back to the queue's ordinary routing.
    this.sql.exec(
      "UPDATE items SET state = 'waiting', agent_id = NULL, offer_until = NULL, boost = 1, pinned_agent = NULL, pin_until = NULL, excluded = ?, excluded_at = ? WHERE id = ?",
      JSON.stringify([...excluded]), now, itemId,
    );
    this.outbox.add({ tenant: this.tenant, id: itemId, at: now, actor: `agent:${agentId}`, action: why === "rejected" ? "rejected" : `offer_${why}`, from: "offered", to: "queued", queue: this.queue, agent: null, reason: { why, agent: agentId } });
    void this.outbox.flush();
    this.kick();
    return true;
  }

  /** Handle time of an interaction this queue distributed, for its statistics. */
  recordHandled(handleMs: number): void {
    this.sql.exec(
      "INSERT INTO stats (day, handled, handle_sum) VALUES (?, 1, ?) ON CONFLICT (day) DO UPDATE SET handled = handled + 1, handle_sum = handle_sum + excluded.handle_sum",
      today(Date.now()), Math.max(0, Math.round(handleMs)),
    );
  }

  /** An agent's state changed: refresh its hint and route if it can take work. */
  agentChanged(snapshot: AgentSnapshot): void {
    this.storeHint(snapshot);
    this.kick();
  }

  // ---- supervisor and channel actions on waiting work ----

  list(): { id: string; media: Media; state: ItemState; priority: number; effectivePriority: number; waitingMs: number; agentId: string | null; pinnedAgent: string | null; targetIndex: number; item: QueueItem }[] {
    const now = Date.now();
    const aging = this.lastCompiled?.config.aging ?? { everySeconds: 60, step: 1, max: 10 };
    return this.sql
      .exec<ItemRow>(`SELECT * FROM items WHERE state != 'parked' ORDER BY ${viewOrderSql(aging)}`, now)
      .toArray()
      .map((r) => ({
        id: r.id, media: r.media, state: r.state, priority: r.priority, effectivePriority: effectivePriority(r.priority, r.entered_at, now, aging),
        waitingMs: now - r.entered_at, agentId: r.agent_id, pinnedAgent: r.pinned_agent, targetIndex: r.target_idx, item: JSON.parse(r.data) as QueueItem,
      }));
  }

  /** A workflow's sendSms steps: to the customer of an SMS interaction, from the number it came to.
   *  Each has a fixed id (interaction, queue, step), so a resubmission does not text twice. */
  private async stepSms(item: QueueItem, texts: string[]): Promise<void> {
    const center = item.attributes.center;
    const customer = item.attributes.customer;
    if ((item.media !== "sms" && item.media !== "mms" && item.media !== "chat") || typeof center !== "string" || typeof customer !== "string") return;
    try {
      const cfg = await getConfig(this.env.DB, this.tenant);
      const number = cfg.raw.numbers.find((n) => n.number === center);
      if (!number) return;
      for (const [i, text] of texts.entries())
        await queueSms(this.env, cfg, { interactionId: item.id, center: number, to: customer, body: text, author: "workflow", smsId: `step:${item.id}:${this.queue}:${i}` }).catch((e: unknown) => {
          // An opted-out customer simply gets nothing.
          if (!(e instanceof AppError)) throw e;
        });
    } catch (err) {
      console.error(`queue ${this.queue}: SMS step for ${item.id}`, err);
    }
  }

  /** A waiting item's place (1 = next) and what an estimate of its wait needs; null once it is no longer waiting here. */
  async waitInfo(itemId: string): Promise<{ position: number; agents: number; avgHandleMs: number | null } | null> {
    const me = this.row(itemId);
    if (!me || (me.state !== "waiting" && me.state !== "offered")) return null;
    // Every waiting chat asks every half minute: one ordering (and one read of the day's handling
    // time) a second serves them all.
    const now = Date.now();
    if (!this.order || now - this.order.at > 1000 || !this.order.ids.has(itemId)) this.order = { at: now, ids: new Map(this.list().map((r, i) => [r.id, i])), avgHandleMs: (await this.stats()).avgHandleMs };
    const ahead = this.order.ids.get(itemId) ?? -1;
    return { position: Math.max(1, ahead + 1), agents: this.staffed(me.media), avgHandleMs: this.order.avgHandleMs };
  }

  /** How many logged-in agents could take this media from here now or when they free up. */
  staffed(media: Media): number {
    return [...this.hints.values()].filter((h) => h.loggedIn && h.ready[media] === true && (h.capacity[media] ?? 0) > 0).length;
  }

  holds(itemId: string): boolean {
    return this.row(itemId) !== null;
  }

  /** Supervisor: move a waiting interaction to another queue (the receiver stores it before this queue forgets it). */
  moveTo(itemId: string, toQueue: string, actor: string): Promise<Result<SubmitResult>> {
    return guard(() => this.doMoveTo(itemId, toQueue, actor));
  }

  private async doMoveTo(itemId: string, toQueue: string, actor: string): Promise<SubmitResult> {
    if (toQueue === this.queue) fail(badRequest("same_queue", `interaction is already in '${toQueue}'`));
    const it = this.takeForHandoff(itemId, `queue:${toQueue}`);
    try {
      const item = JSON.parse(it.data) as QueueItem;
      const r = unwrap(await queueStub(this.env, this.tenant, toQueue).submit({ ...item, pinnedAgent: null, skipSteps: false, hops: 0 }, { actor, action: "moved", reason: { from: this.queue } }));
      this.finishHandoff(itemId);
      return r;
    } catch (err) {
      this.undoHandoff(it);
      throw err;
    }
  }

  /** Supervisor: pull a waiting interaction into an agent's (usually the supervisor's own) workbin. */
  pullTo(itemId: string, agentId: string, actor: string): Promise<Result<void>> {
    return guard(() => this.doPullTo(itemId, agentId, actor));
  }

  private async doPullTo(itemId: string, agentId: string, actor: string): Promise<void> {
    const it = this.takeForHandoff(itemId, `agent:${agentId}`);
    try {
      await agentStub(this.env, this.tenant, agentId).receiveIntoWorkbin({ interactionId: it.id, media: it.media, item: JSON.parse(it.data) as QueueItem, queue: this.queue, parkedAt: Date.now(), parkedBy: actor });
      this.finishHandoff(itemId);
    } catch (err) {
      this.undoHandoff(it);
      throw err;
    }
  }

  /** Supervisor: offer this waiting interaction to one agent. */
  assign(itemId: string, agentId: string, actor: string): Promise<Result<void>> {
    return guard(() => this.doAssign(itemId, agentId, actor));
  }

  private async doAssign(itemId: string, agentId: string, actor: string): Promise<void> {
    const it = this.row(itemId);
    if (!it || it.state === "parked") fail(notFound("not_in_queue", `interaction '${itemId}' is not waiting in '${this.queue}'`));
    if (it!.state === "scheduled") fail(conflict("scheduled", `interaction '${itemId}' is scheduled for ${new Date(it!.due_at ?? 0).toISOString()}; assign it when it is due`));
    if (it!.state !== "waiting") fail(conflict("being_routed", `interaction '${itemId}' is being offered right now; try again`));
    const now = Date.now();
    this.sql.exec("UPDATE items SET pinned_agent = ?, pin_until = NULL, boost = 1, excluded = '[]', excluded_at = NULL WHERE id = ?", agentId, itemId);
    this.outbox.add({ tenant: this.tenant, id: itemId, at: now, actor, action: "assigned", from: "queued", to: "queued", queue: this.queue, reason: { agent: agentId } });
    void this.outbox.flush();
    await this.notifyPinned(agentId);
    this.kick();
  }

  /** Supervisor stop, or the customer gave up (abandoned), while waiting or parked. */
  stop(itemId: string, actor: string, why: { abandoned?: boolean; reason?: string }): Promise<Result<void>> {
    return guard(async () => {
      const it = this.row(itemId);
      // The customer gave up while an agent was being offered it: the offer is withdrawn first, unless
      // the agent has just accepted (then the agent has it, and this answers being_routed).
      if (why.abandoned && it?.state === "offered" && it.agent_id) {
        const withdrawn = await agentStub(this.env, this.tenant, it.agent_id).withdraw(itemId);
        const now = this.row(itemId);
        if (withdrawn && now?.state === "offered") this.sql.exec("UPDATE items SET state = 'waiting', agent_id = NULL, offer_until = NULL WHERE id = ?", itemId);
      }
      this.doStop(itemId, actor, why);
    });
  }

  private doStop(itemId: string, actor: string, why: { abandoned?: boolean; reason?: string }): void {
    const it = this.row(itemId);
    if (!it) fail(notFound("not_in_queue", `interaction '${itemId}' is not in '${this.queue}'`));
    if (it!.state === "offered" || it!.state === "moving") fail(conflict("being_routed", `interaction '${itemId}' is being offered or moved right now; try again`));
    const now = Date.now();
    this.sql.exec("DELETE FROM items WHERE id = ?", itemId);
    this.bump(now, why.abandoned ? "abandoned" : "stopped");
    this.outbox.add({ tenant: this.tenant, id: itemId, at: now, actor, action: why.abandoned ? "abandoned" : "stopped", from: it!.state === "parked" ? "workbin" : it!.state === "scheduled" ? "scheduled" : "queued", to: "stopped", queue: this.queue, reason: why.reason ? { reason: why.reason } : undefined });
    void this.outbox.flush();
  }

  /** A waiting interaction leaves the queue for a state outside routing: a reviewed reply goes out
   *  ('sending') or back to its author ('draft'). */
  complete(itemId: string, actor: string, action: string, to: "sending" | "draft", reason?: unknown): Promise<Result<QueueItem>> {
    return guard(async () => {
      const it = this.row(itemId);
      if (!it) return fail(notFound("not_in_queue", `interaction '${itemId}' is not in '${this.queue}'`));
      if (it.state === "offered" || it.state === "moving") fail(conflict("being_routed", `interaction '${itemId}' is being offered or moved right now; try again`));
      const now = Date.now();
      this.sql.exec("DELETE FROM items WHERE id = ?", itemId);
      this.outbox.add({ tenant: this.tenant, id: itemId, at: now, actor, action, from: it.state === "parked" ? "workbin" : "queued", to, queue: to === "draft" ? null : this.queue, reason });
      await this.outbox.flush();
      return JSON.parse(it.data) as QueueItem;
    });
  }

  /** Scheduled interactions whose time has come start waiting like any other. */
  private promoteDue(now: number): void {
    const due = this.sql.exec<ItemRow>("SELECT * FROM items WHERE state = 'scheduled' AND due_at <= ?", now).toArray();
    for (const it of due) {
      this.sql.exec("UPDATE items SET state = 'waiting', entered_at = ?, target_since = ?, due_at = NULL WHERE id = ? AND state = 'scheduled'", now, now, it.id);
      this.bump(now, "entered");
      this.outbox.add({ tenant: this.tenant, id: it.id, at: now, actor: "router", action: "due", from: "scheduled", to: "queued", queue: this.queue });
    }
    if (due.length) void this.outbox.flush();
  }

  /** A preferred agent who did not take the work in time gives way to the queue's routing. */
  private expirePins(now: number): void {
    const lapsed = this.sql.exec<ItemRow>("SELECT * FROM items WHERE state = 'waiting' AND pin_until IS NOT NULL AND pin_until <= ?", now).toArray();
    for (const it of lapsed) {
      this.sql.exec("UPDATE items SET pinned_agent = NULL, pin_until = NULL WHERE id = ?", it.id);
      this.outbox.add({ tenant: this.tenant, id: it.id, at: now, actor: "router", action: "preference_lapsed", from: "queued", to: "queued", queue: this.queue, reason: { agent: it.pinned_agent } });
    }
    if (lapsed.length) void this.outbox.flush();
  }

  // ---- the queue's shared workbin ----

  park(entry: WorkbinEntry): void {
    if (this.row(entry.interactionId)) return;
    const now = Date.now();
    this.sql.exec(
      "INSERT INTO items (id, seq, media, priority, entered_at, target_since, state, data, parked_by) VALUES (?, ?, ?, ?, ?, ?, 'parked', ?, ?)",
      entry.interactionId, this.nextSeq(), entry.media, entry.item.priority, now, now, JSON.stringify(entry.item), entry.parkedBy,
    );
    this.outbox.add({ tenant: this.tenant, id: entry.interactionId, at: now, actor: entry.parkedBy, action: "parked", to: "workbin", queue: this.queue, workbin: `queue:${this.queue}` });
    void this.outbox.flush();
  }

  /** An agent takes an interaction out of the shared workbin: a handoff. It stays here, marked
   *  moving, until the agent has stored it and calls endUnpark. */
  beginUnpark(itemId: string, agentId: string): WorkbinEntry | null {
    const it = this.row(itemId);
    if (!it || it.state !== "parked") return null;
    this.markMoving(it, `agent:${agentId}`);
    return { interactionId: it.id, media: it.media, item: JSON.parse(it.data) as QueueItem, queue: this.queue, parkedAt: it.entered_at, parkedBy: it.parked_by ?? "" };
  }

  endUnpark(itemId: string): void {
    if (this.row(itemId)?.state === "moving") this.finishHandoff(itemId);
  }

  listWorkbin(): WorkbinEntry[] {
    return this.sql
      .exec<ItemRow>("SELECT * FROM items WHERE state = 'parked' ORDER BY seq")
      .toArray()
      .map((it) => ({ interactionId: it.id, media: it.media, item: JSON.parse(it.data) as QueueItem, queue: this.queue, parkedAt: it.entered_at, parkedBy: it.parked_by ?? "" }));
  }

  // ---- statistics ----

  async stats(): Promise<QueueStats> {
    const now = Date.now();
    const cq = await this.compiled().catch(() => this.lastCompiled);
    const c = this.sql
      .exec<{ waiting: number; offered: number; parked: number; scheduled: number; oldest: number | null }>(
        `SELECT SUM(state = 'waiting' OR state = 'moving') AS waiting, SUM(state = 'offered') AS offered, SUM(state = 'parked') AS parked, SUM(state = 'scheduled') AS scheduled,
           MIN(CASE WHEN state NOT IN ('parked', 'scheduled') THEN entered_at END) AS oldest FROM items`,
      )
      .one();
    const s = this.sql.exec<{ entered: number; distributed: number; abandoned: number; stopped: number; in_sl: number; wait_sum: number; handled: number; handle_sum: number }>("SELECT * FROM stats WHERE day = ?", today(now)).toArray()[0];
    const answeredOrLost = (s?.distributed ?? 0) + (s?.abandoned ?? 0);
    return {
      queue: this.queue,
      waiting: c.waiting ?? 0,
      offered: c.offered ?? 0,
      parked: c.parked ?? 0,
      scheduled: c.scheduled ?? 0,
      oldestWaitMs: c.oldest === null ? 0 : now - c.oldest,
      entered: s?.entered ?? 0,
      distributed: s?.distributed ?? 0,
      abandoned: s?.abandoned ?? 0,
      stopped: s?.stopped ?? 0,
      avgWaitMs: s?.distributed ? Math.round(s.wait_sum / s.distributed) : null,
      avgHandleMs: s?.handled ? Math.round(s.handle_sum / s.handled) : null,
      serviceLevelPct: answeredOrLost ? Math.round((1000 * (s?.in_sl ?? 0)) / answeredOrLost) / 10 : null,
      serviceLevelSeconds: cq?.config.serviceLevelSeconds ?? 60,
      day: today(now),
    };
  }

  // ---- timers: overflow, stale offers, exclusion cycles, outbox retries ----

  override async alarm(): Promise<void> {
    this.timer.fired();
    this.expireStale();
    await this.outbox.flush();
    this.kick();
  }

  /** Offers the agent's object never answered for go back to waiting; handoffs that stalled are
   *  settled by asking the receiver. */
  expireStale(): number {
    const now = Date.now();
    const stale = this.sql.exec<ItemRow>("SELECT * FROM items WHERE state = 'offered' AND offer_until < ?", now).toArray();
    for (const it of stale) this.returned(it.id, it.agent_id ?? "", "stale");
    const stalled = this.sql.exec<ItemRow>("SELECT * FROM items WHERE state = 'moving' AND offer_until < ?", now).toArray();
    if (stalled.length) this.ctx.waitUntil(this.resolveHandoffs(stalled));
    return stale.length;
  }

  private async scheduleAlarm(): Promise<void> {
    const cq = this.lastCompiled;
    const times: number[] = [];
    const o = this.sql.exec<{ t: number | null }>("SELECT MIN(offer_until) AS t FROM items WHERE state IN ('offered', 'moving')").one().t;
    if (o !== null) times.push(o);
    const due = this.sql.exec<{ t: number | null }>("SELECT MIN(due_at) AS t FROM items WHERE due_at IS NOT NULL AND state = 'scheduled'").one().t;
    if (due !== null) times.push(due);
    const pin = this.sql.exec<{ t: number | null }>("SELECT MIN(pin_until) AS t FROM items WHERE pin_until IS NOT NULL AND state = 'waiting'").one().t;
    if (pin !== null) times.push(pin);
    const ex = this.sql.exec<{ t: number | null }>("SELECT MIN(excluded_at) AS t FROM items WHERE state = 'waiting' AND excluded_at IS NOT NULL").one().t;
    if (ex !== null) times.push(ex + CYCLE_MIN_MS);
    if (cq?.targets && cq.targets.length > 1) {
      // The next overflow: per target with a timeout, the oldest item still within it (an item that
      // entered at e is in target i while now - e is in [start_i, end_i), and overflows at e + end_i).
      const now = Date.now();
      let start = 0;
      for (const t of cq.targets.slice(0, -1)) {
        if (t.timeoutSeconds === undefined) break;
        const end = start + t.timeoutSeconds * 1000;
        const e = this.sql.exec<{ e: number | null }>("SELECT MIN(entered_at) AS e FROM items WHERE state = 'waiting' AND entered_at > ? AND entered_at <= ?", now - end, now - start).one().e;
        if (e !== null) times.push(e + end);
        start = end;
      }
    }
    if (this.outbox.pending > 0) times.push(Date.now() + 5_000);
    if (times.length) await this.timer.arm(Math.max(Date.now() + 50, Math.min(...times)));
  }

  // ---- internals ----

  private lastCompiled: CompiledQueue | undefined;
  private offerTimeoutMs = 30_000;

  private async compiled(): Promise<CompiledQueue> {
    const cfg = await getConfig(this.env.DB, this.tenant);
    const q = cfg.queues.get(this.queue);
    if (!q) return fail(notFound("unknown_queue", `no queue '${this.queue}'`));
    this.lastCompiled = q;
    this.offerTimeoutMs = cfg.raw.settings.offerTimeoutSeconds * 1000;
    return q;
  }

  private row(id: string): ItemRow | null {
    return this.sql.exec<ItemRow>("SELECT * FROM items WHERE id = ?", id).toArray()[0] ?? null;
  }

  /** Arrival order among equals; only its order matters, so it restarts from the highest item held. */
  private nextSeq(): number {
    return ++this.seq;
  }

  private bump(now: number, col: "entered" | "abandoned" | "stopped"): void {
    this.sql.exec(`INSERT INTO stats (day, ${col}) VALUES (?, 1) ON CONFLICT (day) DO UPDATE SET ${col} = ${col} + 1`, today(now));
  }

  private waitingInOrder(cq: CompiledQueue, now: number, limit: number): ItemRow[] {
    return this.sql.exec<ItemRow>(`SELECT * FROM items WHERE state = 'waiting' ORDER BY ${viewOrderSql(cq.config.aging)} LIMIT ${limit}`, now).toArray();
  }

  /** The strategy target that applies to this item now; on overflow its exclusions reset and the target's priority applies. */
  private targetOf(it: ItemRow, targets: CompiledTarget[], now: number) {
    const t = currentTarget(targets, it.target_since, now);
    if (t.index !== it.target_idx) {
      const priority = t.target.priority !== undefined ? Math.max(it.priority, t.target.priority) : it.priority;
      this.sql.exec("UPDATE items SET target_idx = ?, priority = ?, excluded = '[]', excluded_at = NULL WHERE id = ?", t.index, priority, it.id);
      this.outbox.add({ tenant: this.tenant, id: it.id, at: now, actor: "router", action: "overflow", from: "queued", to: "queued", queue: this.queue, priority, reason: { fromTarget: it.target_idx, toTarget: t.index, skills: t.target.skills } });
      it.target_idx = t.index;
      it.priority = priority;
      it.excluded = "[]";
      it.excluded_at = null;
    }
    return t;
  }

  /** Agents this item is not offered to again in this cycle. The cycle ends once every eligible agent passed. */
  private exclusions(it: ItemRow, target: CompiledTarget, now: number): Set<string> {
    const ex = new Set(JSON.parse(it.excluded) as string[]);
    if (ex.size === 0) return ex;
    const { ranked } = rankAgents(this.hints.values(), it.media, target, ex);
    if (ranked.length === 0 && it.excluded_at !== null && now - it.excluded_at >= CYCLE_MIN_MS) {
      this.sql.exec("UPDATE items SET excluded = '[]', excluded_at = NULL WHERE id = ?", it.id);
      return new Set();
    }
    return ex;
  }

  private fits(it: ItemRow, s: AgentSnapshot, targets: CompiledTarget[] | undefined, now: number): boolean {
    if (!canTake(s, it.media)) return false;
    if (it.pinned_agent) return it.pinned_agent === s.agentId;
    if (!targets) return false;
    const { target } = this.targetOf(it, targets, now);
    if (!matches(target.expr, s.skills)) return false;
    return !this.exclusions(it, target, now).has(s.agentId);
  }

  private findFor(s: AgentSnapshot, cq: CompiledQueue, now: number): ItemRow | null {
    if (!cq.config.media.some((m) => canTake(s, m))) return null;
    for (const it of cq.targets ? this.waitingInOrder(cq, now, SCAN) : this.pinnedInOrder(cq, now)) if (this.fits(it, s, cq.targets, now)) return it;
    return null;
  }

  private pinnedInOrder(cq: CompiledQueue, now: number): ItemRow[] {
    return this.sql.exec<ItemRow>(`SELECT * FROM items WHERE state = 'waiting' AND pinned_agent IS NOT NULL ORDER BY ${viewOrderSql(cq.config.aging)} LIMIT ${SCAN}`, now).toArray();
  }

  private markOffered(it: ItemRow, agentId: string, reason: unknown, now: number): Offer {
    const expiresAt = now + this.offerTimeoutMs;
    this.sql.exec("UPDATE items SET state = 'offered', agent_id = ?, offer_until = ? WHERE id = ?", agentId, expiresAt + STALE_GRACE_MS, it.id);
    return { interactionId: it.id, queue: this.queue, media: it.media, item: JSON.parse(it.data) as QueueItem, enteredAt: it.entered_at, offeredAt: now, expiresAt, reason };
  }

  private takeForHandoff(itemId: string, target: HandoffTarget): ItemRow {
    const it = this.row(itemId);
    if (!it) return fail(notFound("not_in_queue", `interaction '${itemId}' is not in '${this.queue}'`));
    if (it.state === "offered" || it.state === "moving") fail(conflict("being_routed", `interaction '${itemId}' is being offered or moved right now; try again`));
    // A scheduled callback keeps its time: moved or pulled, it would be routed at once.
    if (it.state === "scheduled") fail(conflict("scheduled", `interaction '${itemId}' is scheduled for ${new Date(it.due_at ?? 0).toISOString()}; stop it or wait until then`));
    this.markMoving(it, target);
    return it;
  }

  /** Moving, with a deadline after which expireStale settles the handoff if it never finished. */
  private markMoving(it: ItemRow, target: HandoffTarget): void {
    this.sql.exec("UPDATE items SET state = 'moving', offer_until = ? WHERE id = ?", Date.now() + HANDOFF_DEADLINE_MS, it.id);
    noteHandoff(this.sql, it.id, target);
  }

  private finishHandoff(itemId: string): void {
    this.sql.exec("DELETE FROM items WHERE id = ?", itemId);
    clearHandoff(this.sql, itemId);
  }

  private undoHandoff(it: ItemRow): void {
    this.sql.exec("UPDATE items SET state = ? WHERE id = ? AND state = 'moving'", it.parked_by ? "parked" : "waiting", it.id);
    clearHandoff(this.sql, it.id);
  }

  /** Keeps the newest report of an agent. It is written through to storage only when what the queue
   *  would do with it changes (which media the agent can take), so a restarted queue still knows whom
   *  to offer to; a stale load in storage is corrected by the agent's answer to the next offer. */
  private storeHint(s: AgentSnapshot): void {
    const cur = this.hints.get(s.agentId);
    if (cur && cur.version > s.version) return;
    this.hints.set(s.agentId, s);
    if (cur && availability(cur) === availability(s)) return;
    this.sql.exec("INSERT INTO hints (agent_id, version, snapshot) VALUES (?, ?, ?) ON CONFLICT (agent_id) DO UPDATE SET version = excluded.version, snapshot = excluded.snapshot", s.agentId, s.version, JSON.stringify(s));
  }

  private dropHint(agentId: string): void {
    this.hints.delete(agentId);
    this.sql.exec("DELETE FROM hints WHERE agent_id = ?", agentId);
  }

  private async notifyPinned(agentId: string): Promise<void> {
    try {
      await agentStub(this.env, this.tenant, agentId).notePinned(this.queue);
    } catch (err) {
      console.error(`could not tell ${agentId} of an assignment`, err);
    }
  }
}
