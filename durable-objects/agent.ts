// Agent: one per (tenant, agent). The single authority on the agent's presence, capacity and work:
// it accepts an offer only when state and capacity allow (one object, so atomic), pushes offers to
// the desktop's WebSockets, times offers out, and when it frees up claims the best work across its queues.
import { DurableObject } from "cloudflare:workers";
import { getConfig } from "../workers/config/store.ts";
import type { AgentConfig, Media } from "../workers/config/schema.ts";
import { MEDIA } from "../workers/config/schema.ts";
import { badRequest, conflict, notFound, type AppError } from "../workers/kernel/errors.ts";
import { canTake, presenceOf, totalLoad, type AgentSnapshot, type PresenceState } from "../workers/routing/agent-state.ts";
import type { Transition } from "../workers/ucs/interactions.ts";
import type { Candidate } from "./interaction-queue.ts";
import { chatStub, queueStub, splitName } from "./names.ts";
import { WorkStore, type WorkRow, type WorkState } from "./agent-work.ts";
import { clearHandoff, noteHandoff, receiverHolds } from "./handoff.ts";
import { CLOSE_REVOKED, checkHeld, heldFromHeaders, heldOf, REVOCATION_CHECK_MS } from "../workers/auth/revocation.ts";
import { Alarm } from "./alarm.ts";
import { Outbox, OUTBOX_DDL } from "./outbox.ts";
import { guard, unwrap, type Result } from "./result.ts";
import { hasSchema } from "./schema.ts";
import type { Offer, QueueItem, ReturnWhy, SubmitResult, WorkbinEntry } from "./types.ts";


interface Presence {
  loggedIn: boolean;
  afterWork: boolean;
  afterWorkUntil: number | null;
  ready: Partial<Record<Media, boolean>>;
  reasons: Partial<Record<Media, string>>;
  idleSince: number;
  version: number;
  loggedInAt: number | null;
}

export interface WorkView {
  interactionId: string;
  media: Media;
  queue: string;
  state: WorkState;
  offeredAt: number;
  expiresAt: number | null;
  acceptedAt: number | null;
  item: QueueItem;
  reason: unknown;
}

export interface AgentStatus {
  agentId: string;
  presence: PresenceState;
  snapshot: AgentSnapshot;
  afterWorkUntil: number | null;
  offers: WorkView[];
  work: WorkView[];
  workbin: number;
  sockets: number;
}

export type TransferTo = { queue: string } | { agent: string };
export type WorkbinRef = "personal" | { queue: string };

const fail = (e: AppError): never => {
  throw e;
};

/** How long the desktop may be away (its last socket closed) before its pending offers go back to
 *  their queues: a network change or a sleep reconnects within it and finds them still there. The
 *  desktop retries at about 0.5, 1, 2, 4 and 8 s, and at once when the browser comes back online. */
export const DESK_RECONNECT_GRACE_MS = 10_000;

/** Bumped when the tables below change, so a warm object skips the DDL. */
const SCHEMA = "2";

export class Agent extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly tenant: string;
  private readonly agentId: string;
  private readonly outbox: Outbox;
  private readonly work: WorkStore;
  private p: Presence;
  private readonly peaks: Record<string, number> = {};
  private readonly timer: Alarm;
  private pulling = false;
  /** When the desktop's last socket closed, while it has not come back (kv 'away'). */
  private away: number | null;
  private pullAgain = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    [this.tenant, this.agentId] = splitName(ctx.id.name);
    this.sql = ctx.storage.sql;
    if (!hasSchema(this.sql, SCHEMA)) this.sql.exec(`
      CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS work (id TEXT PRIMARY KEY, media TEXT NOT NULL, queue TEXT NOT NULL, state TEXT NOT NULL,
        offered_at INTEGER NOT NULL, expires_at INTEGER, accepted_at INTEGER, entered_at INTEGER NOT NULL, data TEXT NOT NULL, reason TEXT);
      CREATE TABLE IF NOT EXISTS workbin (id TEXT PRIMARY KEY, media TEXT NOT NULL, queue TEXT NOT NULL, data TEXT NOT NULL, parked_at INTEGER NOT NULL, parked_by TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS max_load (media TEXT PRIMARY KEY, n INTEGER NOT NULL);
      ${OUTBOX_DDL}
      INSERT OR REPLACE INTO kv (k, v) VALUES ('schema', '${SCHEMA}');
    `);
    this.timer = new Alarm(ctx.storage);
    this.outbox = new Outbox(this.sql, env.DB, () => void this.timer.arm(Date.now() + 5_000));
    this.work = new WorkStore(this.sql);
    const row = this.sql.exec<{ v: string }>("SELECT v FROM kv WHERE k = 'presence'").toArray()[0];
    this.p = row
      ? (JSON.parse(row.v) as Presence)
      : { loggedIn: false, afterWork: false, afterWorkUntil: null, ready: {}, reasons: {}, idleSince: Date.now(), version: 0, loggedInAt: null };
    for (const r of this.sql.exec<{ media: string; n: number }>("SELECT media, n FROM max_load")) this.peaks[r.media] = r.n;
    const away = this.sql.exec<{ v: string }>("SELECT v FROM kv WHERE k = 'away'").toArray()[0];
    this.away = away ? Number(away.v) : null;
    if (this.work.inState("moving").length) ctx.waitUntil(this.resolveHandoffs());
  }

  /** Work that was being handed on when the object stopped: gone if the receiver has it, else back in hand. */
  private async resolveHandoffs(): Promise<void> {
    for (const w of this.work.inState("moving")) {
      const held = await receiverHolds(this.sql, this.env, this.tenant, w.id, `agent:${this.agentId}`).catch(() => false);
      if (held) this.work.delete(w.id);
      else this.work.patch(w.id, { state: "handling" });
      clearHandoff(this.sql, w.id);
    }
  }

  /** Runs a step on the interaction's chat; the chat's own failure is logged, not the agent's. */
  private async chat(id: string, step: (c: ReturnType<typeof chatStub>) => Promise<Result<unknown>>): Promise<void> {
    try {
      const r = await step(chatStub(this.env, this.tenant, id));
      // The customer left before the agent came in: the desktop hears so, and the agent marks it done.
      if (!r.ok && r.error.code === "chat_ended") this.push({ type: "chat_ended", interactionId: id, reason: "customer" });
      else if (!r.ok) console.warn(`chat ${id}: ${r.error.message}`);
    } catch (err) {
      console.error(`chat ${id}`, err);
    }
  }

  private async fullName(agentId = this.agentId): Promise<string> {
    return (await getConfig(this.env.DB, this.tenant)).agents.get(agentId)?.fullName ?? agentId;
  }

  /** Does nothing: the benchmark's baseline of one empty object RPC. */
  ping(): number {
    return 1;
  }

  // ---- presence ----

  status(): Promise<Result<AgentStatus>> {
    return guard(() => this.doStatus());
  }

  private async doStatus(): Promise<AgentStatus> {
    // Everything after the one await is read in one synchronous step: the answer is the state at a
    // single instant, ordered with the pushes before and after it on the desktop's socket.
    const snapshot = this.snapshotWith(await this.config());
    const rows = this.work.all().map(view);
    return {
      agentId: this.agentId,
      presence: presenceOf(snapshot),
      snapshot,
      afterWorkUntil: this.presence().afterWorkUntil,
      offers: rows.filter((w) => w.state === "offered"),
      work: rows.filter((w) => w.state === "handling" || w.state === "moving"),
      workbin: this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM workbin").one().n,
      sockets: this.ctx.getWebSockets().length,
    };
  }

  async snapshot(): Promise<AgentSnapshot> {
    const cfg = await this.config();
    return this.snapshotWith(cfg);
  }

  login(opts: { ready?: boolean } = {}): Promise<Result<AgentStatus>> {
    return guard(() => this.doLogin(opts));
  }

  private async doLogin(opts: { ready?: boolean } = {}): Promise<AgentStatus> {
    const cfg = await this.config();
    const now = Date.now();
    this.update((p) => {
      if (!p.loggedIn) {
        p.loggedIn = true;
        p.loggedInAt = now;
        p.idleSince = now;
      }
      for (const m of MEDIA) if ((cfg.capacity[m] ?? 0) > 0) p.ready[m] = opts.ready ?? p.ready[m] ?? false;
      p.reasons = {};
    });
    await this.afterChange();
    return this.doStatus();
  }

  logout(): Promise<Result<AgentStatus>> {
    return guard(() => this.doLogout());
  }

  private async doLogout(): Promise<AgentStatus> {
    this.update((p) => {
      p.loggedIn = false;
      p.loggedInAt = null;
      p.ready = {};
      p.reasons = {};
      p.afterWork = false;
      p.afterWorkUntil = null;
    });
    await this.revokeOffers("logout");
    await this.afterChange();
    return this.doStatus();
  }

  /** Ready or not ready on some media (all the agent has capacity for when `media` is omitted). */
  setReady(ready: boolean, opts: { media?: Media[]; reason?: string } = {}): Promise<Result<AgentStatus>> {
    return guard(() => this.doSetReady(ready, opts));
  }

  private async doSetReady(ready: boolean, opts: { media?: Media[]; reason?: string } = {}): Promise<AgentStatus> {
    const cfg = await this.config();
    const tenantCfg = await getConfig(this.env.DB, this.tenant);
    if (!this.presence().loggedIn) fail(conflict("logged_out", "log in first"));
    if (!ready && opts.reason !== undefined && !tenantCfg.raw.settings.notReadyReasons.includes(opts.reason))
      fail(badRequest("unknown_reason", `reason: '${opts.reason}' is not one of ${tenantCfg.raw.settings.notReadyReasons.join(", ")}`));
    const media = opts.media ?? MEDIA.filter((m) => (cfg.capacity[m] ?? 0) > 0);
    for (const m of media) if ((cfg.capacity[m] ?? 0) === 0) fail(badRequest("no_capacity", `media: this agent has no capacity for ${m}`));
    const now = Date.now();
    this.update((p) => {
      const wasReady = MEDIA.some((m) => p.ready[m]);
      for (const m of media) {
        p.ready[m] = ready;
        if (ready) delete p.reasons[m];
        else if (opts.reason) p.reasons[m] = opts.reason;
      }
      if (ready && !wasReady && this.load() === 0) p.idleSince = now;
    });
    await this.afterChange();
    return this.doStatus();
  }

  /** After-call work: no new offers until it ends (by the agent, or after the tenant's afterWorkSeconds). */
  setAfterWork(on: boolean): Promise<Result<AgentStatus>> {
    return guard(() => this.doSetAfterWork(on));
  }

  private async doSetAfterWork(on: boolean): Promise<AgentStatus> {
    if (!this.presence().loggedIn) fail(conflict("logged_out", "log in first"));
    this.update((p) => {
      p.afterWork = on;
      p.afterWorkUntil = null;
      if (!on && this.load() === 0) p.idleSince = Date.now();
    });
    await this.afterChange();
    return this.doStatus();
  }

  // ---- offers ----

  /** A queue proposes an offer. Accepted only if state and capacity allow right now. */
  async reserve(offer: Offer): Promise<{ ok: boolean; snapshot: AgentSnapshot }> {
    const cfg = await this.config();
    // Synchronous from here: the check and the write are one atomic step.
    const before = this.snapshotWith(cfg);
    if (this.workRow(offer.interactionId)) return { ok: false, snapshot: before };
    if (!canTake(before, offer.media)) return { ok: false, snapshot: before };
    this.insertOffer(offer);
    this.notePeak();
    this.push({ type: "offer", offer: view(this.workRow(offer.interactionId)!) });
    await this.scheduleAlarm();
    return { ok: true, snapshot: this.snapshotWith(cfg) };
  }

  accept(id: string): Promise<Result<WorkView>> {
    return guard(() => this.doAccept(id));
  }

  private async doAccept(id: string): Promise<WorkView> {
    const w = this.workRow(id);
    if (!w || w.state !== "offered") return fail(notFound("no_offer", `no offer of '${id}' for this agent`));
    if (w.expires_at !== null && w.expires_at < Date.now()) {
      await this.returnOffer(w, "timeout");
      return fail(conflict("offer_expired", `the offer of '${id}' expired`));
    }
    const now = Date.now();
    const expiresAt = w.expires_at;
    this.work.patch(id, { state: "handling", accepted_at: now, expires_at: null });
    let r: { ok: boolean; waitedMs?: number };
    try {
      r = await queueStub(this.env, this.tenant, w.queue).accepted(id, this.agentId);
    } catch (err) {
      this.work.patch(id, { state: "offered", accepted_at: null, expires_at: expiresAt });
      throw err;
    }
    if (!r.ok) {
      this.work.delete(id);
      this.push({ type: "offer_revoked", interactionId: id, reason: "withdrawn" });
      await this.afterChange();
      return fail(conflict("offer_withdrawn", `the offer of '${id}' was withdrawn`));
    }
    this.record({ id, action: "accepted", from: "offered", to: "handling", queue: w.queue, reason: { waitedMs: r.waitedMs, offer: w.reason ? JSON.parse(w.reason) : undefined } });
    // Step 7 of the chat flow: accepting a chat joins it. A failure leaves the acceptance standing;
    // the desktop joins again with POST /api/v1/chats/{id}/join.
    if (w.media === "chat") await this.chat(id, async (c) => c.join({ id: `agent:${this.agentId}`, mode: "primary", name: await this.fullName() }));
    const v = view(this.workRow(id)!);
    this.push({ type: "work", work: v });
    this.bumpVersion();
    return v;
  }

  /** The customer gave up on an offered interaction: the offer goes without going back to the queue
   *  (which drops the item). False when it is no longer an offer (accepted meanwhile). */
  async withdraw(id: string): Promise<boolean> {
    const w = this.workRow(id);
    if (!w || w.state !== "offered" || !this.work.delete(id, "offered")) return false;
    this.push({ type: "offer_revoked", interactionId: id, reason: "abandoned" });
    if (this.load() === 0) this.update((p) => (p.idleSince = Date.now()));
    else this.bumpVersion();
    await this.afterChange();
    return true;
  }

  reject(id: string): Promise<Result<void>> {
    return guard(() => this.doReject(id));
  }

  private async doReject(id: string): Promise<void> {
    const w = this.workRow(id);
    if (!w || w.state !== "offered") fail(notFound("no_offer", `no offer of '${id}' for this agent`));
    await this.returnOffer(w!, "rejected");
  }

  // ---- work in hand ----

  done(id: string): Promise<Result<void>> {
    return guard(() => this.doDone(id));
  }

  private async doDone(id: string): Promise<void> {
    const w = this.handling(id);
    // Done with a chat still open ends it for the customer too.
    if (w.media === "chat") await this.chat(id, async (c) => c.end(`agent:${this.agentId}`, "agent", await this.fullName()));
    const now = Date.now();
    this.work.delete(id);
    this.record({ id, action: "done", from: "handling", to: "done", queue: w.queue });
    const handleMs = now - (w.accepted_at ?? now);
    this.ctx.waitUntil(queueStub(this.env, this.tenant, w.queue).recordHandled(handleMs).catch((e: unknown) => console.error("recordHandled", e)));
    const cfg = await getConfig(this.env.DB, this.tenant);
    const acw = cfg.raw.settings.afterWorkSeconds;
    this.update((p) => {
      if (acw > 0 && p.loggedIn) {
        p.afterWork = true;
        p.afterWorkUntil = now + acw * 1000;
      }
      if (this.load() === 0) p.idleSince = now;
    });
    this.push({ type: "work_removed", interactionId: id, why: "done" });
    await this.afterChange();
  }

  /** Stop processing: the interaction ends here without a reply (spam, duplicate, no action needed). */
  stopWork(id: string, reason: string): Promise<Result<void>> {
    return guard(() => this.doStopWork(id, reason));
  }

  private async doStopWork(id: string, reason: string): Promise<void> {
    const w = this.handling(id);
    if (w.media === "chat") await this.chat(id, async (c) => c.end(`agent:${this.agentId}`, "agent", await this.fullName()));
    this.work.delete(id);
    this.record({ id, action: "stopped", from: "handling", to: "stopped", queue: w.queue, reason: { reason } });
    if (this.load() === 0) this.update((p) => (p.idleSince = Date.now()));
    this.push({ type: "work_removed", interactionId: id, why: "stopped" });
    await this.afterChange();
  }

  /** Hands the interaction to a queue or (through its queue) to one agent; the receiver stores it before this agent lets go. */
  transfer(id: string, to: TransferTo, action: "transferred" | "returned" | "rescheduled" = "transferred", patch: Partial<QueueItem> = {}): Promise<Result<SubmitResult>> {
    return guard(() => this.doTransfer(id, to, action, patch));
  }

  /** Pushes a notice to the agent's desktop (a customer's new message on work in hand, a returned draft). */
  notify(msg: { type: string; [k: string]: unknown }): void {
    this.push(msg);
  }

  private async doTransfer(id: string, to: TransferTo, action: "transferred" | "returned" | "rescheduled" = "transferred", patch: Partial<QueueItem> = {}): Promise<SubmitResult> {
    const w = this.handling(id);
    if ("agent" in to && to.agent === this.agentId) fail(badRequest("same_agent", "agent: cannot transfer to yourself"));
    this.work.patch(id, { state: "moving" });
    noteHandoff(this.sql, id, `queue:${"agent" in to ? w.queue : to.queue}`);
    const item = { ...(JSON.parse(w.data) as QueueItem), ...patch };
    let r: SubmitResult;
    try {
      if ("agent" in to) {
        r = unwrap(await queueStub(this.env, this.tenant, w.queue).submit(
          { ...item, pinnedAgent: to.agent, skipSteps: true, hops: 0 },
          { actor: `agent:${this.agentId}`, action, reason: { fromAgent: this.agentId, toAgent: to.agent } },
        ));
      } else {
        r = unwrap(await queueStub(this.env, this.tenant, to.queue).submit(
          { ...item, pinnedAgent: null, skipSteps: action !== "transferred", hops: 0 },
          { actor: `agent:${this.agentId}`, action, reason: { fromAgent: this.agentId, fromQueue: w.queue } },
        ));
      }
    } catch (err) {
      if (this.work.get(id)?.state === "moving") this.work.patch(id, { state: "handling" });
      clearHandoff(this.sql, id);
      throw err;
    }
    this.work.delete(id);
    clearHandoff(this.sql, id);
    // The customer stays in the chat and hears where it went; the next agent joins on accepting.
    if (w.media === "chat") await this.chat(id, async (c) => c.transferred(this.agentId, "agent" in to ? await this.fullName(to.agent) : `the ${to.queue} queue`));
    if (this.load() === 0) this.update((p) => (p.idleSince = Date.now()));
    this.push({ type: "work_removed", interactionId: id, why: action });
    await this.afterChange();
    return r;
  }

  returnToQueue(id: string): Promise<Result<SubmitResult>> {
    return guard(() => this.doReturnToQueue(id));
  }

  private async doReturnToQueue(id: string): Promise<SubmitResult> {
    const w = this.handling(id);
    return this.doTransfer(id, { queue: w.queue }, "returned");
  }

  // ---- workbins ----

  /** Parks work in hand in the agent's own workbin or a queue's shared one; it stops counting against capacity. */
  park(id: string, to: WorkbinRef): Promise<Result<void>> {
    return guard(() => this.doPark(id, to));
  }

  private async doPark(id: string, to: WorkbinRef): Promise<void> {
    const w = this.handling(id);
    const now = Date.now();
    const entry: WorkbinEntry = { interactionId: id, media: w.media, item: JSON.parse(w.data) as QueueItem, queue: w.queue, parkedAt: now, parkedBy: `agent:${this.agentId}` };
    if (to === "personal") {
      this.work.delete(id);
      this.sql.exec("INSERT INTO workbin (id, media, queue, data, parked_at, parked_by) VALUES (?, ?, ?, ?, ?, ?)", id, w.media, w.queue, w.data, now, entry.parkedBy);
      this.record({ id, action: "parked", from: "handling", to: "workbin", queue: w.queue, workbin: `agent:${this.agentId}` });
    } else {
      this.work.patch(id, { state: "moving" });
      noteHandoff(this.sql, id, `queue:${to.queue}`);
      try {
        await queueStub(this.env, this.tenant, to.queue).park({ ...entry, queue: to.queue });
      } catch (err) {
        if (this.work.get(id)?.state === "moving") this.work.patch(id, { state: "handling" });
        clearHandoff(this.sql, id);
        throw err;
      }
      this.work.delete(id);
      clearHandoff(this.sql, id);
    }
    if (this.load() === 0) this.update((p) => (p.idleSince = now));
    this.push({ type: "work_removed", interactionId: id, why: "parked" });
    await this.afterChange();
  }

  /** Takes an interaction from a workbin back into hand. It counts against capacity again, so there must be room. */
  takeFromWorkbin(id: string, from: WorkbinRef): Promise<Result<WorkView>> {
    return guard(() => this.doTakeFromWorkbin(id, from));
  }

  private async doTakeFromWorkbin(id: string, from: WorkbinRef): Promise<WorkView> {
    const cfg = await this.config();
    const now = Date.now();
    const room = (media: Media) => {
      const s = this.snapshotWith(cfg);
      const total = s.maxTotal === undefined || totalLoad(s) < s.maxTotal;
      return (s.load[media] ?? 0) < (s.capacity[media] ?? 0) && total;
    };
    if (from === "personal") {
      const e = this.sql.exec<{ id: string; media: Media; queue: string; data: string }>("SELECT * FROM workbin WHERE id = ?", id).toArray()[0];
      if (!e) return fail(notFound("not_in_workbin", `'${id}' is not in your workbin`));
      if (!room(e.media)) return fail(conflict("at_capacity", `no room for another ${e.media} interaction`));
      this.sql.exec("DELETE FROM workbin WHERE id = ?", id);
      this.work.put({ id, media: e.media, queue: e.queue, state: "handling", offered_at: now, accepted_at: now, entered_at: now, data: e.data });
      this.record({ id, action: "unparked", from: "workbin", to: "handling", queue: e.queue });
    } else {
      if (this.workRow(id)) return fail(conflict("already_in_hand", `'${id}' is already in hand`));
      // Reserve the slot first so a concurrent offer cannot take it, then take the interaction.
      const entry0 = await queueStub(this.env, this.tenant, from.queue).listWorkbin();
      const media = entry0.find((e) => e.interactionId === id)?.media;
      if (!media) return fail(notFound("not_in_workbin", `'${id}' is not in the workbin of '${from.queue}'`));
      if (!room(media)) return fail(conflict("at_capacity", `no room for another ${media} interaction`));
      this.work.put({ id, media, queue: from.queue, state: "reserving", offered_at: now, entered_at: now, data: "{}" });
      const q = queueStub(this.env, this.tenant, from.queue);
      let e: WorkbinEntry | null;
      try {
        e = (await q.beginUnpark(id, this.agentId)) as WorkbinEntry | null;
      } catch (err) {
        this.work.delete(id, "reserving");
        throw err;
      }
      if (!e) {
        this.work.delete(id, "reserving");
        return fail(notFound("not_in_workbin", `'${id}' is no longer in the workbin of '${from.queue}'`));
      }
      // Stored here first; then the queue forgets it (if that call fails, the queue asks us later).
      this.work.patch(id, { state: "handling", accepted_at: now, data: JSON.stringify(e.item) });
      this.record({ id, action: "unparked", from: "workbin", to: "handling", queue: from.queue });
      await q.endUnpark(id).catch((err: unknown) => console.error("endUnpark", err));
    }
    this.notePeak();
    this.bumpVersion();
    const v = view(this.workRow(id)!);
    this.push({ type: "work", work: v });
    return v;
  }

  /** A supervisor pulled an interaction into this agent's workbin. */
  receiveIntoWorkbin(e: WorkbinEntry): void {
    if (this.sql.exec("SELECT 1 FROM workbin WHERE id = ?", e.interactionId).toArray().length) return;
    this.sql.exec("INSERT INTO workbin (id, media, queue, data, parked_at, parked_by) VALUES (?, ?, ?, ?, ?, ?)", e.interactionId, e.media, e.queue, JSON.stringify(e.item), e.parkedAt, e.parkedBy);
    this.outbox.add({ tenant: this.tenant, id: e.interactionId, at: e.parkedAt, actor: e.parkedBy, action: "pulled", from: "queued", to: "workbin", queue: e.queue, workbin: `agent:${this.agentId}` });
    void this.outbox.flush();
    this.push({ type: "workbin", interactionId: e.interactionId });
  }

  /** Does this agent have the interaction, in hand or in its workbin? (Asked by a sender after a stalled handoff.) */
  /** Accepted and in hand right now (the object knows before D1 does). */
  handles(id: string): boolean {
    return this.work.get(id)?.state === "handling";
  }

  holds(id: string): boolean {
    const w = this.work.get(id);
    if (w && w.state !== "reserving") return true;
    return this.sql.exec("SELECT 1 FROM workbin WHERE id = ?", id).toArray().length > 0;
  }

  listWorkbin(): WorkbinEntry[] {
    return this.sql
      .exec<{ id: string; media: Media; queue: string; data: string; parked_at: number; parked_by: string }>("SELECT * FROM workbin ORDER BY parked_at")
      .toArray()
      .map((r) => ({ interactionId: r.id, media: r.media, queue: r.queue, item: JSON.parse(r.data) as QueueItem, parkedAt: r.parked_at, parkedBy: r.parked_by }));
  }

  /** A queue holds work assigned to this agent: look there too when freeing up. */
  async notePinned(queue: string): Promise<void> {
    this.sql.exec("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", `pin:${queue}`, String(Date.now()));
    await this.pull();
  }

  /** Highest load per media this agent ever held: evidence for capacity tests and audits. */
  peakLoad(): Partial<Record<Media, number>> {
    return { ...this.peaks };
  }

  // ---- the desktop's WebSockets ----

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return new Response("expected a WebSocket upgrade", { status: 426 });
    // Who holds the socket (kept with it through hibernation): checked on each frame and by the alarm.
    const held = heldFromHeaders(request);
    if (!held || held.agentId !== this.agentId) return Response.json({ error: { code: "invalid_token", message: "the socket's token was not passed on" } }, { status: 401 });
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    pair[1].serializeAttachment(held);
    // Back within the grace: the pending offers stay, and the hello below carries them.
    if (this.away !== null) this.setAway(null);
    pair[1].send(JSON.stringify({ type: "hello", status: await this.doStatus() }));
    await this.scheduleAlarm();
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (await this.dropIfRevoked(ws, Date.now())) return;
    let msg: { type?: string } = {};
    try {
      msg = JSON.parse(typeof message === "string" ? message : new TextDecoder().decode(message)) as { type?: string };
    } catch {
      ws.send(JSON.stringify({ type: "error", error: { code: "invalid_json", message: "messages are JSON" } }));
      return;
    }
    if (msg.type === "ping") ws.send(JSON.stringify({ type: "pong", at: Date.now() }));
    else if (msg.type === "status") ws.send(JSON.stringify({ type: "status", status: await this.doStatus() }));
    else ws.send(JSON.stringify({ type: "error", error: { code: "unknown_type", message: "send ping or status; act through the REST API" } }));
  }

  override async webSocketClose(ws: WebSocket): Promise<void> {
    // Answer the desktop's close, so its side completes the handshake instead of waiting it out.
    try {
      ws.close(1000, "closed");
    } catch {
      // already closed
    }
    if (this.openSockets(ws).length > 0) return;
    // The desktop is gone, or reconnecting: its pending offers go back to their queues if it is
    // still away after the grace (alarm()), instead of timing out; a reconnection keeps them.
    this.setAway(Date.now());
    await this.scheduleAlarm();
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.webSocketClose(ws);
  }

  /** Closes the socket if its token has lapsed or been revoked; says whether it did. */
  private async dropIfRevoked(ws: WebSocket, now: number): Promise<boolean> {
    const held = heldOf(ws.deserializeAttachment());
    const refused = held ? await checkHeld(this.env.DB, this.tenant, held, now) : { code: "invalid_token", message: "this socket has no token; log in again" };
    if (!refused) return false;
    try {
      ws.send(JSON.stringify({ type: "error", error: refused }));
      ws.close(CLOSE_REVOKED, refused.message);
    } catch {
      // already closing
    }
    return true;
  }

  /** The alarm's sweep of the open sockets; when it closed the last one, the desktop is gone. */
  private async dropRevoked(now: number): Promise<void> {
    const open = this.openSockets();
    if (open.length === 0) return;
    let dropped = 0;
    for (const ws of open) if (await this.dropIfRevoked(ws, now)) dropped++;
    if (dropped === open.length) await this.revokeOffers("disconnect");
  }

  private openSockets(except?: WebSocket): WebSocket[] {
    return this.ctx.getWebSockets().filter((s) => s !== except && s.readyState === WebSocket.OPEN);
  }

  /** Notes when the desktop went away (its last socket closed), or that it is back (null). */
  private setAway(at: number | null): void {
    if (at === null) this.sql.exec("DELETE FROM kv WHERE k = 'away'");
    else this.sql.exec("INSERT OR REPLACE INTO kv (k, v) VALUES ('away', ?)", String(at));
    this.away = at;
  }

  // ---- timers ----

  override async alarm(): Promise<void> {
    const now = Date.now();
    this.timer.fired();
    await this.dropRevoked(now);
    for (const w of this.work.inState("offered")) if (w.expires_at !== null && w.expires_at <= now) await this.returnOffer(w, "timeout");
    const away = this.away;
    if (away !== null && (away + DESK_RECONNECT_GRACE_MS <= now || this.openSockets().length > 0)) {
      this.setAway(null);
      // Still away after the grace: the pending offers go back to their queues.
      if (this.openSockets().length === 0) await this.revokeOffers("disconnect");
    }
    const p = this.presence();
    if (p.afterWork && p.afterWorkUntil !== null && p.afterWorkUntil <= now) {
      this.update((x) => {
        x.afterWork = false;
        x.afterWorkUntil = null;
      });
      await this.afterChange();
    }
    await this.outbox.flush();
    await this.scheduleAlarm();
  }

  // ---- internals ----

  private async config(): Promise<AgentConfig> {
    const cfg = await getConfig(this.env.DB, this.tenant);
    const a = cfg.agents.get(this.agentId);
    if (!a) return fail(notFound("unknown_agent", `no agent '${this.agentId}'`));
    return a;
  }

  private presence(): Readonly<Presence> {
    return this.p;
  }

  private update(fn: (p: Presence) => void): void {
    const p = structuredClone(this.p);
    fn(p);
    p.version++;
    this.sql.exec("INSERT INTO kv (k, v) VALUES ('presence', ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", JSON.stringify(p));
    this.p = p;
  }

  private bumpVersion(): void {
    this.update(() => {});
  }

  private load(media?: Media): number {
    return this.work.load(media);
  }

  private snapshotWith(a: AgentConfig): AgentSnapshot {
    const p = this.presence();
    const load = this.work.loadByMedia();
    return {
      agentId: this.agentId, version: p.version, loggedIn: p.loggedIn, afterWork: p.afterWork, ready: p.ready, reasons: p.reasons,
      load, capacity: a.capacity, maxTotal: a.maxTotal, idleSince: p.idleSince, skills: a.skills,
    };
  }

  /** Records a new high-water mark of load (per media, and '*' overall); writes only when one rises. */
  private notePeak(): void {
    const loads: Record<string, number> = { ...this.work.loadByMedia(), "*": this.work.load() };
    for (const [m, n] of Object.entries(loads)) {
      if (n <= (this.peaks[m] ?? 0)) continue;
      this.peaks[m] = n;
      this.sql.exec("INSERT INTO max_load (media, n) VALUES (?, ?) ON CONFLICT (media) DO UPDATE SET n = MAX(n, excluded.n)", m, n);
    }
  }

  private workRow(id: string): WorkRow | undefined {
    return this.work.get(id);
  }

  private handling(id: string): WorkRow {
    const w = this.workRow(id);
    if (!w || w.state === "reserving") return fail(notFound("not_in_hand", `'${id}' is not in this agent's hands`));
    if (w.state === "offered") return fail(conflict("not_accepted", `accept '${id}' first`));
    if (w.state === "moving") return fail(conflict("being_moved", `'${id}' is being moved right now`));
    return w;
  }

  private insertOffer(o: Offer): void {
    this.work.put({
      id: o.interactionId, media: o.media, queue: o.queue, state: "offered", offered_at: o.offeredAt, expires_at: o.expiresAt, entered_at: o.enteredAt,
      data: JSON.stringify(o.item), reason: JSON.stringify(o.reason ?? null),
    });
    this.bumpVersion();
  }

  private async returnOffer(w: WorkRow, why: ReturnWhy): Promise<void> {
    if (!this.work.delete(w.id, "offered")) return;
    this.push({ type: "offer_revoked", interactionId: w.id, reason: why });
    if (this.load() === 0) this.update((p) => (p.idleSince = Date.now()));
    else this.bumpVersion();
    try {
      await queueStub(this.env, this.tenant, w.queue).returned(w.id, this.agentId, why);
    } catch (err) {
      // The queue takes it back by itself once the reservation goes stale.
      console.error(`could not return ${w.id} to ${w.queue}`, err);
    }
    await this.afterChange();
  }

  private async revokeOffers(why: ReturnWhy): Promise<void> {
    for (const w of this.work.inState("offered")) await this.returnOffer(w, why);
  }

  private record(t: Omit<Transition, "tenant" | "at" | "actor" | "agent"> & { agent?: string | null }): void {
    const to = t.to;
    const keepsAgent = to === "handling" || to === "offered";
    this.outbox.add({ tenant: this.tenant, at: Date.now(), actor: `agent:${this.agentId}`, agent: keepsAgent ? this.agentId : null, ...t });
    void this.outbox.flush();
  }

  private push(msg: unknown): void {
    const s = JSON.stringify(msg);
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(s);
      } catch {
        // A socket closing under us; its close handler deals with it.
      }
    }
  }

  /** After any change: tell the desktop, then claim work if there is room, else let the queues know. */
  private async afterChange(): Promise<void> {
    const snap = await this.snapshot();
    this.push({ type: "state", snapshot: snap, presence: presenceOf(snap) });
    if (MEDIA.some((m) => canTake(snap, m))) await this.pull();
    else await this.broadcast(snap);
    await this.scheduleAlarm();
  }

  private async pullQueues(): Promise<string[]> {
    const cfg = await getConfig(this.env.DB, this.tenant);
    const a = cfg.agents.get(this.agentId);
    const own = a ? cfg.eligibleQueues(a) : [];
    const pins = this.pins().map((p) => p.queue);
    return [...new Set([...own, ...pins.filter((q) => cfg.queues.has(q))])];
  }

  /** Queues holding work assigned to this agent, and when each told it so. */
  private pins(): { queue: string; since: number }[] {
    return this.sql.exec<{ k: string; v: string }>("SELECT k, v FROM kv WHERE k LIKE 'pin:%'").toArray().map((r) => ({ queue: r.k.slice(4), since: Number(r.v) }));
  }

  private async broadcast(snap: AgentSnapshot): Promise<void> {
    const queues = await this.pullQueues();
    await Promise.all(queues.map((q) => queueStub(this.env, this.tenant, q).agentChanged(snap).catch((e: unknown) => console.error("agentChanged", e))));
  }

  /** Frees up: ask each queue for its best candidate, claim the best across them, repeat while there is room. */
  private async pull(): Promise<void> {
    if (this.pulling) {
      this.pullAgain = true;
      return;
    }
    this.pulling = true;
    try {
      do {
        this.pullAgain = false;
        await this.pullRounds();
      } while (this.pullAgain);
    } finally {
      this.pulling = false;
    }
    // Offers claimed here expire like any other.
    await this.scheduleAlarm();
  }

  private async pullRounds(): Promise<void> {
    const queues = await this.pullQueues();
    for (let round = 0; round < 100; round++) {
      const cfg = await this.config();
      const snap = this.snapshotWith(cfg);
      if (!MEDIA.some((m) => canTake(snap, m))) return;
      const roundStart = Date.now();
      const peeks = await Promise.all(
        queues.map((q) =>
          queueStub(this.env, this.tenant, q)
            .peek(snap)
            .then(
              (r) => ({ queue: q, best: r.best as Candidate | null, pinnedHere: r.pinnedHere }),
              (e: unknown) => (console.error("peek", e), { queue: q, best: null, pinnedHere: -1 }),
            ),
        ),
      );
      // A pin is forgotten only when its queue answered that it holds nothing assigned to this agent,
      // and the pin is older than the question (an assignment made meanwhile stays).
      for (const pin of this.pins()) {
        const p = peeks.find((x) => x.queue === pin.queue);
        if (p && p.pinnedHere === 0 && pin.since < roundStart) this.sql.exec("DELETE FROM kv WHERE k = ?", `pin:${pin.queue}`);
      }
      const found = peeks.map((p) => p.best).filter((c): c is Candidate => c !== null);
      if (found.length === 0) return;
      found.sort((a, b) => b.boost - a.boost || Number(b.pinned) - Number(a.pinned) || b.priority - a.priority || a.enteredAt - b.enteredAt);
      let claimed = false;
      for (const c of found) {
        const now = this.snapshotWith(cfg);
        if (!canTake(now, c.media) || this.workRow(c.itemId)) continue;
        // Hold the slot while the queue decides, so a concurrent offer cannot overfill.
        this.work.put({ id: c.itemId, media: c.media, queue: c.queue, state: "reserving", offered_at: Date.now(), entered_at: c.enteredAt, data: "{}" });
        let offer: Offer | null = null;
        try {
          offer = (await queueStub(this.env, this.tenant, c.queue).claim(c.itemId, now)) as Offer | null;
        } catch (err) {
          console.error("claim", err);
        }
        if (!offer) {
          this.work.delete(c.itemId, "reserving");
          continue;
        }
        if (!this.presence().loggedIn) {
          // Logged out while the queue decided: the offer goes straight back.
          this.work.delete(c.itemId, "reserving");
          await queueStub(this.env, this.tenant, c.queue).returned(c.itemId, this.agentId, "logout").catch((e: unknown) => console.error("returned", e));
          return;
        }
        this.insertOffer(offer);
        this.notePeak();
        this.push({ type: "offer", offer: view(this.workRow(offer.interactionId)!) });
        claimed = true;
        break;
      }
      if (!claimed) return;
    }
  }

  private async scheduleAlarm(): Promise<void> {
    const times: number[] = [];
    const o = this.work.nextExpiry();
    if (o !== null) times.push(o);
    const p = this.presence();
    if (p.afterWork && p.afterWorkUntil !== null) times.push(p.afterWorkUntil);
    if (this.away !== null) times.push(this.away + DESK_RECONNECT_GRACE_MS);
    if (this.outbox.pending > 0) times.push(Date.now() + 5_000);
    // Open sockets: checked at their expiry and every REVOCATION_CHECK_MS (a hibernating socket
    // sends no frame to check it on).
    for (const ws of this.openSockets()) {
      const held = heldOf(ws.deserializeAttachment());
      times.push(Math.min(held?.expiresAt ?? 0, Date.now() + REVOCATION_CHECK_MS));
    }
    if (times.length) await this.timer.arm(Math.min(...times));
  }

}

function view(w: WorkRow): WorkView {
  return {
    interactionId: w.id, media: w.media, queue: w.queue, state: w.state, offeredAt: w.offered_at, expiresAt: w.expires_at, acceptedAt: w.accepted_at,
    item: JSON.parse(w.data) as QueueItem, reason: w.reason ? (JSON.parse(w.reason) as unknown) : null,
  };
}
