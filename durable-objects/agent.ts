// Agent: one per (tenant, agent). The single authority on the agent's presence, capacity and work:
// it accepts an offer only when state and capacity allow (one object, so atomic), pushes offers to
// the desktop's WebSockets, times offers out, and when it frees up claims the best work across its queues.
// The rules are pure (routing/presence.ts, routing/agent-state.ts, routing/agent-timers.ts); this is wiring.
import { getConfig } from "../workers/config/store.ts";
import type { Media } from "../workers/config/schema.ts";
import { AppError, badRequest, conflict, fail, notFound } from "../workers/kernel/errors.ts";
import { refuseUpgrade } from "../workers/kernel/refuse-upgrade.ts";
import { canTake, hasRoom, presenceOf, type AgentSnapshot } from "../workers/routing/agent-state.ts";
import * as presence from "../workers/routing/presence.ts";
import { awayLapsed } from "../workers/routing/agent-timers.ts";
import { heldFromHeaders } from "../workers/auth/revocation.ts";
import { parseDeskFrame, type AgentStatus, type DeskFrame, type DeskNotice, type WorkView } from "../workers/protocol/desk.ts";
import { queueStub } from "./names.ts";
import { view, type WorkRow } from "./agent-work.ts";
import { clearHandoff, noteHandoff } from "./handoff.ts";
import { guard, unwrap, type Result } from "./result.ts";
import { AgentCore } from "./agent-core.ts";
import type { Offer, QueueItem, SubmitResult, WorkbinEntry } from "./types.ts";

export type { AgentStatus, WorkView } from "../workers/protocol/desk.ts";
export { DESK_RECONNECT_GRACE_MS } from "../workers/routing/agent-timers.ts";
export type TransferTo = { queue: string } | { agent: string };
export type WorkbinRef = "personal" | { queue: string };


export class Agent extends AgentCore {
  /** Does nothing: the benchmark's baseline of one empty object RPC. */
  ping(): number {
    return 1;
  }

  // ---- presence ----

  status(): Promise<Result<AgentStatus>> {
    return guard(() => this.statusNow());
  }

  /** Everything after the one await is read in one synchronous step: the state at a single instant,
   *  ordered with the pushes before and after it on the desktop's socket. */
  private async statusNow(): Promise<AgentStatus> {
    const snapshot = this.snapshotWith(await this.config());
    const rows = this.work.all().map(view);
    return {
      agentId: this.agentId, presence: presenceOf(snapshot), snapshot, afterWorkUntil: this.p.afterWorkUntil,
      offers: rows.filter((w) => w.state === "offered"), work: rows.filter((w) => w.state === "handling" || w.state === "moving"),
      workbin: this.workbin.count(), sockets: this.ctx.getWebSockets().length,
    };
  }

  async snapshot(): Promise<AgentSnapshot> {
    return this.snapshotWith(await this.config());
  }

  login(opts: { ready?: boolean } = {}): Promise<Result<AgentStatus>> {
    return this.presenceStep(async () => presence.logIn((await this.config()).capacity, opts.ready, Date.now()));
  }

  logout(): Promise<Result<AgentStatus>> {
    return this.presenceStep(async () => {
      this.update(presence.logOut);
      await this.revokeOffers("logout");
      return null;
    });
  }

  /** Ready or not ready on some media (all the agent has capacity for when `media` is omitted). */
  setReady(ready: boolean, opts: { media?: Media[]; reason?: string } = {}): Promise<Result<AgentStatus>> {
    return this.presenceStep(async () => {
      const cfg = await this.config();
      const reasons = (await getConfig((await this.te()).DB, this.tenant)).raw.settings.notReadyReasons;
      return presence.setReady(this.p, cfg.capacity, reasons, ready, opts, this.work.load() === 0, Date.now());
    });
  }

  /** After-call work: no new offers until it ends (by the agent, or after the tenant's afterWorkSeconds). */
  setAfterWork(on: boolean): Promise<Result<AgentStatus>> {
    return this.presenceStep(async () => presence.setAfterWork(this.p, on, this.work.load() === 0, Date.now()));
  }

  /** One presence change: decide it (which may refuse), store it, tell the desktop and the queues. */
  private presenceStep(decide: () => Promise<presence.PresenceStep | null>): Promise<Result<AgentStatus>> {
    return guard(async () => {
      const state = () => JSON.stringify({ loggedIn: this.p.loggedIn, afterWork: this.p.afterWork, ready: this.p.ready, reasons: this.p.reasons });
      const before = state();
      const step = await decide();
      if (step) this.update(step);
      // A change the agent made is in the event log, by way of the outbox (durable first, like every transition).
      if (state() !== before) {
        const now = Date.now();
        this.outbox.add({ log: { tenant: this.tenant, type: "parley.agent.state_changed", subject: `agent:${this.agentId}`, at: now, actor: `agent:${this.agentId}`, data: JSON.parse(state()) as unknown } });
        void this.outbox.flush();
      }
      await this.afterChange();
      return this.statusNow();
    });
  }

  // ---- offers ----

  /** A queue proposes an offer. Accepted only if state and capacity allow right now. */
  async reserve(offer: Offer): Promise<{ ok: boolean; snapshot: AgentSnapshot }> {
    const cfg = await this.config();
    // Synchronous from here: the check and the write are one atomic step.
    const before = this.snapshotWith(cfg);
    if (this.work.get(offer.interactionId) || !canTake(before, offer.media)) return { ok: false, snapshot: before };
    this.offerIn(offer);
    await this.scheduleAlarm();
    return { ok: true, snapshot: this.snapshotWith(cfg) };
  }

  accept(id: string): Promise<Result<WorkView>> {
    return guard(async () => {
      const w = this.work.get(id);
      if (!w || w.state !== "offered") return fail(notFound("no_offer", `no offer of '${id}' for this agent`));
      if (w.expires_at !== null && w.expires_at < Date.now()) {
        await this.returnOffer(w, "timeout");
        return fail(conflict("offer_expired", `the offer of '${id}' expired`));
      }
      const expiresAt = w.expires_at;
      this.work.patch(id, { state: "handling", accepted_at: Date.now(), expires_at: null });
      let r: { ok: boolean; waitedMs?: number };
      try {
        r = await queueStub(await this.te(), this.tenant, w.queue).accepted(id, this.agentId);
      } catch (err) {
        this.work.patch(id, { state: "offered", accepted_at: null, expires_at: expiresAt });
        throw err;
      }
      if (!r.ok) {
        this.work.delete(id);
        this.desk.push({ type: "offer_revoked", interactionId: id, reason: "withdrawn" });
        await this.afterChange();
        return fail(conflict("offer_withdrawn", `the offer of '${id}' was withdrawn`));
      }
      this.record({ id, action: "accepted", from: "offered", to: "handling", queue: w.queue, reason: { waitedMs: r.waitedMs, offer: w.reason ? JSON.parse(w.reason) : undefined } });
      // Step 7 of the chat flow: accepting a chat joins it. A failure leaves the acceptance standing;
      // the desktop joins again with POST /api/v1/chats/{id}/join.
      if (w.media === "chat") await this.chat(id, async (c) => c.join({ id: `agent:${this.agentId}`, mode: "primary", name: await this.fullName() }));
      const v = view(this.work.get(id)!);
      this.desk.push({ type: "work", work: v });
      this.bumpVersion();
      return v;
    });
  }

  /** The customer gave up on an offered interaction: the offer goes without going back to the queue
   *  (which drops the item). False when it is no longer an offer (accepted meanwhile). */
  async withdraw(id: string): Promise<boolean> {
    const w = this.work.get(id);
    if (!w || w.state !== "offered" || !this.work.delete(id, "offered")) return false;
    this.desk.push({ type: "offer_revoked", interactionId: id, reason: "abandoned" });
    this.freed();
    await this.afterChange();
    return true;
  }

  /** Erasure: this agent keeps nothing of these interactions, in its work, its workbin or its outbox. */
  async forget(ids: string[]): Promise<number> {
    const pending = await this.outbox.forget(new Set(ids));
    const j = JSON.stringify(ids);
    const rows = this.sql.exec("DELETE FROM work WHERE id IN (SELECT value FROM json_each(?))", j).rowsWritten + this.sql.exec("DELETE FROM workbin WHERE id IN (SELECT value FROM json_each(?))", j).rowsWritten;
    if (rows) this.bumpVersion();
    return pending + rows;
  }

  reject(id: string): Promise<Result<void>> {
    return guard(async () => {
      const w = this.work.get(id);
      if (!w || w.state !== "offered") return fail(notFound("no_offer", `no offer of '${id}' for this agent`));
      await this.returnOffer(w, "rejected");
    });
  }

  // ---- work in hand ----

  done(id: string): Promise<Result<void>> {
    return guard(async () => {
      const w = this.handling(id);
      // Done with a chat still open ends it for the customer too.
      if (w.media === "chat") await this.chat(id, async (c) => c.end(`agent:${this.agentId}`, "agent", await this.fullName()));
      const now = Date.now();
      this.work.delete(id);
      this.record({ id, action: "done", from: "handling", to: "done", queue: w.queue });
      this.ctx.waitUntil(queueStub(await this.te(), this.tenant, w.queue).recordHandled(now - (w.accepted_at ?? now)).catch((e: unknown) => console.error("recordHandled", e)));
      const cfg = await getConfig((await this.te()).DB, this.tenant);
      this.update(presence.finished(cfg.raw.settings.afterWorkSeconds, this.work.load() === 0, now));
      await this.removed(id, "done", false);
    });
  }

  /** Stop processing: the interaction ends here without a reply (spam, duplicate, no action needed). */
  stopWork(id: string, reason: string): Promise<Result<void>> {
    return guard(async () => {
      const w = this.handling(id);
      if (w.media === "chat") await this.chat(id, async (c) => c.end(`agent:${this.agentId}`, "agent", await this.fullName()));
      this.work.delete(id);
      this.record({ id, action: "stopped", from: "handling", to: "stopped", queue: w.queue, reason: { reason } });
      await this.removed(id, "stopped");
    });
  }

  /** Hands the interaction to a queue or (through its queue) to one agent; the receiver stores it before this agent lets go. */
  transfer(id: string, to: TransferTo, action: "transferred" | "returned" | "rescheduled" = "transferred", patch: Partial<QueueItem> = {}): Promise<Result<SubmitResult>> {
    return guard(() => this.handOn(id, to, action, patch));
  }

  returnToQueue(id: string): Promise<Result<SubmitResult>> {
    return guard(() => this.handOn(id, { queue: this.handling(id).queue }, "returned", {}));
  }

  /** Pushes a notice to the agent's desktop (a customer's new message on work in hand, a returned draft). */
  notify(msg: DeskNotice): void {
    this.desk.push(msg);
  }

  private async handOn(id: string, to: TransferTo, action: "transferred" | "returned" | "rescheduled", patch: Partial<QueueItem>): Promise<SubmitResult> {
    const w = this.handling(id);
    if ("agent" in to && to.agent === this.agentId) fail(badRequest("same_agent", "agent: cannot transfer to yourself"));
    const item = { ...(JSON.parse(w.data) as QueueItem), ...patch };
    const actor = `agent:${this.agentId}`;
    const te = await this.te();
    const r = await this.moving<SubmitResult>(w, "agent" in to ? w.queue : to.queue, () =>
      "agent" in to
        ? queueStub(te, this.tenant, w.queue).submit({ ...item, pinnedAgent: to.agent, skipSteps: true, hops: 0 }, { actor, action, reason: { fromAgent: this.agentId, toAgent: to.agent } }).then((x) => unwrap(x))
        : queueStub(te, this.tenant, to.queue).submit({ ...item, pinnedAgent: null, skipSteps: action !== "transferred", hops: 0 }, { actor, action, reason: { fromAgent: this.agentId, fromQueue: w.queue } }).then((x) => unwrap(x)),
    );
    // The customer stays in the chat and hears where it went; the next agent joins on accepting.
    if (w.media === "chat") await this.chat(id, async (c) => c.transferred(this.agentId, "agent" in to ? await this.fullName(to.agent) : `the ${to.queue} queue`));
    await this.removed(id, action);
    return r;
  }

  /** A handoff from this agent to a queue: noted first, forgotten only once the receiver has it. */
  private async moving<T>(w: WorkRow, queue: string, send: () => Promise<T>): Promise<T> {
    this.work.patch(w.id, { state: "moving" });
    noteHandoff(this.sql, w.id, `queue:${queue}`);
    try {
      const r = await send();
      this.work.delete(w.id);
      return r;
    } catch (err) {
      if (this.work.get(w.id)?.state === "moving") this.work.patch(w.id, { state: "handling" });
      throw err;
    } finally {
      clearHandoff(this.sql, w.id);
    }
  }

  // ---- workbins ----

  /** Parks work in hand in the agent's own workbin or a queue's shared one; it stops counting against capacity. */
  park(id: string, to: WorkbinRef): Promise<Result<void>> {
    return guard(async () => {
      const w = this.handling(id);
      const entry: WorkbinEntry = { interactionId: id, media: w.media, item: JSON.parse(w.data) as QueueItem, queue: w.queue, parkedAt: Date.now(), parkedBy: `agent:${this.agentId}` };
      if (to === "personal") {
        this.work.delete(id);
        this.workbin.put(entry, w.data);
        this.record({ id, action: "parked", from: "handling", to: "workbin", queue: w.queue, workbin: `agent:${this.agentId}` });
      } else {
        const te = await this.te();
        await this.moving(w, to.queue, () => queueStub(te, this.tenant, to.queue).park({ ...entry, queue: to.queue }));
      }
      await this.removed(id, "parked");
    });
  }

  /** Takes an interaction from a workbin back into hand. It counts against capacity again, so there must be room. */
  takeFromWorkbin(id: string, from: WorkbinRef): Promise<Result<WorkView>> {
    return guard(async () => {
      const cfg = await this.config();
      const now = Date.now();
      const room = (media: Media) => hasRoom(this.snapshotWith(cfg), media) || fail(conflict("at_capacity", `no room for another ${media} interaction`));
      if (from === "personal") {
        const e = this.workbin.raw(id) ?? fail(notFound("not_in_workbin", `'${id}' is not in your workbin`));
        room(e.media);
        this.workbin.delete(id);
        this.work.put({ id, media: e.media, queue: e.queue, state: "handling", offered_at: now, accepted_at: now, entered_at: now, data: e.data });
        this.record({ id, action: "unparked", from: "workbin", to: "handling", queue: e.queue });
      } else await this.unparkFromQueue(id, from.queue, room, now);
      this.notePeak();
      this.bumpVersion();
      const v = view(this.work.get(id)!);
      this.desk.push({ type: "work", work: v });
      return v;
    });
  }

  /** Reserves the slot first so a concurrent offer cannot take it, then takes the interaction. */
  private async unparkFromQueue(id: string, queue: string, room: (m: Media) => unknown, now: number): Promise<void> {
    if (this.work.get(id)) fail(conflict("already_in_hand", `'${id}' is already in hand`));
    const q = queueStub(await this.te(), this.tenant, queue);
    const media = (await q.listWorkbin()).find((e) => e.interactionId === id)?.media ?? fail(notFound("not_in_workbin", `'${id}' is not in the workbin of '${queue}'`));
    room(media);
    this.work.put({ id, media, queue, state: "reserving", offered_at: now, entered_at: now, data: "{}" });
    let e: WorkbinEntry | null;
    try {
      e = (await q.beginUnpark(id, this.agentId)) as WorkbinEntry | null;
    } catch (err) {
      this.work.delete(id, "reserving");
      throw err;
    }
    if (!e) {
      this.work.delete(id, "reserving");
      fail(notFound("not_in_workbin", `'${id}' is no longer in the workbin of '${queue}'`));
      return;
    }
    // Stored here first; then the queue forgets it (if that call fails, the queue asks us later).
    this.work.patch(id, { state: "handling", accepted_at: now, data: JSON.stringify(e.item) });
    this.record({ id, action: "unparked", from: "workbin", to: "handling", queue });
    await q.endUnpark(id).catch((err: unknown) => console.error("endUnpark", err));
  }

  /** A supervisor pulled an interaction into this agent's workbin. */
  receiveIntoWorkbin(e: WorkbinEntry): void {
    if (this.workbin.has(e.interactionId)) return;
    this.workbin.put(e);
    this.outbox.add({ tenant: this.tenant, id: e.interactionId, at: e.parkedAt, actor: e.parkedBy, action: "pulled", from: "queued", to: "workbin", queue: e.queue, workbin: `agent:${this.agentId}` });
    void this.outbox.flush();
    this.desk.push({ type: "workbin", interactionId: e.interactionId });
  }

  /** Accepted and in hand right now (the object knows before D1 does). */
  handles(id: string): boolean {
    return this.work.get(id)?.state === "handling";
  }

  /** Does this agent have the interaction, in hand or in its workbin? (Asked by a sender after a stalled handoff.) */
  holds(id: string): boolean {
    const w = this.work.get(id);
    return (w !== undefined && w.state !== "reserving") || this.workbin.has(id);
  }

  listWorkbin(): WorkbinEntry[] {
    return this.workbin.list();
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
    // Who holds the socket (kept with it through hibernation): checked on each frame and by the alarm.
    const held = heldFromHeaders(request);
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return Response.json({ error: { code: "upgrade_required", message: "expected a WebSocket upgrade" } }, { status: 426 });
    if (!held || held.agentId !== this.agentId) return refuseUpgrade(new AppError(401, "invalid_token", "the socket's token was not passed on"));
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    pair[1].serializeAttachment(held);
    // Back within the grace: the pending offers stay, and the hello below carries them.
    if (this.desk.away !== null) this.desk.setAway(null);
    pair[1].send(JSON.stringify({ type: "hello", status: await this.statusNow() } satisfies DeskFrame));
    await this.scheduleAlarm();
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (await this.desk.dropIfRevoked(ws, Date.now())) return;
    const msg = parseDeskFrame(message);
    const answer: DeskFrame =
      "error" in msg ? { type: "error", error: msg.error } : msg.type === "ping" ? { type: "pong", at: Date.now() } : { type: "status", status: await this.statusNow() };
    ws.send(JSON.stringify(answer));
  }

  override async webSocketClose(ws: WebSocket): Promise<void> {
    // Answer the desktop's close, so its side completes the handshake instead of waiting it out.
    try {
      ws.close(1000, "closed");
    } catch {
      // already closed
    }
    if (this.desk.open(ws).length > 0) return;
    // The desktop is gone, or reconnecting: its pending offers go back to their queues if it is
    // still away after the grace (alarm()), instead of timing out; a reconnection keeps them.
    this.desk.setAway(Date.now());
    await this.scheduleAlarm();
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.webSocketClose(ws);
  }

  // ---- timers ----

  override async alarm(): Promise<void> {
    const now = Date.now();
    this.timer.fired();
    if (await this.desk.dropRevoked(now)) await this.revokeOffers("disconnect");
    for (const w of this.work.inState("offered")) if (w.expires_at !== null && w.expires_at <= now) await this.returnOffer(w, "timeout");
    if (awayLapsed(this.desk.away, this.desk.open().length, now)) {
      this.desk.setAway(null);
      // Still away after the grace: the pending offers go back to their queues.
      if (this.desk.open().length === 0) await this.revokeOffers("disconnect");
    }
    const lapsed = presence.afterWorkLapsed(this.p, now);
    if (lapsed) {
      this.update(lapsed);
      await this.afterChange();
    }
    await this.outbox.flush();
    await this.scheduleAlarm();
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
