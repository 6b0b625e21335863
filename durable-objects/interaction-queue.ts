// InteractionQueue: one per (tenant, queue). Owns the queue's waiting interactions in view order,
// runs its workflow steps, proposes offers to agents and keeps the queue's live statistics.
// An offer is proposed here but reserved by the agent's own object, so no interaction is offered
// to two agents and no agent goes beyond capacity.
import type { Media } from "../workers/config/schema.ts";
import { badRequest, conflict, fail, notFound } from "../workers/kernel/errors.ts";
import type { AgentSnapshot } from "../workers/routing/agent-state.ts";
import { effectivePriority, viewOrderSql } from "../workers/routing/order.ts";
import { excludeAgent, inServiceLevel, queueStats, returnAction, staffed, type DayCounts, type LiveCounts } from "../workers/routing/queue-rules.ts";
import { runSteps } from "../workers/workflow/steps.ts";
import { agentStub, queueStub } from "./names.ts";
import { stepSms } from "./queue-sms.ts";
import { QueueCore, today, type ItemRow, type ItemState } from "./queue-core.ts";
import { guard, unwrap, type Result } from "./result.ts";
import type { Candidate, Offer, QueueStats, QueueItem, ReturnWhy, SubmitOptions, SubmitResult, WorkbinEntry } from "./types.ts";

const MAX_HOPS = 10;

export type { Candidate } from "./types.ts";

export type { QueueStats } from "./types.ts";


export class InteractionQueue extends QueueCore {
  /** Takes an interaction into this queue. Idempotent on the interaction id while it is here. */
  submit(item: QueueItem, opts: SubmitOptions): Promise<Result<SubmitResult>> {
    return guard(async () => {
      if (this.row(item.id)) return { status: "duplicate", queue: this.queue };
      const cq = await this.compiled();
      if (!cq.config.media.includes(item.media)) fail(badRequest("media_not_accepted", `queue '${this.queue}' does not take ${item.media}`));
      const now = Date.now();
      const steps = item.skipSteps ? null : runSteps(cq.config.steps, item);
      const fields = steps ? { ...item, priority: steps.priority, attributes: steps.attributes, categories: steps.categories } : item;
      const outcome = steps?.outcome ?? { kind: cq.targets ? "route" : "hold" };
      const base = { tenant: this.tenant, id: item.id, at: now, actor: opts.actor, priority: fields.priority, categories: fields.categories, attributes: fields.attributes };
      if (steps?.sms.length) await stepSms(await this.te(), this.tenant, this.queue, item, steps.sms);

      if (outcome.kind === "forward") {
        const hops = (item.hops ?? 0) + 1;
        if (hops <= MAX_HOPS) {
          const to = queueStub(await this.te(), this.tenant, outcome.queue);
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
    });
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
      reason = { target: index, skills: this.withNeeds(it, target).skills, pick: "agent_choice", why: "agent became free and chose the best interaction across its queues" };
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
    const sl = this.lastCompiled?.config.serviceLevelSeconds ?? 60;
    this.sql.exec(
      `INSERT INTO stats (day, distributed, wait_sum, in_sl) VALUES (?, 1, ?, ?) ON CONFLICT (day) DO UPDATE SET
         distributed = distributed + 1, wait_sum = wait_sum + excluded.wait_sum, in_sl = in_sl + excluded.in_sl`,
      today(now), waited, inServiceLevel(waited, sl) ? 1 : 0,
    );
    return { ok: true, waitedMs: waited };
  }

  /** The offer came back (rejected, timed out, agent gone): head of the queue, not to that agent again this cycle. */
  returned(itemId: string, agentId: string, why: ReturnWhy): boolean {
    const it = this.row(itemId);
    if (!it || it.state !== "offered" || it.agent_id !== agentId) return false;
    const now = Date.now();
    // A refused transfer or assignment falls back to the queue's ordinary routing.
    this.sql.exec(
      "UPDATE items SET state = 'waiting', agent_id = NULL, offer_until = NULL, boost = 1, pinned_agent = NULL, pin_until = NULL, excluded = ?, excluded_at = ? WHERE id = ?",
      JSON.stringify(excludeAgent(it.excluded, agentId)), now, itemId,
    );
    this.outbox.add({ tenant: this.tenant, id: itemId, at: now, actor: `agent:${agentId}`, action: returnAction(why), from: "offered", to: "queued", queue: this.queue, agent: null, reason: { why, agent: agentId } });
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
    return staffed(this.hints.values(), media);
  }

  holds(itemId: string): boolean {
    return this.row(itemId) !== null;
  }

  /** Supervisor: move a waiting interaction to another queue (the receiver stores it before this queue forgets it). */
  moveTo(itemId: string, toQueue: string, actor: string): Promise<Result<SubmitResult>> {
    return guard(async () => {
      if (toQueue === this.queue) fail(badRequest("same_queue", `interaction is already in '${toQueue}'`));
      const it = this.takeForHandoff(itemId, `queue:${toQueue}`);
      try {
        const item = JSON.parse(it.data) as QueueItem;
        const r = unwrap(await queueStub(await this.te(), this.tenant, toQueue).submit({ ...item, pinnedAgent: null, skipSteps: false, hops: 0 }, { actor, action: "moved", reason: { from: this.queue } }));
        this.finishHandoff(itemId);
        return r;
      } catch (err) {
        this.undoHandoff(it);
        throw err;
      }
    });
  }

  /** Supervisor: pull a waiting interaction into an agent's (usually the supervisor's own) workbin. */
  pullTo(itemId: string, agentId: string, actor: string): Promise<Result<void>> {
    return guard(async () => {
      const it = this.takeForHandoff(itemId, `agent:${agentId}`);
      try {
        await agentStub(await this.te(), this.tenant, agentId).receiveIntoWorkbin({ interactionId: it.id, media: it.media, item: JSON.parse(it.data) as QueueItem, queue: this.queue, parkedAt: Date.now(), parkedBy: actor });
        this.finishHandoff(itemId);
      } catch (err) {
        this.undoHandoff(it);
        throw err;
      }
    });
  }

  /** Supervisor: offer this waiting interaction to one agent. */
  assign(itemId: string, agentId: string, actor: string): Promise<Result<void>> {
    return guard(async () => {
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
    });
  }

  /** Supervisor stop, or the customer gave up (abandoned), while waiting or parked. */
  stop(itemId: string, actor: string, why: { abandoned?: boolean; reason?: string }): Promise<Result<void>> {
    return guard(async () => {
      const it = this.row(itemId);
      // The customer gave up while an agent was being offered it: the offer is withdrawn first, unless
      // the agent has just accepted (then the agent has it, and this answers being_routed).
      if (why.abandoned && it?.state === "offered" && it.agent_id) {
        const withdrawn = await agentStub(await this.te(), this.tenant, it.agent_id).withdraw(itemId);
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

  /** Erasure: this queue keeps nothing of these interactions, in its items or its outbox. Answers what it removed. */
  async forget(ids: string[]): Promise<number> {
    const pending = await this.outbox.forget(new Set(ids));
    const items = this.sql.exec("DELETE FROM items WHERE id IN (SELECT value FROM json_each(?))", JSON.stringify(ids)).rowsWritten;
    return pending + items;
  }

  async stats(): Promise<QueueStats> {
    const now = Date.now();
    const cq = await this.compiled().catch(() => this.lastCompiled);
    const c = this.sql
      .exec<LiveCounts & Record<string, SqlStorageValue>>(
        `SELECT SUM(state = 'waiting' OR state = 'moving') AS waiting, SUM(state = 'offered') AS offered, SUM(state = 'parked') AS parked, SUM(state = 'scheduled') AS scheduled,
           MIN(CASE WHEN state NOT IN ('parked', 'scheduled') THEN entered_at END) AS oldest FROM items`,
      )
      .one();
    const day = this.sql.exec<DayCounts & Record<string, SqlStorageValue>>("SELECT * FROM stats WHERE day = ?", today(now)).toArray()[0];
    return queueStats(this.queue, c, day, cq?.config.serviceLevelSeconds ?? 60, now, today(now));
  }

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
