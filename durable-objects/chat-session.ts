// ChatSession: one per chat, the single owner of its transcript, its participants and their sockets.
// Every message gets the next sequence number, assigned here, and carries the sender's own id: a
// resend (a retry after a drop) answers the stored message instead of storing it twice. A reader asks
// for everything after the last sequence it saw, so a reconnect after a drop, a sleep or a deploy
// resumes with nothing lost or doubled. Sockets use the hibernation API: an idle chat costs no memory,
// and each socket's participant travels in its attachment. One alarm drives the queue-position
// updates, the idle alert and close, and the retries of the transcript's write and mail.
// The object takes other calls while one waits on D1 or another object, so a method that waits
// reads the meta record again afterwards and changes only its own fields, with no wait in between.
import { AppError, badRequest, conflict, fail, forbidden } from "../workers/kernel/errors.ts";
import { getConfig } from "../workers/config/store.ts";
import { parseFrame, type ClientFrame } from "../workers/chat/frames.ts";
import { MAX_FILES } from "../workers/chat/limits.ts";
import { type MailOutcome } from "../workers/chat/transcript.ts";
import { transcriptAddress } from "../workers/chat/transcript-address.ts";
import { announcedToCustomer, canSee, postVisibility, roleOf, servesCustomer, type InviteMode, type Mode, type Visibility } from "../workers/chat/visibility.ts";
import { heldFromHeaders } from "../workers/auth/revocation.ts";
import { type ChatMeta, type ChatStatus, type Participant } from "./chat-store.ts";
import { agentStub } from "./names.ts";
import { guard, type Result } from "./result.ts";
import { PAGE, type ChatState, type SocketTag } from "./chat-core.ts";
import { ChatSocial } from "./chat-social.ts";
import { refuseUpgrade } from "../workers/kernel/refuse-upgrade.ts";
import { endReasonOf } from "../workers/chat/policy.ts";
import type { ChatFrame, ChatMessage } from "../workers/protocol/chat.ts";

export type { Participant, ChatStatus } from "./chat-store.ts";
export type { ChatMessage } from "../workers/protocol/chat.ts";

export { PAGE } from "./chat-core.ts";
export type { ChatState } from "./chat-core.ts";
export { MAX_ALL_MESSAGES, MAX_FILES, MAX_MESSAGES, MAX_TEXT } from "../workers/chat/limits.ts";

export class ChatSession extends ChatSocial {
  /** Steps 2 and 5 of the chat flow: the session exists, the customer is in it and greeted. Idempotent. */
  open(o: { tenant: string; interactionId: string; queue: string; contactId: string | null; customer: { name: string; email: string | null }; sms?: ChatMeta["sms"]; social?: ChatMeta["social"] }): Promise<Result<ChatState>> {
    return guard(async () => {
      const cfg = this.store.meta() ? null : await getConfig((await this.te()).DB, o.tenant);
      // A second open that waited on the config alongside the first finds the chat open.
      if (cfg && !this.store.meta()) {
        const now = Date.now();
        const chat = cfg.raw.chat;
        this.store.saveMeta({
          tenant: o.tenant, interactionId: o.interactionId, queue: o.queue, contactId: o.contactId, customerName: o.customer.name, customerEmail: o.customer.email,
          status: "waiting", startedAt: now, endedAt: null, endedBy: null, endReason: null, lastCustomerAt: now, idleStage: 0,
          positionAt: chat && chat.positionEverySeconds > 0 ? now + 1000 : null, idleAt: null, retryAt: null, retries: 0, position: null, ewtSeconds: null,
          transcriptTo: null, transcriptWritten: false, transcriptMailed: false, invites: {}, ...(o.sms ? { sms: o.sms } : {}), ...(o.social ? { social: o.social } : {}),
        });
        this.store.upsertParticipant({ id: "customer", mode: "customer", name: o.customer.name }, now);
        // A website greeting; an SMS or social customer is not sent what the widget would show.
        if (chat?.greeting && !o.sms && !o.social) this.notice(chat.greeting, "all", now);
        await this.schedule();
      }
      return this.stateOf();
    });
  }

  /** A participant enters: the customer at open, an agent on accepting, an invited agent, a supervisor. */
  join(p: { id: string; mode: Mode; name: string }): Promise<Result<Participant>> {
    return guard(async () => {
      const m = this.meta();
      if (m.status === "ended") fail(conflict("chat_ended", "this chat has ended"));
      const cur = this.store.participant(p.id);
      if (cur && cur.leftAt === null && cur.mode === p.mode) return cur;
      if (p.mode === "consult" || p.mode === "conference") {
        const agentId = p.id.slice("agent:".length);
        if (m.invites[agentId] !== p.mode) fail(forbidden(`you were not invited to this chat in ${p.mode} mode`));
        delete m.invites[agentId];
      }
      const now = Date.now();
      const joined = this.store.upsertParticipant(p, now);
      this.notice(`${p.name} joined the chat`, announcedToCustomer(p.mode) ? "all" : "staff", now);
      if (servesCustomer(p.mode) && m.status === "waiting") {
        m.status = "active";
        m.positionAt = null;
        m.position = null;
        m.ewtSeconds = null;
        this.idleFrom(m, now);
        this.broadcast({ type: "status", status: "active" });
      }
      this.store.saveMeta(m);
      await this.schedule();
      return joined;
    });
  }

  /** A supervisor changes how they take part (monitor, coach, barge-in). */
  setMode(id: string, mode: Mode): Promise<Result<Participant>> {
    return guard(async () => {
      const cur = this.present(id);
      if (cur.role !== "supervisor" || roleOf(mode) !== "supervisor") fail(badRequest("invalid_mode", "mode: supervisors switch between monitor, coach and barge"));
      if (cur.mode === mode) return cur;
      this.store.setMode(id, mode);
      const now = Date.now();
      // The customer learns of a supervisor only when they barge in.
      this.notice(mode === "barge" ? `${cur.name} joined the chat` : `${cur.name} is now in ${mode} mode`, mode === "barge" ? "all" : "staff", now);
      const m = this.meta();
      if (mode === "barge" && m.status === "waiting") {
        m.status = "active";
        m.positionAt = null;
        this.idleFrom(m, now);
        this.store.saveMeta(m);
        this.broadcast({ type: "status", status: "active" });
        await this.schedule();
      }
      return this.store.participant(id)!;
    });
  }

  /** The handling agent invites a colleague to consult (agents only) or to a conference. */
  invite(by: string, agentId: string, mode: InviteMode, names: { by: string; agent: string }): Promise<Result<void>> {
    return guard(async () => {
      const me = this.present(by);
      if (me.mode !== "primary") fail(forbidden("only the agent handling this chat can invite"));
      if (`agent:${agentId}` === by) fail(badRequest("same_agent", "agent: you are already in this chat"));
      const m = this.meta();
      m.invites[agentId] = mode;
      this.store.saveMeta(m);
      this.notice(`${names.by} invited ${names.agent} to ${mode === "consult" ? "consult" : "join the conference"}`, "staff", Date.now());
      await agentStub(await this.te(), m.tenant, agentId).notify({ type: "chat_invite", interactionId: m.interactionId, from: names.by, mode });
    });
  }

  leave(id: string): Promise<Result<void>> {
    return guard(async () => {
      const p = this.store.participant(id);
      if (!p || p.leftAt !== null) return;
      // After the end the transcript is written: leaving adds nothing to it.
      if (this.meta().status === "ended") return this.store.markLeft(id, Date.now());
      await this.depart(p, `${p.name} left the chat`);
    });
  }

  /** The handling agent handed the interaction on: they leave, the customer stays and hears where to. */
  transferred(agentId: string, to: string): Promise<Result<void>> {
    return guard(async () => {
      const p = this.store.participant(`agent:${agentId}`);
      if (!p || p.leftAt !== null || this.meta().status === "ended") return;
      await this.depart(p, `${p.name} transferred the chat to ${to}`);
    });
  }

  /** Step 9: the agent, the customer, a supervisor or the idle timer ends the chat. Idempotent. */
  end(by: string, reason: NonNullable<ChatMeta["endReason"]>, byName?: string): Promise<Result<ChatState>> {
    return guard(async () => {
      const cfg = await getConfig((await this.te()).DB, this.meta().tenant);
      const m = this.meta();
      if (m.status === "ended") return this.stateOf();
      // Staff the Worker has vouched for (the handling agent, a supervisor) name themselves; anyone
      // else must be in the chat, and among staff only the handling agent and supervisors end it.
      const who = by === "system" ? null : byName !== undefined ? { name: byName } : this.present(by);
      if (who && "mode" in who && (who.mode === "consult" || who.mode === "conference")) fail(forbidden("only the agent handling this chat or a supervisor can end it"));
      const now = Date.now();
      const wasWaiting = m.status === "waiting";
      const text = reason === "idle" ? cfg.raw.chat?.idle.closeText ?? "This chat was closed after a period of inactivity." : `${who?.name ?? "Someone"} ended the chat`;
      this.notice(text, "all", now);
      Object.assign(m, { status: "ended", endedAt: now, endedBy: by, endReason: reason, positionAt: null, idleAt: null, retryAt: now });
      this.store.saveMeta(m);
      this.broadcast({ type: "status", status: "ended", reason });
      for (const ws of this.ctx.getWebSockets()) {
        try {
          ws.close(1000, "chat ended");
        } catch {
          // already closing
        }
      }
      // A chat that never reached an agent is abandoned in its queue (by finish()); one in an agent's hands waits for their "done".
      if (wasWaiting) {
        m.abandonPending = true;
        this.store.saveMeta(m);
      }
      for (const p of this.store.participants()) {
        if (p.leftAt === null && p.id.startsWith("agent:"))
          await agentStub(await this.te(), m.tenant, p.id.slice("agent:".length)).notify({ type: "chat_ended", interactionId: m.interactionId, reason }).catch((e: unknown) => console.error("notify chat_ended", e));
      }
      await this.finish();
      return this.stateOf();
    });
  }

  /** Step 11: the customer asks for the transcript by mail, to the address they gave before the chat
   *  (`email`, if named, must be that one); sent when the chat ends (now, if it has). */
  requestTranscript(email: string | null): Promise<Result<{ status: "queued" | MailOutcome; to: string }>> {
    return guard(async () => {
      const m = this.meta();
      if (m.transcriptMailed) fail(conflict("transcript_already_sent", "the transcript of this chat was already mailed"));
      const addr = transcriptAddress(m.customerEmail, email);
      if (!addr.ok) return fail(addr.code === "transcript_address" ? new AppError(403, addr.code, addr.message) : conflict(addr.code, addr.message));
      const to = addr.to;
      m.transcriptTo = to;
      this.store.saveMeta(m);
      if (m.status !== "ended") return { status: "queued" as const, to };
      const out = await this.finish();
      return { status: out ?? ("queued" as const), to };
    });
  }

  /** Stores a message from a participant. Idempotent on (participant, clientId). */
  post(from: string, msg: { clientId: string; text: string; visibility?: Visibility }): Promise<Result<{ message: ChatMessage; duplicate: boolean }>> {
    return guard(() => this.storePost(from, msg));
  }

  /** A file already in R2 becomes a message. Idempotent on (participant, clientId) like a text. */
  attach(from: string, f: { clientId: string; name: string; type: string; size: number; key: string }): Promise<Result<{ message: ChatMessage; duplicate: boolean }>> {
    return guard(async () => {
      const seen = this.store.byClientId(from, f.clientId);
      if (seen) return { message: await this.view(seen), duplicate: true };
      const p = this.speaker(from);
      const vis = postVisibility(p.mode, undefined);
      if (!vis.ok) return fail(forbidden(vis.message));
      if (this.store.countFiles() >= MAX_FILES) fail(new AppError(409, "too_many_files", `a chat takes at most ${MAX_FILES} files`));
      this.roomForMore(p);
      const extra = this.outboundExtra(p.role, vis.visibility);
      const stored = this.store.insert({ clientId: f.clientId, from, name: p.name, role: p.role, kind: "file", text: f.name, visibility: vis.visibility, at: Date.now(), file: { key: f.key, type: f.type, size: f.size }, extra });
      if (!stored) return { message: await this.view(this.store.byClientId(from, f.clientId)!), duplicate: true };
      return { message: await this.afterPost(p, stored), duplicate: false };
    });
  }

  typing(from: string, on: boolean): Promise<Result<void>> {
    return guard(async () => {
      const p = this.speaker(from);
      if (p.mode === "monitor") return;
      if (p.role === "customer" && on) await this.customerActive();
      this.broadcast({ type: "typing", from, name: p.name, on }, (t) => t.pid !== from && (announcedToCustomer(p.mode) || t.role !== "customer"));
    });
  }

  read(from: string, seq: number): Promise<Result<void>> {
    return guard(() => {
      const p = this.present(from);
      const upTo = Math.min(seq, this.store.lastSeq());
      this.store.markRead(from, upTo);
      if (p.mode !== "monitor") this.broadcast({ type: "read", from, seq: upTo }, (t) => t.pid !== from && (announcedToCustomer(p.mode) || t.role !== "customer"));
    });
  }

  /** What `viewer` may see after sequence `after`, oldest first, at most PAGE. */
  since(viewer: string, after: number): Promise<Result<{ messages: ChatMessage[]; last: number; more: boolean; status: ChatStatus }>> {
    return guard(async () => {
      const who = this.member(viewer);
      const rows = this.store.after(after, PAGE + 1);
      const more = rows.length > PAGE;
      const page = rows.slice(0, PAGE);
      // `last` moves past messages the viewer may not see too, so its next ask starts after them.
      const last = page.at(-1)?.seq ?? Math.max(0, after);
      // Someone who left reads what was said while they were there, and no more.
      const visible = page.filter((r) => canSee(who.role, r.visibility) && (who.leftAt === null || r.at <= who.leftAt));
      return { messages: await Promise.all(visible.map((r) => this.view(r))), last, more, status: this.meta().status };
    });
  }

  state(viewer?: string): Promise<Result<ChatState>> {
    return guard(() => {
      const st = this.stateOf();
      if (viewer === undefined || this.member(viewer).role !== "customer") return st;
      // The customer sees who serves them, not who watches or advises.
      return { ...st, participants: st.participants.filter((p) => announcedToCustomer(p.mode)).map((p) => ({ ...p, readSeq: 0 })) };
    });
  }

  /** Whether `from` may post a file now (the Worker asks before storing the bytes). */
  mayAttach(from: string): Promise<Result<void>> {
    return guard(async () => {
      const p = this.speaker(from);
      const vis = postVisibility(p.mode, undefined);
      if (!vis.ok) return fail(forbidden(vis.message));
      if (this.store.countFiles() >= MAX_FILES) fail(new AppError(409, "too_many_files", `a chat takes at most ${MAX_FILES} files`));
      this.roomForMore(p);
      // Refused before its bytes are stored when the customer's window has closed.
      this.outboundExtra(p.role, vis.visibility);
      // A file counts as a message against the customer's rate (asked here, before its bytes are stored).
      await this.throttle(p);
    });
  }

  /** Erasure (the interaction is finished or being erased): the transcript, the participants and any
   *  timer go, and open sockets are closed. Answers what was removed, with the files' R2 keys. */
  async erase(): Promise<{ messages: number; files: string[] }> {
    await this.ctx.storage.deleteAlarm();
    for (const ws of this.ctx.getWebSockets()) ws.close(1000, "erased");
    return this.store.wipe();
  }

  /** The Worker has checked the token and the Origin; it names the participant in a header. */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return Response.json({ error: { code: "upgrade_required", message: "expected a WebSocket upgrade" } }, { status: 426 });
    const pid = request.headers.get("X-Chat-Participant") ?? "";
    const p = this.store.participant(pid);
    const m = this.store.meta();
    if (!m || !p) return refuseUpgrade(new AppError(403, "not_a_participant", "only participants of this chat can connect"));
    if (p.leftAt !== null) return refuseUpgrade(new AppError(403, "not_a_participant", "you left this chat"));
    const staff = pid.startsWith("agent:") ? heldFromHeaders(request) : null;
    if (pid.startsWith("agent:") && staff?.agentId !== pid.slice(6)) return refuseUpgrade(new AppError(401, "invalid_token", "the socket's token was not passed on"));
    const after = Number(new URL(request.url).searchParams.get("after") ?? "0");
    const pair = new WebSocketPair();
    const tag: SocketTag = { pid, role: p.role, ...(staff ? { staff } : {}) };
    this.ctx.acceptWebSocket(pair[1], [pid]);
    pair[1].serializeAttachment(tag);
    this.tags.set(pair[1], tag);
    pair[1].send(JSON.stringify({ type: "hello", participant: p, status: m.status, last: this.store.lastSeq(), position: m.position, ewtSeconds: m.ewtSeconds } satisfies ChatFrame));
    await this.replay(pair[1], tag, Number.isFinite(after) && after > 0 ? Math.floor(after) : 0);
    if (m.status === "ended") pair[1].close(1000, "chat ended");
    else if (staff) await this.schedule();
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    const tag = this.tagOf(ws);
    if (!tag) return ws.close(1011, "lost its participant");
    if (tag.staff && (await this.dropIfRevoked(ws, tag.staff, Date.now()))) return;
    const parsed = parseFrame(raw);
    if (!parsed.ok) {
      const { clientId, ...error } = parsed.error;
      return this.sendTo(ws, { type: "error", error, ...(clientId ? { clientId } : {}) });
    }
    const f: ClientFrame = parsed.frame;
    const answer = (r: Result<unknown>, clientId?: string) => {
      if (!r.ok) {
        const retry = r.error.retryAfterSeconds;
        this.sendTo(ws, { type: "error", error: { code: r.error.code, message: r.error.message }, ...(clientId ? { clientId } : {}), ...(retry !== undefined ? { retryAfterSeconds: retry } : {}) });
      }
    };
    switch (f.type) {
      case "msg": {
        // A socket opened before its tenant was suspended stores nothing new either.
        if ((await this.te()).SUSPENDED) return this.sendTo(ws, { type: "error", error: { code: "tenant_suspended", message: "this service is suspended: the message was not stored" }, clientId: f.clientId });
        const r = await guard(() => this.batched(tag.pid, { clientId: f.clientId, text: f.text, visibility: f.visibility }, ws));
        if (r.ok) this.sendTo(ws, { type: "ack", clientId: f.clientId, seq: r.value.message.seq, duplicate: r.value.duplicate });
        // A resend of a message stored before the drop: the sender may have missed it too.
        if (r.ok && r.value.duplicate) this.sendTo(ws, { type: "msg", message: r.value.message });
        return answer(r, f.clientId);
      }
      case "typing":
        return answer(await this.typing(tag.pid, f.on));
      case "read":
        return answer(await this.read(tag.pid, f.seq));
      case "resume":
        return this.replay(ws, tag, f.after);
      case "end": {
        return answer(await this.end(tag.pid, endReasonOf(this.store.participant(tag.pid)?.role)));
      }
      case "ping":
        return this.sendTo(ws, { type: "pong" });
    }
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "bye");
    } catch {
      // already closed
    }
  }

  override async alarm(): Promise<void> {
    this.timer.fired();
    const m = this.store.meta();
    if (!m) return;
    const now = Date.now();
    for (const ws of this.ctx.getWebSockets()) {
      const staff = this.tagOf(ws)?.staff;
      if (staff && ws.readyState === WebSocket.OPEN) await this.dropIfRevoked(ws, staff, now);
    }
    if (m.status === "waiting" && m.positionAt !== null && m.positionAt <= now) await this.tellPosition();
    const again = this.store.meta()!;
    if (again.status === "active" && again.idleAt !== null && again.idleAt <= now) await this.idleTick();
    const after = this.store.meta()!;
    if (after.status === "ended" && after.retryAt !== null && after.retryAt <= now) await this.finish();
    await this.schedule();
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
