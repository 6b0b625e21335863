// ChatSession: one per chat, the single owner of its transcript, its participants and their sockets.
// Every message gets the next sequence number, assigned here, and carries the sender's own id: a
// resend (a retry after a drop) answers the stored message instead of storing it twice. A reader asks
// for everything after the last sequence it saw, so a reconnect after a drop, a sleep or a deploy
// resumes with nothing lost or doubled. Sockets use the hibernation API: an idle chat costs no memory,
// and each socket's participant travels in its attachment. One alarm drives the queue-position
// updates, the idle alert and close, and the retries of the transcript's write and mail.
// The object takes other calls while one waits on D1 or another object, so a method that waits
// reads the meta record again afterwards and changes only its own fields, with no wait in between.
import { DurableObject } from "cloudflare:workers";
import { AppError, badRequest, conflict, forbidden, notFound } from "../workers/kernel/errors.ts";
import { getConfig } from "../workers/config/store.ts";
import { parseFrame, type ClientFrame } from "../workers/chat/frames.ts";
import { DEFAULT_CUSTOMER_MESSAGE_RATE, MAX_ALL_MESSAGES, MAX_FILES, MAX_MESSAGES, MAX_TEXT } from "../workers/chat/limits.ts";
import { take, type Bucket, type Rate } from "../workers/chat/rate.ts";
import { signPath } from "../workers/chat/signed-url.ts";
import { mailTranscript, writeTranscript, type MailOutcome } from "../workers/chat/transcript.ts";
import { transcriptAddress } from "../workers/chat/transcript-address.ts";
import { queueSms } from "../workers/sms/outbound.ts";
import { estimateWaitSeconds } from "../workers/chat/wait.ts";
import { announcedToCustomer, canSee, postVisibility, roleOf, servesCustomer, type ChatRole, type InviteMode, type Mode, type Visibility } from "../workers/chat/visibility.ts";
import { CLOSE_REVOKED, checkHeld, heldFromHeaders, REVOCATION_CHECK_MS, type Held } from "../workers/auth/revocation.ts";
import { Alarm } from "./alarm.ts";
import { ChatStore, type ChatMeta, type ChatStatus, type Participant, type StoredMessage } from "./chat-store.ts";
import { agentStub, queueStub } from "./names.ts";
import { guard, type Result } from "./result.ts";

export type { Participant, ChatStatus } from "./chat-store.ts";

/** The most a reader gets in one answer; it asks again from the last sequence it got. */
export const PAGE = 500;
export { MAX_ALL_MESSAGES, MAX_FILES, MAX_MESSAGES, MAX_TEXT } from "../workers/chat/limits.ts";
const RETRY_MS = [5_000, 15_000, 60_000, 300_000];
const IDLE_WRITE_MS = 5_000;

export interface ChatMessage {
  seq: number;
  clientId: string | null;
  from: string;
  name: string;
  role: ChatRole;
  kind: "text" | "notice" | "file";
  text: string;
  visibility: Visibility;
  at: number;
  file?: { name: string; type: string; size: number; url: string };
}

export interface ChatState {
  interactionId: string;
  status: ChatStatus;
  position: number | null;
  ewtSeconds: number | null;
  participants: Participant[];
  last: number;
  endReason: ChatMeta["endReason"];
}

interface SocketTag {
  pid: string;
  role: ChatRole;
  /** Staff: their token's holder, version and expiry; the socket closes when it lapses or is revoked. */
  staff?: Held;
}

const fail = (e: AppError): never => {
  throw e;
};

export class ChatSession extends DurableObject<Env> {
  private readonly store: ChatStore;
  private readonly timer: Alarm;
  private readonly tags = new WeakMap<WebSocket, SocketTag>();
  /** Each customer's message bucket (rate.ts), and the tenant's rate, read once per object life. */
  private readonly buckets = new Map<string, Bucket>();
  private rate: Rate | undefined;
  private readonly pending: { run: () => Promise<{ message: ChatMessage; duplicate: boolean }>; resolve: (v: { message: ChatMessage; duplicate: boolean }) => void; reject: (e: unknown) => void }[] = [];

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new ChatStore(ctx.storage.sql);
    this.timer = new Alarm(ctx.storage);
    // Keep-alive pings are answered without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  // ---- the chat's life ----

  /** Steps 2 and 5 of the chat flow: the session exists, the customer is in it and greeted. Idempotent. */
  open(o: { tenant: string; interactionId: string; queue: string; contactId: string | null; customer: { name: string; email: string | null }; sms?: ChatMeta["sms"] }): Promise<Result<ChatState>> {
    return guard(async () => {
      const cfg = this.store.meta() ? null : await getConfig(this.env.DB, o.tenant);
      // A second open that waited on the config alongside the first finds the chat open.
      if (cfg && !this.store.meta()) {
        const now = Date.now();
        const chat = cfg.raw.chat;
        this.store.saveMeta({
          tenant: o.tenant, interactionId: o.interactionId, queue: o.queue, contactId: o.contactId, customerName: o.customer.name, customerEmail: o.customer.email,
          status: "waiting", startedAt: now, endedAt: null, endedBy: null, endReason: null, lastCustomerAt: now, idleStage: 0,
          positionAt: chat && chat.positionEverySeconds > 0 ? now + 1000 : null, idleAt: null, retryAt: null, retries: 0, position: null, ewtSeconds: null,
          transcriptTo: null, transcriptWritten: false, transcriptMailed: false, invites: {}, ...(o.sms ? { sms: o.sms } : {}),
        });
        this.store.upsertParticipant({ id: "customer", mode: "customer", name: o.customer.name }, now);
        // A website greeting; an SMS customer is not texted what the widget would show.
        if (chat?.greeting && !o.sms) this.notice(chat.greeting, "all", now);
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
      await agentStub(this.env, m.tenant, agentId).notify({ type: "chat_invite", interactionId: m.interactionId, from: names.by, mode });
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
      const cfg = await getConfig(this.env.DB, this.meta().tenant);
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
          await agentStub(this.env, m.tenant, p.id.slice("agent:".length)).notify({ type: "chat_ended", interactionId: m.interactionId, reason }).catch((e: unknown) => console.error("notify chat_ended", e));
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

  // ---- messages and signals ----

  /** Stores a message from a participant. Idempotent on (participant, clientId). */
  post(from: string, msg: { clientId: string; text: string; visibility?: Visibility }): Promise<Result<{ message: ChatMessage; duplicate: boolean }>> {
    return guard(() => this.doPost(from, msg));
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
      const stored = this.store.insert({ clientId: f.clientId, from, name: p.name, role: p.role, kind: "file", text: f.name, visibility: vis.visibility, at: Date.now(), file: { key: f.key, type: f.type, size: f.size } });
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
      if (!vis.ok) fail(forbidden(vis.message));
      if (this.store.countFiles() >= MAX_FILES) fail(new AppError(409, "too_many_files", `a chat takes at most ${MAX_FILES} files`));
      this.roomForMore(p);
      // A file counts as a message against the customer's rate (asked here, before its bytes are stored).
      await this.throttle(p);
    });
  }

  // ---- sockets ----

  /** The Worker has checked the token and the Origin; it names the participant in a header. */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return Response.json({ error: { code: "upgrade_required", message: "expected a WebSocket upgrade" } }, { status: 426 });
    const pid = request.headers.get("X-Chat-Participant") ?? "";
    const p = this.store.participant(pid);
    const m = this.store.meta();
    if (!m || !p) return Response.json({ error: { code: "not_a_participant", message: "only participants of this chat can connect" } }, { status: 403 });
    if (p.leftAt !== null) return Response.json({ error: { code: "not_a_participant", message: "you left this chat" } }, { status: 403 });
    const staff = pid.startsWith("agent:") ? heldFromHeaders(request) : null;
    if (pid.startsWith("agent:") && staff?.agentId !== pid.slice(6)) return Response.json({ error: { code: "invalid_token", message: "the socket's token was not passed on" } }, { status: 401 });
    const after = Number(new URL(request.url).searchParams.get("after") ?? "0");
    const pair = new WebSocketPair();
    const tag: SocketTag = { pid, role: p.role, ...(staff ? { staff } : {}) };
    this.ctx.acceptWebSocket(pair[1], [pid]);
    pair[1].serializeAttachment(tag);
    this.tags.set(pair[1], tag);
    pair[1].send(JSON.stringify({ type: "hello", participant: p, status: m.status, last: this.store.lastSeq(), position: m.position, ewtSeconds: m.ewtSeconds }));
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
    if (!parsed.ok) return this.sendTo(ws, { type: "error", ...parsed.error });
    const f: ClientFrame = parsed.frame;
    const answer = (r: Result<unknown>, clientId?: string) => {
      if (!r.ok) {
        const retry = r.error.retryAfterSeconds;
        this.sendTo(ws, { type: "error", code: r.error.code, message: r.error.message, ...(clientId ? { clientId } : {}), ...(retry !== undefined ? { retryAfterSeconds: retry } : {}) });
      }
    };
    switch (f.type) {
      case "msg": {
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
        const p = this.store.participant(tag.pid);
        return answer(await this.end(tag.pid, p?.role === "customer" ? "customer" : p?.role === "supervisor" ? "supervisor" : "agent"));
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

  // ---- timers ----

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
    if (again.status === "active" && again.idleAt !== null && again.idleAt <= now) await this.idleStep();
    const after = this.store.meta()!;
    if (after.status === "ended" && after.retryAt !== null && after.retryAt <= now) await this.finish();
    await this.schedule();
  }

  // ---- inside ----

  private meta(): ChatMeta {
    return this.store.meta() ?? fail(notFound("no_chat", "no such chat"));
  }

  /** A participant, present or not (a former participant may still read what they saw). */
  private member(id: string): Participant {
    this.meta();
    return this.store.participant(id) ?? fail(forbidden("only a participant of this chat can do this"));
  }

  private present(id: string): Participant {
    const p = this.member(id);
    if (p.leftAt !== null) fail(forbidden("you have left this chat"));
    return p;
  }

  private speaker(id: string): Participant {
    const p = this.present(id);
    if (this.meta().status === "ended") fail(conflict("chat_ended", "this chat has ended"));
    return p;
  }

  /** Frames that arrive together are stored together: each waits a turn of the event loop, and all
   *  that came meanwhile are written in one transaction (one commit to disk instead of one each).
   *  Their acks still leave only once that commit is durable (the output gate), in arrival order. */
  private batched(from: string, msg: { clientId: string; text: string; visibility?: Visibility }, origin: WebSocket): Promise<{ message: ChatMessage; duplicate: boolean }> {
    return new Promise((resolve, reject) => {
      this.pending.push({ run: () => this.doPost(from, msg, origin), resolve, reject });
      if (this.pending.length === 1) setTimeout(() => void this.flushPending(), 0);
    });
  }

  private async flushPending(): Promise<void> {
    const items = this.pending.splice(0);
    for (const it of items) {
      try {
        it.resolve(await it.run());
      } catch (err) {
        it.reject(err);
      }
    }
  }

  /** `from` posts; `origin` is the socket it came on, which gets an ack instead of an echo. */
  private async doPost(from: string, msg: { clientId: string; text: string; visibility?: Visibility }, origin?: WebSocket): Promise<{ message: ChatMessage; duplicate: boolean }> {
    if (!msg.clientId || msg.clientId.length > 100) fail(badRequest("invalid_client_id", "clientId: 1 to 100 characters, unique per message"));
    const text = msg.text.trim();
    const resent = async (): Promise<{ message: ChatMessage; duplicate: boolean } | null> => {
      const seen = this.store.byClientId(from, msg.clientId);
      if (!seen) return null;
      if (seen.text !== text) fail(conflict("client_id_reused", "clientId: already used for another message"));
      return { message: await this.view(seen), duplicate: true };
    };
    const p = this.store.participant(from);
    // A resend of what was stored before the chat ended (or the sender left) still gets its answer.
    if (!p || p.leftAt !== null || this.meta().status === "ended") return (await resent()) ?? (this.speaker(from), fail(conflict("chat_ended", "this chat has ended")));
    const vis = postVisibility(p.mode, msg.visibility);
    if (!vis.ok) return fail(forbidden(vis.message));
    if (!text) fail(badRequest("empty_message", "text: say something"));
    if (text.length > MAX_TEXT) fail(badRequest("message_too_long", `text: at most ${MAX_TEXT} characters`));
    // A resend costs the sender nothing; a new message is counted against their rate.
    const again = await resent();
    if (again) return again;
    this.roomForMore(p);
    await this.throttle(p);
    // The first throttle may wait for the tenant's config: the chat may have ended meanwhile.
    if (this.meta().status === "ended") fail(conflict("chat_ended", "this chat has ended"));
    const stored = this.store.insert({ clientId: msg.clientId, from, name: p.name, role: p.role, kind: "text", text, visibility: vis.visibility, at: Date.now(), file: null });
    if (!stored) return (await resent())!;
    return { message: await this.afterPost(p, stored, origin), duplicate: false };
  }

  private async afterPost(p: Participant, stored: StoredMessage, origin?: WebSocket): Promise<ChatMessage> {
    const view = await this.view(stored);
    const data = JSON.stringify({ type: "msg", message: view });
    for (const ws of this.ctx.getWebSockets()) {
      if (ws === origin) continue;
      const t = this.tagOf(ws);
      if (t && canSee(t.role, stored.visibility)) this.sendRaw(ws, data);
    }
    if (p.role === "customer") await this.customerActive();
    else if (stored.visibility === "all" && stored.kind === "text") await this.toSms(stored);
    return view;
  }

  /** SMS session mode: what staff say to the customer goes out as SMS (what staff say among themselves does not). */
  private async toSms(stored: StoredMessage): Promise<void> {
    const m = this.meta();
    if (!m.sms) return;
    try {
      const cfg = await getConfig(this.env.DB, m.tenant);
      const center = cfg.raw.numbers.find((n) => n.number === m.sms!.center);
      if (!center) throw new Error(`number ${m.sms.center} is no longer configured`);
      await queueSms(this.env, cfg, { interactionId: m.interactionId, center, to: m.sms.customer, body: stored.text, author: stored.from });
    } catch (err) {
      const why = err instanceof AppError ? err.message : "it could not be queued";
      this.notice(`Not sent by SMS: ${why}`, "staff", Date.now());
      if (!(err instanceof AppError)) console.error(`chat ${m.interactionId}: SMS`, err);
    }
  }

  /** A chat is a conversation, not a store: its length is capped (and so is its transcript's write).
   *  The customer stops at MAX_MESSAGES; staff may go on to MAX_ALL_MESSAGES, so a customer who
   *  filled the chat cannot silence the agent. */
  private roomForMore(p: Participant): void {
    const cap = p.role === "customer" ? MAX_MESSAGES : MAX_ALL_MESSAGES;
    if (this.store.lastSeq() >= cap) fail(new AppError(409, "chat_too_long", `a chat holds at most ${cap} messages; start a new one`));
  }

  /** A customer's message or file takes a token from their bucket; none left: 429 rate_limited. Staff always post. */
  private async throttle(p: Participant): Promise<void> {
    if (p.role !== "customer") return;
    this.rate ??= (await getConfig(this.env.DB, this.meta().tenant)).raw.chat?.messageRate ?? { ...DEFAULT_CUSTOMER_MESSAGE_RATE };
    const r = take(this.buckets.get(p.id), this.rate, Date.now());
    this.buckets.set(p.id, r.bucket);
    if (!r.ok) fail(new AppError(429, "rate_limited", `too many messages; wait ${r.retryAfterSeconds} s`, { retryAfterSeconds: r.retryAfterSeconds }));
  }

  /** The customer said or typed something: the idle countdown starts over. Written at most every few
   *  seconds (the alert may come that much early), so a chatty customer costs no extra write per message. */
  private async customerActive(): Promise<void> {
    const m = this.meta();
    if (m.status !== "active") return;
    const now = Date.now();
    if (m.idleStage === 0 && now - m.lastCustomerAt < IDLE_WRITE_MS) return;
    this.idleFrom(m, now);
    this.store.saveMeta(m);
    await this.schedule();
  }

  private idleFrom(m: ChatMeta, now: number): void {
    m.lastCustomerAt = now;
    m.idleStage = 0;
    m.idleAt = null;
    // Filled in by schedule(), which knows the tenant's idle settings.
  }

  private async depart(p: Participant, text: string): Promise<void> {
    const now = Date.now();
    this.store.markLeft(p.id, now);
    this.notice(text, announcedToCustomer(p.mode) ? "all" : "staff", now);
    for (const ws of this.ctx.getWebSockets(p.id)) ws.close(1000, "left the chat");
    const m = this.meta();
    // Nobody left to answer the customer: back to waiting, with position updates again.
    if (m.status === "active" && !this.store.participants().some((x) => x.leftAt === null && servesCustomer(x.mode))) {
      m.status = "waiting";
      m.idleAt = null;
      m.positionAt = now + 1000;
      this.store.saveMeta(m);
      this.broadcast({ type: "status", status: "waiting" });
      await this.schedule();
    }
  }

  private async tellPosition(): Promise<void> {
    const before = this.meta();
    const cfg = await getConfig(this.env.DB, before.tenant);
    let queue = before.queue;
    let info: { position: number; agents: number; avgHandleMs: number | null } | null = null;
    // Nobody to tell (the widget is closed): skip this round; a reconnect gets the last known place.
    if (this.ctx.getWebSockets("customer").length > 0) {
      try {
        info = await queueStub(this.env, before.tenant, queue).waitInfo(before.interactionId);
        if (!info) {
          // The interaction may have moved (a forward step, a supervisor's move): D1 knows its queue.
          const row = await this.env.DB.prepare("SELECT queue FROM interactions WHERE tenant_id = ? AND id = ?").bind(before.tenant, before.interactionId).first<{ queue: string | null }>();
          if (row?.queue && row.queue !== queue) {
            queue = row.queue;
            info = await queueStub(this.env, before.tenant, queue).waitInfo(before.interactionId);
          }
        }
      } catch (err) {
        console.error("queue position", err);
      }
    }
    const m = this.meta();
    if (m.status !== "waiting") return;
    const every = (cfg.raw.chat?.positionEverySeconds ?? 30) * 1000;
    m.positionAt = every > 0 ? Date.now() + every : null;
    m.queue = queue;
    if (info) {
      const ewt = estimateWaitSeconds(info);
      const changed = info.position !== m.position;
      m.position = info.position;
      m.ewtSeconds = ewt;
      this.broadcast({ type: "queue", position: info.position, ewtSeconds: ewt }, (t) => t.role === "customer");
      if (changed) this.notice(positionText(info.position, ewt), "all", Date.now());
    }
    this.store.saveMeta(m);
  }

  private async idleStep(): Promise<void> {
    const idle = (await getConfig(this.env.DB, this.meta().tenant)).raw.chat?.idle;
    const m = this.meta();
    if (m.status !== "active" || m.idleAt === null || m.idleAt > Date.now()) return;
    // An SMS session just ends when the number's idle timeout passes: no alert texted.
    if (m.sms) return void (await this.end("system", "idle"));
    if (!idle) {
      // Chat was switched off for the tenant: no countdown any more.
      m.idleAt = null;
      return this.store.saveMeta(m);
    }
    if (m.idleStage === 0) {
      m.idleStage = 1;
      m.idleAt = Date.now() + idle.closeSeconds * 1000;
      this.store.saveMeta(m);
      this.notice(idle.alertText, "all", Date.now());
    } else {
      await this.end("system", "idle");
    }
  }

  /** Step 10 and 11: the transcript into the history, then the mail if asked for; retried by the alarm. */
  private async finish(): Promise<MailOutcome | null> {
    const m = this.meta();
    let out: MailOutcome | null = null;
    const done: Partial<ChatMeta> = {};
    let failed = false;
    try {
      if (m.abandonPending) done.abandonPending = !(await this.abandonInQueue(m));
      if (m.sms && !m.sms.closed) {
        // The pair's next SMS starts a new session.
        await this.env.DB.prepare("UPDATE sms_sessions SET status = 'ended', ended_at = ? WHERE tenant_id = ? AND interaction_id = ? AND status = 'active'").bind(m.endedAt ?? Date.now(), m.tenant, m.interactionId).run();
        done.sms = { ...m.sms, closed: true };
      }
      const messages = this.store.all();
      if (!m.transcriptWritten) {
        await writeTranscript(this.env.DB, m, messages);
        done.transcriptWritten = true;
      }
      if (m.transcriptTo && !m.transcriptMailed) {
        out = await mailTranscript(this.env, m, messages);
        // A mail over the per-address limit is not sent later either: it counts as done.
        done.transcriptMailed = out !== "no_mailbox";
        if (out === "no_mailbox") console.warn(`chat ${m.interactionId}: the tenant has no mailbox to send the transcript from`);
      }
    } catch (err) {
      console.error(`chat ${m.interactionId}: transcript`, err);
      failed = true;
    }
    // Only this step's own fields, onto the record as it is now (a transcript request may have come meanwhile).
    const now = this.meta();
    Object.assign(now, done);
    const pending = now.abandonPending === true || (now.sms !== undefined && !now.sms.closed) || !now.transcriptWritten || (now.transcriptTo !== null && !now.transcriptMailed);
    now.retries = failed ? now.retries + 1 : 0;
    now.retryAt = !pending ? null : failed ? Date.now() + RETRY_MS[Math.min(now.retries - 1, RETRY_MS.length - 1)]! : Date.now() + 1000;
    this.store.saveMeta(now);
    await this.schedule();
    return out;
  }

  /** A chat that ended before an agent took it leaves its queue as abandoned. An offer in flight
   *  settles within moments (accepted, or back to waiting), so that answer is retried by the alarm. */
  private async abandonInQueue(m: ChatMeta): Promise<boolean> {
    const row = await this.env.DB.prepare("SELECT queue FROM interactions WHERE tenant_id = ? AND id = ?").bind(m.tenant, m.interactionId).first<{ queue: string | null }>();
    const r = await queueStub(this.env, m.tenant, row?.queue ?? m.queue).stop(m.interactionId, "customer", { abandoned: true, reason: "the customer left the chat" });
    if (r.ok) return true;
    if (r.error.code === "being_routed") return false;
    // Not in the queue any more: an agent took it after all, and is told the chat ended.
    console.warn(`chat ${m.interactionId}: not stopped in its queue: ${r.error.message}`);
    return true;
  }

  private async schedule(): Promise<void> {
    const first = this.store.meta();
    if (!first) return;
    const idle = first.status === "active" && first.idleAt === null && !first.sms ? (await getConfig(this.env.DB, first.tenant)).raw.chat?.idle : undefined;
    const m = this.store.meta()!;
    const alertSeconds = m.sms ? m.sms.idleSeconds : idle?.alertSeconds;
    if (alertSeconds !== undefined && m.status === "active" && m.idleAt === null) {
      m.idleAt = m.lastCustomerAt + alertSeconds * 1000;
      this.store.saveMeta(m);
    }
    const times = [m.status === "waiting" ? m.positionAt : null, m.status === "active" ? m.idleAt : null, m.status === "ended" ? m.retryAt : null].filter((t): t is number => t !== null);
    // Open staff sockets: checked at their expiry and every REVOCATION_CHECK_MS (hibernating sockets
    // send no frame to check them on, and keep-alive pings are answered without waking the object).
    for (const ws of this.ctx.getWebSockets()) {
      const staff = this.tagOf(ws)?.staff;
      if (staff && ws.readyState === WebSocket.OPEN) times.push(Math.min(staff.expiresAt, Date.now() + REVOCATION_CHECK_MS));
    }
    if (times.length) await this.timer.arm(Math.min(...times));
  }

  private stateOf(): ChatState {
    const m = this.meta();
    return { interactionId: m.interactionId, status: m.status, position: m.position, ewtSeconds: m.ewtSeconds, participants: this.store.participants(), last: this.store.lastSeq(), endReason: m.endReason };
  }

  private notice(text: string, visibility: Visibility, at: number): void {
    const { file: _none, ...message } = this.store.insert({ clientId: null, from: "system", name: "", role: "system", kind: "notice", text, visibility, at, file: null })!;
    this.broadcast({ type: "msg", message }, (t) => canSee(t.role, visibility));
  }

  private async view(s: StoredMessage): Promise<ChatMessage> {
    const { file, ...rest } = s;
    if (!file) return rest;
    const m = this.meta();
    const url = await signPath(this.env.AUTH_SECRET, `/api/v1/chat/files/${m.tenant}/${m.interactionId}/${file.key.slice(file.key.lastIndexOf("/") + 1)}`);
    return { ...rest, file: { name: s.text, type: file.type, size: file.size, url } };
  }

  private async replay(ws: WebSocket, tag: SocketTag, after: number): Promise<void> {
    let from = after;
    for (;;) {
      const rows = this.store.after(from, PAGE);
      for (const r of rows) if (canSee(tag.role, r.visibility)) this.sendTo(ws, { type: "msg", message: await this.view(r) });
      if (rows.length < PAGE) return;
      from = rows.at(-1)!.seq;
    }
  }

  private broadcast(frame: Record<string, unknown>, to: (t: SocketTag) => boolean = () => true): void {
    const data = JSON.stringify(frame);
    for (const ws of this.ctx.getWebSockets()) {
      const t = this.tagOf(ws);
      if (t && to(t)) this.sendRaw(ws, data);
    }
  }

  /** Closes a staff socket whose token has lapsed or been revoked; says whether it did. */
  private async dropIfRevoked(ws: WebSocket, staff: Held, now: number): Promise<boolean> {
    const tenant = this.store.meta()?.tenant;
    if (!tenant) return false;
    const refused = await checkHeld(this.env.DB, tenant, staff, now);
    if (!refused) return false;
    this.sendTo(ws, { type: "error", code: refused.code, message: refused.message });
    try {
      ws.close(CLOSE_REVOKED, refused.message);
    } catch {
      // already closing
    }
    return true;
  }

  /** A socket's participant: from memory, or from its attachment after the object woke. */
  private tagOf(ws: WebSocket): SocketTag | null {
    let t = this.tags.get(ws);
    if (!t) {
      t = (ws.deserializeAttachment() as SocketTag | null) ?? undefined;
      if (t) this.tags.set(ws, t);
    }
    return t ?? null;
  }

  private sendTo(ws: WebSocket, frame: Record<string, unknown>): void {
    this.sendRaw(ws, JSON.stringify(frame));
  }

  private sendRaw(ws: WebSocket, data: string): void {
    try {
      ws.send(data);
    } catch {
      // a socket closing under us; its client resumes from its last sequence
    }
  }
}

function positionText(position: number, ewtSeconds: number | null): string {
  const place = position === 1 ? "You are next in line." : `You are number ${position} in the queue.`;
  if (ewtSeconds === null) return place;
  const mins = Math.max(1, Math.round(ewtSeconds / 60));
  return `${place} Estimated wait: about ${mins} minute${mins === 1 ? "" : "s"}.`;
}
