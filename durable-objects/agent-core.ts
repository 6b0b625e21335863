// The Agent object's state and internals: its stores, presence updates, offers coming in and going
// back, the outbox, pulling work when it frees up, and its alarm. agent.ts adds the RPC surface and
// the desktop's socket handlers on top; the rules themselves are pure (workers/routing/).
import { objectEnv } from "../workers/tenancy/tenant-env.ts";
import { DurableObject } from "cloudflare:workers";
import { getConfig } from "../workers/config/store.ts";
import type { AgentConfig } from "../workers/config/schema.ts";
import { MEDIA } from "../workers/config/schema.ts";
import { conflict, fail, notFound } from "../workers/kernel/errors.ts";
import { canTake, presenceOf, type AgentSnapshot } from "../workers/routing/agent-state.ts";
import * as presence from "../workers/routing/presence.ts";
import { nextAgentAlarm, pullOrder, stalePins } from "../workers/routing/agent-timers.ts";
import { REVOCATION_CHECK_MS } from "../workers/auth/revocation.ts";
import type { RemovedWhy } from "../workers/protocol/desk.ts";
import type { Transition } from "../workers/ucs/interactions.ts";
import { chatStub, queueStub, splitName } from "./names.ts";
import { view, WorkStore, type WorkRow } from "./agent-work.ts";
import { AgentWorkbin, WORKBIN_DDL } from "./agent-workbin.ts";
import { DeskSockets } from "./agent-desk.ts";
import { clearHandoff, receiverHolds } from "./handoff.ts";
import { Alarm } from "./alarm.ts";
import { Outbox, OUTBOX_DDL } from "./outbox.ts";
import type { Result } from "./result.ts";
import { hasSchema } from "./schema.ts";
import type { Candidate, Offer, ReturnWhy } from "./types.ts";
import { benchEnv } from "../workers/kernel/d1-count.ts";

/** Bumped when the tables below change, so a warm object skips the DDL. */
const SCHEMA = "2";

export abstract class AgentCore extends DurableObject<Env> {
  /** This object's tenant's env: its shard, bucket and objects in its jurisdiction. */
  protected te = () => objectEnv(this.env, this.tenant);
  protected readonly sql: SqlStorage;
  protected readonly tenant: string;
  protected readonly agentId: string;
  protected readonly outbox: Outbox;
  protected readonly work: WorkStore;
  protected readonly workbin: AgentWorkbin;
  protected readonly desk: DeskSockets;
  protected p: presence.Presence;
  protected readonly peaks: Record<string, number> = {};
  protected readonly timer: Alarm;
  protected pulling = false;
  protected pullAgain = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, benchEnv(env, "agent"));
    [this.tenant, this.agentId] = splitName(ctx.id.name);
    this.sql = ctx.storage.sql;
    if (!hasSchema(this.sql, SCHEMA)) this.sql.exec(`
      CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS work (id TEXT PRIMARY KEY, media TEXT NOT NULL, queue TEXT NOT NULL, state TEXT NOT NULL,
        offered_at INTEGER NOT NULL, expires_at INTEGER, accepted_at INTEGER, entered_at INTEGER NOT NULL, data TEXT NOT NULL, reason TEXT);
      ${WORKBIN_DDL}
      CREATE TABLE IF NOT EXISTS max_load (media TEXT PRIMARY KEY, n INTEGER NOT NULL);
      ${OUTBOX_DDL}
      INSERT OR REPLACE INTO kv (k, v) VALUES ('schema', '${SCHEMA}');
    `);
    this.timer = new Alarm(ctx.storage);
    this.outbox = new Outbox(this.sql, () => objectEnv(benchEnv(env, "agent-outbox"), this.tenant).then((e) => e.DB), (at) => void this.timer.arm(at));
    this.work = new WorkStore(this.sql);
    this.workbin = new AgentWorkbin(this.sql);
    this.desk = new DeskSockets(ctx, () => this.te().then((e) => e.DB), this.tenant);
    const row = this.sql.exec<{ v: string }>("SELECT v FROM kv WHERE k = 'presence'").toArray()[0];
    this.p = row ? (JSON.parse(row.v) as presence.Presence) : presence.newPresence(Date.now());
    for (const r of this.sql.exec<{ media: string; n: number }>("SELECT media, n FROM max_load")) this.peaks[r.media] = r.n;
    if (this.work.inState("moving").length) ctx.waitUntil(this.resolveHandoffs());
  }

  /** Work that was being handed on when the object stopped: gone if the receiver has it, else back in hand. */
  protected async resolveHandoffs(): Promise<void> {
    for (const w of this.work.inState("moving")) {
      const held = await receiverHolds(this.sql, await this.te(), this.tenant, w.id, `agent:${this.agentId}`).catch(() => false);
      if (held) this.work.delete(w.id);
      else this.work.patch(w.id, { state: "handling" });
      clearHandoff(this.sql, w.id);
    }
  }

  /** Runs a step on the interaction's chat; the chat's own failure is logged, not the agent's. */
  protected async chat(id: string, step: (c: ReturnType<typeof chatStub>) => Promise<Result<unknown>>): Promise<void> {
    try {
      const r = await step(chatStub(await this.te(), this.tenant, id));
      // The customer left before the agent came in: the desktop hears so, and the agent marks it done.
      if (!r.ok && r.error.code === "chat_ended") this.desk.push({ type: "chat_ended", interactionId: id, reason: "customer" });
      else if (!r.ok) console.warn(`chat ${id}: ${r.error.message}`);
    } catch (err) {
      console.error(`chat ${id}`, err);
    }
  }

  protected async fullName(agentId = this.agentId): Promise<string> {
    return (await getConfig((await this.te()).DB, this.tenant)).agents.get(agentId)?.fullName ?? agentId;
  }

  protected async scheduleAlarm(): Promise<void> {
    const at = nextAgentAlarm({
      now: Date.now(), offerExpiry: this.work.nextExpiry(), afterWorkUntil: this.p.afterWork ? this.p.afterWorkUntil : null, awaySince: this.desk.away,
      outboxRetryAt: this.outbox.retryAt(Date.now()), socketExpiries: this.desk.expiries(), revocationCheckMs: REVOCATION_CHECK_MS,
    });
    if (at !== null) await this.timer.arm(at);
  }

  // ---- internals ----

  protected async config(): Promise<AgentConfig> {
    const cfg = await getConfig((await this.te()).DB, this.tenant);
    return cfg.agents.get(this.agentId) ?? fail(notFound("unknown_agent", `no agent '${this.agentId}'`));
  }

  protected update(step: presence.PresenceStep): void {
    const p = structuredClone(this.p);
    step(p);
    p.version++;
    this.sql.exec("INSERT INTO kv (k, v) VALUES ('presence', ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", JSON.stringify(p));
    this.p = p;
  }

  protected bumpVersion(): void {
    this.update(() => {});
  }

  /** Work left the agent: idle from now if nothing is left, else a new version for the queues. */
  protected freed(): void {
    if (this.work.load() === 0) this.update(presence.idleFrom(Date.now()));
    else this.bumpVersion();
  }

  /** Work in hand is gone: the desktop hears why, and the agent may take more. */
  protected async removed(id: string, why: RemovedWhy, idle = true): Promise<void> {
    if (idle && this.work.load() === 0) this.update(presence.idleFrom(Date.now()));
    this.desk.push({ type: "work_removed", interactionId: id, why });
    await this.afterChange();
  }

  protected snapshotWith(a: AgentConfig): AgentSnapshot {
    const p = this.p;
    return {
      agentId: this.agentId, version: p.version, loggedIn: p.loggedIn, afterWork: p.afterWork, ready: p.ready, reasons: p.reasons,
      load: this.work.loadByMedia(), capacity: a.capacity, maxTotal: a.maxTotal, idleSince: p.idleSince, skills: a.skills,
    };
  }

  /** Records a new high-water mark of load (per media, and '*' overall); writes only when one rises. */
  protected notePeak(): void {
    const loads: Record<string, number> = { ...this.work.loadByMedia(), "*": this.work.load() };
    for (const [m, n] of Object.entries(loads)) {
      if (n <= (this.peaks[m] ?? 0)) continue;
      this.peaks[m] = n;
      this.sql.exec("INSERT INTO max_load (media, n) VALUES (?, ?) ON CONFLICT (media) DO UPDATE SET n = MAX(n, excluded.n)", m, n);
    }
  }

  protected handling(id: string): WorkRow {
    const w = this.work.get(id);
    if (!w || w.state === "reserving") return fail(notFound("not_in_hand", `'${id}' is not in this agent's hands`));
    if (w.state === "offered") return fail(conflict("not_accepted", `accept '${id}' first`));
    if (w.state === "moving") return fail(conflict("being_moved", `'${id}' is being moved right now`));
    return w;
  }

  /** An offer becomes this agent's: stored, counted, pushed. */
  protected offerIn(o: Offer): void {
    this.work.put({
      id: o.interactionId, media: o.media, queue: o.queue, state: "offered", offered_at: o.offeredAt, expires_at: o.expiresAt, entered_at: o.enteredAt,
      data: JSON.stringify(o.item), reason: JSON.stringify(o.reason ?? null),
    });
    this.bumpVersion();
    this.notePeak();
    this.desk.push({ type: "offer", offer: view(this.work.get(o.interactionId)!) });
  }

  protected async returnOffer(w: WorkRow, why: ReturnWhy): Promise<void> {
    if (!this.work.delete(w.id, "offered")) return;
    this.desk.push({ type: "offer_revoked", interactionId: w.id, reason: why });
    this.freed();
    try {
      await queueStub(await this.te(), this.tenant, w.queue).returned(w.id, this.agentId, why);
    } catch (err) {
      // The queue takes it back by itself once the reservation goes stale.
      console.error(`could not return ${w.id} to ${w.queue}`, err);
    }
    await this.afterChange();
  }

  protected async revokeOffers(why: ReturnWhy): Promise<void> {
    for (const w of this.work.inState("offered")) await this.returnOffer(w, why);
  }

  protected record(t: Omit<Transition, "tenant" | "at" | "actor" | "agent"> & { agent?: string | null }): void {
    const keepsAgent = t.to === "handling" || t.to === "offered";
    this.outbox.add({ tenant: this.tenant, at: Date.now(), actor: `agent:${this.agentId}`, agent: keepsAgent ? this.agentId : null, ...t });
    void this.outbox.flush();
  }

  /** After any change: tell the desktop, then claim work if there is room, else let the queues know. */
  protected async afterChange(): Promise<void> {
    const snap = this.snapshotWith(await this.config());
    this.desk.push({ type: "state", snapshot: snap, presence: presenceOf(snap) });
    if (MEDIA.some((m) => canTake(snap, m))) await this.pull();
    else await this.tellQueues(snap);
    await this.scheduleAlarm();
  }

  protected async pullQueues(): Promise<string[]> {
    const cfg = await getConfig((await this.te()).DB, this.tenant);
    const a = cfg.agents.get(this.agentId);
    const own = a ? cfg.eligibleQueues(a) : [];
    return [...new Set([...own, ...this.pins().map((p) => p.queue).filter((q) => cfg.queues.has(q))])];
  }

  /** Queues holding work assigned to this agent, and when each told it so. */
  protected pins(): { queue: string; since: number }[] {
    return this.sql.exec<{ k: string; v: string }>("SELECT k, v FROM kv WHERE k LIKE 'pin:%'").toArray().map((r) => ({ queue: r.k.slice(4), since: Number(r.v) }));
  }

  protected async tellQueues(snap: AgentSnapshot): Promise<void> {
    const queues = await this.pullQueues();
    const te = await this.te();
    await Promise.all(queues.map((q) => queueStub(te, this.tenant, q).agentChanged(snap).catch((e: unknown) => console.error("agentChanged", e))));
  }

  /** Frees up: ask each queue for its best candidate, claim the best across them, repeat while there is room. */
  protected async pull(): Promise<void> {
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

  protected async pullRounds(): Promise<void> {
    const queues = await this.pullQueues();
    for (let round = 0; round < 100; round++) {
      const cfg = await this.config();
      const snap = this.snapshotWith(cfg);
      if (!MEDIA.some((m) => canTake(snap, m))) return;
      const te = await this.te();
      const roundStart = Date.now();
      const peeks = await Promise.all(
        queues.map((q) =>
          queueStub(te, this.tenant, q)
            .peek(snap)
            .then(
              (r) => ({ queue: q, best: r.best as Candidate | null, pinnedHere: r.pinnedHere }),
              (e: unknown) => (console.error("peek", e), { queue: q, best: null, pinnedHere: -1 }),
            ),
        ),
      );
      for (const q of stalePins(this.pins(), peeks, roundStart)) this.sql.exec("DELETE FROM kv WHERE k = ?", `pin:${q}`);
      const found = pullOrder(peeks.map((p) => p.best).filter((c): c is Candidate => c !== null));
      const claimed = await this.claimFirst(found, cfg);
      if (claimed !== "claimed") return;
    }
  }

  /** Claims the first candidate a queue still gives, holding the slot while the queue decides. */
  protected async claimFirst(found: Candidate[], cfg: AgentConfig): Promise<"claimed" | "none" | "logged_out"> {
    for (const c of found) {
      const now = this.snapshotWith(cfg);
      if (!canTake(now, c.media) || this.work.get(c.itemId)) continue;
      // Hold the slot while the queue decides, so a concurrent offer cannot overfill.
      this.work.put({ id: c.itemId, media: c.media, queue: c.queue, state: "reserving", offered_at: Date.now(), entered_at: c.enteredAt, data: "{}" });
      const offer = (await queueStub(await this.te(), this.tenant, c.queue).claim(c.itemId, now).catch((err: unknown) => (console.error("claim", err), null))) as Offer | null;
      this.work.delete(c.itemId, "reserving");
      if (!offer) continue;
      if (!this.p.loggedIn) {
        // Logged out while the queue decided: the offer goes straight back.
        await queueStub(await this.te(), this.tenant, c.queue).returned(c.itemId, this.agentId, "logout").catch((e: unknown) => console.error("returned", e));
        return "logged_out";
      }
      this.offerIn(offer);
      return "claimed";
    }
    return "none";
  }
}
