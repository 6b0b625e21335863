// The ChatSession object's state and internals: its store, posting with resend detection and rate,
// the queue-position, idle and finishing steps its alarm drives, and its sockets (typed frames,
// replay after a sequence, staff tokens). chat-session.ts adds the RPC surface and the socket
// handlers on top; the timing rules are pure (workers/chat/policy.ts).
import { objectEnv } from "../workers/tenancy/tenant-env.ts";
import { classifyChat } from "../workers/analyzer/chat.ts";
import { DurableObject } from "cloudflare:workers";
import { AppError, badRequest, conflict, fail, forbidden, notFound } from "../workers/kernel/errors.ts";
import { getConfig } from "../workers/config/store.ts";
import { DEFAULT_CUSTOMER_MESSAGE_RATE, MAX_TEXT } from "../workers/chat/limits.ts";
import { take, type Bucket, type Rate } from "../workers/chat/rate.ts";
import { signPath } from "../workers/chat/signed-url.ts";
import { mailTranscript, writeTranscript, type MailOutcome } from "../workers/chat/transcript.ts";
import { estimateWaitSeconds } from "../workers/chat/wait.ts";
import { announcedToCustomer, canSee, postVisibility, servesCustomer, type ChatRole, type Visibility } from "../workers/chat/visibility.ts";
import { CLOSE_REVOKED, checkHeld, REVOCATION_CHECK_MS, type Held } from "../workers/auth/revocation.ts";
import { Alarm } from "./alarm.ts";
import { ChatStore, type ChatMeta, type ChatStatus, type Participant, type StoredMessage } from "./chat-store.ts";
import { queueStub, splitName } from "./names.ts";
import { type Result } from "./result.ts";
import { sessionEnd } from "../workers/ucs/sms.ts";
import { threadEnd } from "../workers/ucs/social.ts";
import { interactionQueue } from "../workers/ucs/interaction-reads.ts";
import { finishPending, finishRetry, idleAlertAt, idleRestartDue, idleStep, messageCap, nextChatAlarm, nextPositionAt, positionText } from "../workers/chat/policy.ts";
import type { ChatFrame, ChatMessage, MessageExtra } from "../workers/protocol/chat.ts";
import type { Channel } from "../workers/social/types.ts";
import type { Window } from "../workers/social/window.ts";
import { benchEnv } from "../workers/kernel/d1-count.ts";


/** The most a reader gets in one answer; it asks again from the last sequence it got. */
export const PAGE = 500;

export interface ChatState {
  interactionId: string;
  /** A social channel's conversation: the channel and the customer-service window now. */
  social?: { channel: Channel; window: Window };
  status: ChatStatus;
  position: number | null;
  ewtSeconds: number | null;
  participants: Participant[];
  last: number;
  endReason: ChatMeta["endReason"];
}

export interface SocketTag {
  pid: string;
  role: ChatRole;
  /** Staff: their token's holder, version and expiry; the socket closes when it lapses or is revoked. */
  staff?: Held;
}


export abstract class ChatCore extends DurableObject<Env> {
  /** This object's tenant's env: its shard, bucket and objects in its jurisdiction. */
  protected te = () => objectEnv(this.env, this.store.meta()?.tenant ?? splitName(this.ctx.id.name)[0]);
  /** Ending is the RPC surface's (chat-session.ts); the idle countdown ends a chat through it. */
  abstract end(by: string, reason: NonNullable<ChatMeta["endReason"]>, byName?: string): Promise<Result<ChatState>>;

  protected readonly store: ChatStore;

  protected readonly timer: Alarm;

  protected readonly tags = new WeakMap<WebSocket, SocketTag>();

  /** Each customer's message bucket (rate.ts), and the tenant's rate, read once per object life. */
  protected readonly buckets = new Map<string, Bucket>();

  protected rate: Rate | undefined;

  protected readonly pending: { run: () => Promise<{ message: ChatMessage; duplicate: boolean }>; resolve: (v: { message: ChatMessage; duplicate: boolean }) => void; reject: (e: unknown) => void }[] = [];

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, benchEnv(env, "chat"));
    this.store = new ChatStore(ctx.storage.sql);
    this.timer = new Alarm(ctx.storage);
    // Keep-alive pings are answered without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  protected meta(): ChatMeta {
    return this.store.meta() ?? fail(notFound("no_chat", "no such chat"));
  }

  /** A participant, present or not (a former participant may still read what they saw). */
  protected member(id: string): Participant {
    this.meta();
    return this.store.participant(id) ?? fail(forbidden("only a participant of this chat can do this"));
  }

  protected present(id: string): Participant {
    const p = this.member(id);
    if (p.leftAt !== null) fail(forbidden("you have left this chat"));
    return p;
  }

  protected speaker(id: string): Participant {
    const p = this.present(id);
    if (this.meta().status === "ended") fail(conflict("chat_ended", "this chat has ended"));
    return p;
  }

  /** Frames that arrive together are stored together: each waits a turn of the event loop, and all
   *  that came meanwhile are written in one transaction (one commit to disk instead of one each).
   *  Their acks still leave only once that commit is durable (the output gate), in arrival order. */
  protected batched(from: string, msg: { clientId: string; text: string; visibility?: Visibility }, origin: WebSocket): Promise<{ message: ChatMessage; duplicate: boolean }> {
    return new Promise((resolve, reject) => {
      this.pending.push({ run: () => this.storePost(from, msg, origin), resolve, reject });
      if (this.pending.length === 1) setTimeout(() => void this.flushPending(), 0);
    });
  }

  protected async flushPending(): Promise<void> {
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
  protected async storePost(from: string, msg: { clientId: string; text: string; visibility?: Visibility }, origin?: WebSocket): Promise<{ message: ChatMessage; duplicate: boolean }> {
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
    const extra = this.outboundExtra(p.role, vis.visibility);
    const stored = this.store.insert({ clientId: msg.clientId, from, name: p.name, role: p.role, kind: "text", text, visibility: vis.visibility, at: Date.now(), file: null, extra });
    if (!stored) return (await resent())!;
    return { message: await this.afterPost(p, stored, origin), duplicate: false };
  }

  protected async afterPost(p: Participant, stored: StoredMessage, origin?: WebSocket): Promise<ChatMessage> {
    const view = await this.view(stored);
    const data = JSON.stringify({ type: "msg", message: view } satisfies ChatFrame);
    for (const ws of this.ctx.getWebSockets()) {
      if (ws === origin) continue;
      const t = this.tagOf(ws);
      if (t && canSee(t.role, stored.visibility)) this.sendRaw(ws, data);
    }
    if (p.role === "customer") {
      await this.customerActive();
      const m = this.meta();
      // The customer's first message says what the chat is about (an SMS session was classified as it opened).
      if (stored.kind === "text" && !m.sms && !m.social && !m.classified) {
        m.classified = true;
        this.store.saveMeta(m);
        this.ctx.waitUntil(classifyChat(await this.te(), m.tenant, m.interactionId, stored.text).catch((e: unknown) => console.error("classify chat", e)));
      }
    } else if (stored.visibility === "all") await this.carryOut(stored);
    return view;
  }

  /** A chat carried by SMS or a social channel: what staff say to the customer goes out on it (chat-social.ts). */
  protected async carryOut(_stored: StoredMessage): Promise<void> {}

  /** What a staff message to the customer starts with on a social channel, or a refusal (chat-social.ts). */
  protected outboundExtra(_role: ChatRole, _visibility: Visibility): MessageExtra | null {
    return null;
  }

  /** A social channel's state for ChatState (chat-social.ts). */
  protected socialState(): ChatState["social"] {
    return undefined;
  }

  /** A chat is a conversation, not a store: its length is capped (and so is its transcript's write).
   *  The customer stops at MAX_MESSAGES; staff may go on to MAX_ALL_MESSAGES, so a customer who
   *  filled the chat cannot silence the agent. */
  protected roomForMore(p: Participant): void {
    const cap = messageCap(p.role);
    if (this.store.lastSeq() >= cap) fail(new AppError(409, "chat_too_long", `a chat holds at most ${cap} messages; start a new one`));
  }

  /** A customer's message or file takes a token from their bucket; none left: 429 rate_limited. Staff always post. */
  protected async throttle(p: Participant): Promise<void> {
    if (p.role !== "customer") return;
    this.rate ??= (await getConfig((await this.te()).DB, this.meta().tenant)).raw.chat?.messageRate ?? { ...DEFAULT_CUSTOMER_MESSAGE_RATE };
    const r = take(this.buckets.get(p.id), this.rate, Date.now());
    this.buckets.set(p.id, r.bucket);
    if (!r.ok) fail(new AppError(429, "rate_limited", `too many messages; wait ${r.retryAfterSeconds} s`, { retryAfterSeconds: r.retryAfterSeconds }));
  }

  /** The customer said or typed something: the idle countdown starts over. Written at most every few
   *  seconds (the alert may come that much early), so a chatty customer costs no extra write per message. */
  protected async customerActive(): Promise<void> {
    const m = this.meta();
    const now = Date.now();
    if (!idleRestartDue(m, now)) return;
    this.idleFrom(m, now);
    this.store.saveMeta(m);
    await this.schedule();
  }

  protected idleFrom(m: ChatMeta, now: number): void {
    m.lastCustomerAt = now;
    m.idleStage = 0;
    m.idleAt = null;
    // Filled in by schedule(), which knows the tenant's idle settings.
  }

  protected async depart(p: Participant, text: string): Promise<void> {
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

  protected async tellPosition(): Promise<void> {
    const before = this.meta();
    const cfg = await getConfig((await this.te()).DB, before.tenant);
    let queue = before.queue;
    let info: { position: number; agents: number; avgHandleMs: number | null } | null = null;
    // Nobody to tell (the widget is closed): skip this round; a reconnect gets the last known place.
    if (this.ctx.getWebSockets("customer").length > 0) {
      try {
        info = await queueStub(await this.te(), before.tenant, queue).waitInfo(before.interactionId);
        if (!info) {
          // The interaction may have moved (a forward step, a supervisor's move): D1 knows its queue.
          const now = await interactionQueue((await this.te()).DB, before.tenant, before.interactionId);
          if (now && now !== queue) {
            queue = now;
            info = await queueStub(await this.te(), before.tenant, queue).waitInfo(before.interactionId);
          }
        }
      } catch (err) {
        console.error("queue position", err);
      }
    }
    const m = this.meta();
    if (m.status !== "waiting") return;
    m.positionAt = nextPositionAt(cfg.raw.chat?.positionEverySeconds ?? 30, Date.now());
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

  protected async idleTick(): Promise<void> {
    const idle = (await getConfig((await this.te()).DB, this.meta().tenant)).raw.chat?.idle;
    const m = this.meta();
    const step = idleStep(m, idle, Date.now());
    if (step.kind === "end") await this.end("system", "idle");
    else if (step.kind === "off") {
      m.idleAt = null;
      this.store.saveMeta(m);
    } else if (step.kind === "alert") {
      m.idleStage = 1;
      m.idleAt = step.closeAt;
      this.store.saveMeta(m);
      this.notice(step.text, "all", Date.now());
    }
  }

  /** Step 10 and 11: the transcript into the history, then the mail if asked for; retried by the alarm. */
  protected async finish(): Promise<MailOutcome | null> {
    const m = this.meta();
    let out: MailOutcome | null = null;
    const done: Partial<ChatMeta> = {};
    let failed = false;
    try {
      if (m.abandonPending) done.abandonPending = !(await this.abandonInQueue(m));
      if (m.sms && !m.sms.closed) {
        // The pair's next SMS starts a new session.
        await sessionEnd((await this.te()).DB, m.tenant, m.interactionId, m.endedAt ?? Date.now()).run();
        done.sms = { ...m.sms, closed: true };
      }
      if (m.social && !m.social.closed) {
        // The customer's next message opens a new conversation in the same thread.
        await threadEnd((await this.te()).DB, m.tenant, m.interactionId, m.endedAt ?? Date.now()).run();
        done.social = { ...m.social, closed: true };
      }
      // A social conversation is kept in the provider's order (a late message where it belongs).
      const messages = m.social ? this.store.all().sort((a, b) => a.at - b.at || a.seq - b.seq) : this.store.all();
      if (!m.transcriptWritten) {
        await writeTranscript((await this.te()).DB, m, messages);
        done.transcriptWritten = true;
      }
      if (m.transcriptTo && !m.transcriptMailed) {
        out = await mailTranscript(await this.te(), m, messages);
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
    Object.assign(now, finishRetry(now.retries, failed, finishPending(now), Date.now()));
    this.store.saveMeta(now);
    await this.schedule();
    return out;
  }

  /** A chat that ended before an agent took it leaves its queue as abandoned. An offer in flight
   *  settles within moments (accepted, or back to waiting), so that answer is retried by the alarm. */
  protected async abandonInQueue(m: ChatMeta): Promise<boolean> {
    const queue = (await interactionQueue((await this.te()).DB, m.tenant, m.interactionId)) ?? m.queue;
    const r = await queueStub(await this.te(), m.tenant, queue).stop(m.interactionId, "customer", { abandoned: true, reason: "the customer left the chat" });
    if (r.ok) return true;
    if (r.error.code === "being_routed") return false;
    // Not in the queue any more: an agent took it after all, and is told the chat ended.
    console.warn(`chat ${m.interactionId}: not stopped in its queue: ${r.error.message}`);
    return true;
  }

  protected async schedule(): Promise<void> {
    const first = this.store.meta();
    if (!first) return;
    const idle = first.status === "active" && first.idleAt === null && !first.sms && !first.social ? (await getConfig((await this.te()).DB, first.tenant)).raw.chat?.idle : undefined;
    const m = this.store.meta()!;
    const alertAt = idleAlertAt(m, idle);
    if (alertAt !== null) {
      m.idleAt = alertAt;
      this.store.saveMeta(m);
    }
    const staff = this.ctx.getWebSockets().flatMap((ws) => {
      const held = this.tagOf(ws)?.staff;
      return held && ws.readyState === WebSocket.OPEN ? [held.expiresAt] : [];
    });
    const at = nextChatAlarm(m, staff, REVOCATION_CHECK_MS, Date.now());
    if (at !== null) await this.timer.arm(at);
  }

  protected stateOf(): ChatState {
    const m = this.meta();
    const social = this.socialState();
    return { interactionId: m.interactionId, ...(social ? { social } : {}), status: m.status, position: m.position, ewtSeconds: m.ewtSeconds, participants: this.store.participants(), last: this.store.lastSeq(), endReason: m.endReason };
  }

  protected notice(text: string, visibility: Visibility, at: number): void {
    const { file: _none, extra: _no, ...message } = this.store.insert({ clientId: null, from: "system", name: "", role: "system", kind: "notice", text, visibility, at, file: null })!;
    this.broadcast({ type: "msg", message }, (t) => canSee(t.role, visibility));
  }

  protected async view(s: StoredMessage): Promise<ChatMessage> {
    const { file, extra, ...plain } = s;
    const rest: ChatMessage = extra ? { ...plain, extra } : plain;
    if (!file) return rest;
    const m = this.meta();
    const url = await signPath(this.env.AUTH_SECRET, `/api/v1/chat/files/${m.tenant}/${m.interactionId}/${file.key.slice(file.key.lastIndexOf("/") + 1)}`);
    return { ...rest, file: { name: s.text, type: file.type, size: file.size, url } };
  }

  protected async replay(ws: WebSocket, tag: SocketTag, after: number): Promise<void> {
    let from = after;
    for (;;) {
      const rows = this.store.after(from, PAGE);
      for (const r of rows) if (canSee(tag.role, r.visibility)) this.sendTo(ws, { type: "msg", message: await this.view(r) });
      if (rows.length < PAGE) return;
      from = rows.at(-1)!.seq;
    }
  }

  protected broadcast(frame: ChatFrame, to: (t: SocketTag) => boolean = () => true): void {
    const data = JSON.stringify(frame);
    for (const ws of this.ctx.getWebSockets()) {
      const t = this.tagOf(ws);
      if (t && to(t)) this.sendRaw(ws, data);
    }
  }

  /** Closes a staff socket whose token has lapsed or been revoked; says whether it did. */
  protected async dropIfRevoked(ws: WebSocket, staff: Held, now: number): Promise<boolean> {
    const tenant = this.store.meta()?.tenant;
    if (!tenant) return false;
    const refused = await checkHeld((await this.te()).DB, tenant, staff, now);
    if (!refused) return false;
    this.sendTo(ws, { type: "error", error: { code: refused.code, message: refused.message } });
    try {
      ws.close(CLOSE_REVOKED, refused.message);
    } catch {
      // already closing
    }
    return true;
  }

  /** A socket's participant: from memory, or from its attachment after the object woke. */
  protected tagOf(ws: WebSocket): SocketTag | null {
    let t = this.tags.get(ws);
    if (!t) {
      t = (ws.deserializeAttachment() as SocketTag | null) ?? undefined;
      if (t) this.tags.set(ws, t);
    }
    return t ?? null;
  }

  protected sendTo(ws: WebSocket, frame: ChatFrame): void {
    this.sendRaw(ws, JSON.stringify(frame));
  }

  protected sendRaw(ws: WebSocket, data: string): void {
    try {
      ws.send(data);
    } catch {
      // a socket closing under us; its client resumes from its last sequence
    }
  }
}
