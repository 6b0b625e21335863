// The InteractionQueue object's state and internals: its items table and agent hints, the dispatch
// loop that proposes offers, handoff bookkeeping, and its alarm. interaction-queue.ts adds the RPC
// surface on top; the decisions are pure (workers/routing/: order, select, queue-rules).
import { objectEnv } from "../workers/tenancy/tenant-env.ts";
import { DurableObject } from "cloudflare:workers";
import { getConfig } from "../workers/config/store.ts";
import type { CompiledQueue } from "../workers/config/compiled.ts";
import { MEDIA, type Media } from "../workers/config/schema.ts";
import { conflict, fail, notFound } from "../workers/kernel/errors.ts";
import { canTake, type AgentSnapshot } from "../workers/routing/agent-state.ts";
import { currentTarget, mergeViewOrder, viewOrderSql, type OrderKey } from "../workers/routing/order.ts";
import { explain } from "../workers/routing/select.ts";
import { AgentIndex } from "../workers/routing/agent-index.ts";
import { matches, parseSkillExpr, type SkillExpr } from "../workers/routing/skills.ts";
import { REQUIRED_SKILLS } from "../workers/workflow/classify.ts";
import { cycleOver, nextQueueAlarm, overflow, overflowWindows } from "../workers/routing/queue-rules.ts";
import type { CompiledTarget } from "../workers/workflow/steps.ts";
import { agentStub, splitName } from "./names.ts";
import { clearHandoff, noteHandoff, receiverHolds, type HandoffTarget } from "./handoff.ts";
import { Alarm } from "./alarm.ts";
import { Outbox, OUTBOX_DDL } from "./outbox.ts";
import { hasSchema } from "./schema.ts";
import type { Offer, QueueItem } from "./types.ts";
import { benchEnv } from "../workers/kernel/d1-count.ts";

/** Extra time past the agent's own offer timeout before the queue takes an offer back by itself. */
const STALE_GRACE_MS = 15_000;
/** A handoff not finished by then is settled by asking its receiver. */
const HANDOFF_DEADLINE_MS = 60_000;
/** Bumped when the tables below change, so a warm object skips the DDL. */
const SCHEMA = "6";
const SCAN = 200;

export type ItemState = "waiting" | "offered" | "parked" | "moving" | "scheduled";

export interface ItemRow {
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

interface WaitKey extends OrderKey {
  id: string;
  [k: string]: SqlStorageValue;
}

export const today = (now: number) => new Date(now).toISOString().slice(0, 10);
const availability = (s: AgentSnapshot) => MEDIA.filter((m) => canTake(s, m)).join(",");

export abstract class QueueCore extends DurableObject<Env> {
  /** This object's tenant's env: its shard, bucket and objects in its jurisdiction. */
  protected te = () => objectEnv(this.env, this.tenant);
  protected readonly sql: SqlStorage;

  protected readonly tenant: string;

  protected readonly queue: string;

  protected readonly outbox: Outbox;

  /** The agents' latest reports, with who can take what kept in routing order (workers/routing/agent-index.ts). */
  protected readonly hints = new AgentIndex();

  /** The view order as last computed, for queue-position answers. */
  protected order: { at: number; ids: Map<string, number>; avgHandleMs: number | null } | null = null;

  protected dispatching: Promise<void> | null = null;

  protected seq: number;

  protected readonly timer: Alarm;

  protected redispatch = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, benchEnv(env, "queue"));
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
        CREATE INDEX IF NOT EXISTS items_state_entered ON items (state, entered_at);
        CREATE INDEX IF NOT EXISTS items_wait_order ON items (state, boost, priority, entered_at, seq, id);`);
      this.sql.exec(`INSERT OR REPLACE INTO kv (k, v) VALUES ('schema', '${SCHEMA}')`);
    }
    this.seq = this.sql.exec<{ s: number | null }>("SELECT MAX(seq) AS s FROM items").one().s ?? 0;
    for (const h of this.sql.exec<{ snapshot: string }>("SELECT snapshot FROM hints")) {
      const s = JSON.parse(h.snapshot) as AgentSnapshot;
      this.hints.set(s);
    }
    this.timer = new Alarm(ctx.storage);
    this.outbox = new Outbox(this.sql, () => objectEnv(benchEnv(env, "queue-outbox"), this.tenant).then((e) => e.DB), (at) => void this.timer.arm(at));
    // Work interrupted by an eviction resumes: items half-moved go back to waiting, routing restarts.
    const moving = this.sql.exec<ItemRow>("SELECT * FROM items WHERE state = 'moving'").toArray();
    if (moving.length) ctx.waitUntil(this.resolveHandoffs(moving));
    ctx.waitUntil(Promise.resolve().then(() => this.kick()));
  }

  /** Items that were being handed on when the object stopped: gone if the receiver has them, else back. */
  protected async resolveHandoffs(moving: ItemRow[]): Promise<void> {
    for (const it of moving) {
      const held = await receiverHolds(this.sql, await this.te(), this.tenant, it.id, "").catch(() => false);
      if (held) this.sql.exec("DELETE FROM items WHERE id = ? AND state = 'moving'", it.id);
      else this.sql.exec("UPDATE items SET state = ? WHERE id = ? AND state = 'moving'", it.parked_by ? "parked" : "waiting", it.id);
      clearHandoff(this.sql, it.id);
    }
    this.kick();
  }

  /** Starts a dispatch pass, or asks the running one to go again. */
  protected kick(): void {
    if (this.dispatching) {
      this.redispatch = true;
      return;
    }
    this.dispatching = (async () => {
      try {
        do {
          this.redispatch = false;
          // A full scan that offered something may have left more for the agents still free.
          if (await this.dispatchPass()) this.redispatch = true;
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

  /** One pass over the head of the queue, one offer at a time (each choice sees the last answer's
   *  load). Returns whether another pass may find more to offer. */
  protected async dispatchPass(): Promise<boolean> {
    const cq = await this.compiled();
    const now = Date.now();
    this.promoteDue(now);
    this.expirePins(now);
    // Without free agents (or without a strategy: review and holding queues) only assigned work moves.
    const routes = cq.targets !== undefined && this.hints.anyFree(cq.config.media);
    const ids = routes ? this.waitingInOrder(cq, now, SCAN) : this.pinnedInOrder(cq, now).map((r) => r.id);
    let offered = false;
    for (const id of ids) if (await this.offerItem(id, cq, routes, now)) offered = true;
    return offered && ids.length === SCAN;
  }

  /** Offers one item: up to 4 agents in turn (one who refuses is skipped). */
  private async offerItem(id: string, cq: CompiledQueue, routes: boolean, now: number): Promise<boolean> {
    for (let attempt = 0; attempt < 4; attempt++) {
      const it = this.row(id);
      if (!it || it.state !== "waiting") return false;
      if (!it.pinned_agent && !routes) return false;
      let agentId: string;
      let reason: unknown;
      if (it.pinned_agent) {
        const h = this.hints.get(it.pinned_agent);
        if (h && !canTake(h, it.media)) return false;
        const index = cq.targets ? this.targetOf(it, cq.targets, now).index : 0;
        agentId = it.pinned_agent;
        reason = { target: index, why: "assigned to this agent (transfer or supervisor assign)" };
      } else {
        const at = this.targetOf(it, cq.targets!, now);
        const target = this.withNeeds(it, at.target);
        const { ranked, considered, excluded, complete } = this.hints.rank(it.media, target, this.exclusions(it, target, now));
        if (ranked.length === 0) return false;
        const choice = explain(at.index, target, ranked, ranked[0]!, now, considered, excluded, complete);
        agentId = choice.agentId;
        reason = choice.reason;
      }
      const offer = this.markOffered(it, agentId, reason, now);
      let res: { ok: boolean; snapshot?: AgentSnapshot };
      try {
        res = await agentStub(await this.te(), this.tenant, agentId).reserve(offer);
      } catch (err) {
        console.error(`reserve at ${agentId} failed`, err);
        res = { ok: false };
      }
      if (res.snapshot) this.storeHint(res.snapshot);
      else if (!res.ok) this.dropHint(agentId);
      if (res.ok) {
        this.outbox.add({ tenant: this.tenant, id: it.id, at: now, actor: "router", action: "offered", from: "queued", to: "offered", queue: this.queue, agent: agentId, reason });
        void this.outbox.flush();
        return true;
      }
      this.sql.exec("UPDATE items SET state = 'waiting', agent_id = NULL, offer_until = NULL WHERE id = ? AND state = 'offered' AND agent_id = ?", it.id, agentId);
      if (it.pinned_agent) return false;
    }
    return false;
  }

  /** Scheduled interactions whose time has come start waiting like any other. */
  protected promoteDue(now: number): void {
    const due = this.sql.exec<ItemRow>("SELECT * FROM items WHERE state = 'scheduled' AND due_at <= ?", now).toArray();
    for (const it of due) {
      this.sql.exec("UPDATE items SET state = 'waiting', entered_at = ?, target_since = ?, due_at = NULL WHERE id = ? AND state = 'scheduled'", now, now, it.id);
      this.bump(now, "entered");
      this.outbox.add({ tenant: this.tenant, id: it.id, at: now, actor: "router", action: "due", from: "scheduled", to: "queued", queue: this.queue });
    }
    if (due.length) void this.outbox.flush();
  }

  /** A preferred agent who did not take the work in time gives way to the queue's routing. */
  protected expirePins(now: number): void {
    const lapsed = this.sql.exec<ItemRow>("SELECT * FROM items WHERE state = 'waiting' AND pin_until IS NOT NULL AND pin_until <= ?", now).toArray();
    for (const it of lapsed) {
      this.sql.exec("UPDATE items SET pinned_agent = NULL, pin_until = NULL WHERE id = ?", it.id);
      this.outbox.add({ tenant: this.tenant, id: it.id, at: now, actor: "router", action: "preference_lapsed", from: "queued", to: "queued", queue: this.queue, reason: { agent: it.pinned_agent } });
    }
    if (lapsed.length) void this.outbox.flush();
  }

  protected async scheduleAlarm(): Promise<void> {
    const now = Date.now();
    const min = (q: string, ...args: SqlStorageValue[]) => this.sql.exec<{ t: number | null }>(q, ...args).one().t;
    const overflows = overflowWindows(this.lastCompiled?.targets ?? []).flatMap(({ start, end }) => {
      const e = min("SELECT MIN(entered_at) AS t FROM items WHERE state = 'waiting' AND entered_at > ? AND entered_at <= ?", now - end, now - start);
      return e === null ? [] : [{ enteredAt: e, end }];
    });
    const at = nextQueueAlarm({
      now,
      offerUntil: min("SELECT MIN(offer_until) AS t FROM items WHERE state IN ('offered', 'moving')"),
      dueAt: min("SELECT MIN(due_at) AS t FROM items WHERE due_at IS NOT NULL AND state = 'scheduled'"),
      pinUntil: min("SELECT MIN(pin_until) AS t FROM items WHERE pin_until IS NOT NULL AND state = 'waiting'"),
      excludedAt: min("SELECT MIN(excluded_at) AS t FROM items WHERE state = 'waiting' AND excluded_at IS NOT NULL"),
      overflows,
      outboxRetryAt: this.outbox.retryAt(now),
    });
    if (at !== null) await this.timer.arm(at);
  }

  protected lastCompiled: CompiledQueue | undefined;

  protected offerTimeoutMs = 30_000;

  protected async compiled(): Promise<CompiledQueue> {
    const cfg = await getConfig((await this.te()).DB, this.tenant);
    const q = cfg.queues.get(this.queue);
    if (!q) return fail(notFound("unknown_queue", `no queue '${this.queue}'`));
    this.lastCompiled = q;
    this.offerTimeoutMs = cfg.raw.settings.offerTimeoutSeconds * 1000;
    return q;
  }

  protected row(id: string): ItemRow | null {
    return this.sql.exec<ItemRow>("SELECT * FROM items WHERE id = ?", id).toArray()[0] ?? null;
  }

  /** Arrival order among equals; only its order matters, so it restarts from the highest item held. */
  protected nextSeq(): number {
    return ++this.seq;
  }

  protected bump(now: number, col: "entered" | "abandoned" | "stopped"): void {
    this.sql.exec(`INSERT INTO stats (day, ${col}) VALUES (?, 1) ON CONFLICT (day) DO UPDATE SET ${col} = ${col} + 1`, today(now));
  }

  /** The first `limit` waiting ids in view order. The index (state, boost, priority, entered_at, seq) gives
   *  each (boost, priority) group in arrival order; the groups are found by skipping through the index
   *  and merged (workers/routing/order.ts), so a pass reads about `limit` rows however many wait. */
  protected waitingInOrder(cq: CompiledQueue, now: number, limit: number): string[] {
    const streams: Iterator<WaitKey>[] = [];
    const one = <T extends Record<string, SqlStorageValue>>(q: string, ...args: SqlStorageValue[]) => this.sql.exec<T>(q, ...args).toArray()[0];
    for (let b = one<{ boost: number }>("SELECT boost FROM items WHERE state = 'waiting' ORDER BY boost LIMIT 1"); b; b = one("SELECT boost FROM items WHERE state = 'waiting' AND boost > ? ORDER BY boost LIMIT 1", b.boost))
      for (let p = one<{ priority: number }>("SELECT priority FROM items WHERE state = 'waiting' AND boost = ? ORDER BY priority LIMIT 1", b.boost); p; p = one("SELECT priority FROM items WHERE state = 'waiting' AND boost = ? AND priority > ? ORDER BY priority LIMIT 1", b.boost, p.priority))
        streams.push(this.sql.exec<WaitKey>(`SELECT id, boost, priority, entered_at, seq FROM items WHERE state = 'waiting' AND boost = ? AND priority = ? ORDER BY entered_at, seq LIMIT ${limit}`, b.boost, p.priority));
    return mergeViewOrder(streams, now, cq.config.aging, limit).map((r) => r.id);
  }

  /** The strategy target that applies to this item now; on overflow its exclusions reset and the target's priority applies. */
  protected targetOf(it: ItemRow, targets: CompiledTarget[], now: number) {
    const t = currentTarget(targets, it.target_since, now);
    const over = overflow({ priority: it.priority, targetIdx: it.target_idx }, t.index, t.target.priority);
    if (over) {
      const { priority } = over;
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
  protected exclusions(it: ItemRow, target: CompiledTarget, now: number): Set<string> {
    const ex = new Set(JSON.parse(it.excluded) as string[]);
    if (ex.size === 0) return ex;
    const { ranked } = this.hints.rank(it.media, target, ex, 1);
    if (cycleOver(ranked.length, it.excluded_at, now)) {
      this.sql.exec("UPDATE items SET excluded = '[]', excluded_at = NULL WHERE id = ?", it.id);
      return new Set();
    }
    return ex;
  }

  protected fits(it: ItemRow, s: AgentSnapshot, targets: CompiledTarget[] | undefined, now: number): boolean {
    if (!canTake(s, it.media)) return false;
    if (it.pinned_agent) return it.pinned_agent === s.agentId;
    if (!targets) return false;
    const target = this.withNeeds(it, this.targetOf(it, targets, now).target);
    if (!matches(target.expr, s.skills)) return false;
    return !this.exclusions(it, target, now).has(s.agentId);
  }

  /** Skills the item itself needs on top of the target's (the classify step's rule for its category), parsed once per item. */
  private readonly needs = new Map<string, { expr: SkillExpr; src: string } | null>();
  protected withNeeds(it: ItemRow, target: CompiledTarget): CompiledTarget {
    let need = this.needs.get(it.id);
    if (need === undefined) {
      const src = (JSON.parse(it.data) as QueueItem).attributes[REQUIRED_SKILLS];
      try {
        need = typeof src === "string" ? { expr: parseSkillExpr(src), src } : null;
      } catch {
        need = null; // validated in config; an expression that no longer parses requires nothing
      }
      if (this.needs.size > 10_000) this.needs.clear();
      this.needs.set(it.id, need);
    }
    return need ? { ...target, expr: { kind: "and", left: target.expr, right: need.expr }, skills: `${target.skills} & ${need.src}` } : target;
  }

  protected findFor(s: AgentSnapshot, cq: CompiledQueue, now: number): ItemRow | null {
    if (!cq.config.media.some((m) => canTake(s, m))) return null;
    if (!cq.targets) return this.pinnedInOrder(cq, now).find((it) => this.fits(it, s, cq.targets, now)) ?? null;
    for (const id of this.waitingInOrder(cq, now, SCAN)) {
      const it = this.row(id);
      if (it && this.fits(it, s, cq.targets, now)) return it;
    }
    return null;
  }

  protected pinnedInOrder(cq: CompiledQueue, now: number): ItemRow[] {
    return this.sql.exec<ItemRow>(`SELECT * FROM items WHERE state = 'waiting' AND pinned_agent IS NOT NULL ORDER BY ${viewOrderSql(cq.config.aging)} LIMIT ${SCAN}`, now).toArray();
  }

  protected markOffered(it: ItemRow, agentId: string, reason: unknown, now: number): Offer {
    const expiresAt = now + this.offerTimeoutMs;
    this.sql.exec("UPDATE items SET state = 'offered', agent_id = ?, offer_until = ? WHERE id = ?", agentId, expiresAt + STALE_GRACE_MS, it.id);
    return { interactionId: it.id, queue: this.queue, media: it.media, item: JSON.parse(it.data) as QueueItem, enteredAt: it.entered_at, offeredAt: now, expiresAt, reason };
  }

  protected takeForHandoff(itemId: string, target: HandoffTarget): ItemRow {
    const it = this.row(itemId);
    if (!it) return fail(notFound("not_in_queue", `interaction '${itemId}' is not in '${this.queue}'`));
    if (it.state === "offered" || it.state === "moving") fail(conflict("being_routed", `interaction '${itemId}' is being offered or moved right now; try again`));
    // A scheduled callback keeps its time: moved or pulled, it would be routed at once.
    if (it.state === "scheduled") fail(conflict("scheduled", `interaction '${itemId}' is scheduled for ${new Date(it.due_at ?? 0).toISOString()}; stop it or wait until then`));
    this.markMoving(it, target);
    return it;
  }

  /** Moving, with a deadline after which expireStale settles the handoff if it never finished. */
  protected markMoving(it: ItemRow, target: HandoffTarget): void {
    this.sql.exec("UPDATE items SET state = 'moving', offer_until = ? WHERE id = ?", Date.now() + HANDOFF_DEADLINE_MS, it.id);
    noteHandoff(this.sql, it.id, target);
  }

  protected finishHandoff(itemId: string): void {
    this.sql.exec("DELETE FROM items WHERE id = ?", itemId);
    clearHandoff(this.sql, itemId);
  }

  protected undoHandoff(it: ItemRow): void {
    this.sql.exec("UPDATE items SET state = ? WHERE id = ? AND state = 'moving'", it.parked_by ? "parked" : "waiting", it.id);
    clearHandoff(this.sql, it.id);
  }

  /** Keeps the newest report of an agent. It is written through to storage only when what the queue
   *  would do with it changes (which media the agent can take), so a restarted queue still knows whom
   *  to offer to; a stale load in storage is corrected by the agent's answer to the next offer. */
  protected storeHint(s: AgentSnapshot): void {
    const cur = this.hints.get(s.agentId);
    if (cur && cur.version > s.version) return;
    this.hints.set(s);
    if (cur && availability(cur) === availability(s)) return;
    this.sql.exec("INSERT INTO hints (agent_id, version, snapshot) VALUES (?, ?, ?) ON CONFLICT (agent_id) DO UPDATE SET version = excluded.version, snapshot = excluded.snapshot", s.agentId, s.version, JSON.stringify(s));
  }

  protected dropHint(agentId: string): void {
    this.hints.delete(agentId);
    this.sql.exec("DELETE FROM hints WHERE agent_id = ?", agentId);
  }

  protected async notifyPinned(agentId: string): Promise<void> {
    try {
      await agentStub(await this.te(), this.tenant, agentId).notePinned(this.queue);
    } catch (err) {
      console.error(`could not tell ${agentId} of an assignment`, err);
    }
  }
}
