// The chat's transport: a WebSocket with resume, falling back to HTTP polling.
// Exactness: the highest seq seen is kept and sent as ?after= on every (re)connect; every outgoing
// message has a clientId and stays pending until its ack (or its own msg frame) and is resent with
// the same clientId after a drop; incoming messages are deduplicated by seq.
import { ApiError, call, uuid } from "./api.ts";
import type { ChatMessage, ChatStatus, Frame } from "./types.ts";

export type ConnState = "connecting" | "open" | "polling" | "down" | "offline";

export interface Handlers {
  message(m: ChatMessage): void;
  ack(clientId: string, seq: number): void;
  failed(clientId: string, code: string, message: string): void;
  frame(f: Frame): void; // hello, typing, read, queue, status, error (without a clientId)
  state(s: ConnState): void;
  /** The session is gone (token refused, chat unknown). */
  gone(): void;
  changed(): void; // lastSeq or pending changed: persist
}

const MAX_FRAME = 16 * 1024;
const PERMANENT = /^(empty_message|client_id_reused|frame_too_large|chat_ended|message_too_long|forbidden|invalid)/;

export class Connection {
  lastSeq: number;
  readonly pending: Map<string, string>;
  private readonly seen: Set<number>;
  private ws: WebSocket | undefined;
  private fails = 0;
  private openedAt = 0;
  private lastRecv = 0;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  private beat: ReturnType<typeof setInterval> | undefined;
  private polling = false;
  private polls = 0;
  private stopped = false;
  /** Messages the server refused as too fast, waiting to be sent again. */
  private readonly throttled = new Set<string>();
  private readonly inFlight = new Set<string>();
  private status = "";
  private readonly api: string;

  private readonly token: string;
  private readonly h: Handlers;

  constructor(base: string, chatId: string, token: string, lastSeq: number, pending: [string, string][], seen: number[], h: Handlers) {
    this.token = token;
    this.h = h;
    this.api = `${base}/api/v1/chat/sessions/${encodeURIComponent(chatId)}`;
    this.lastSeq = lastSeq;
    this.pending = new Map(pending);
    this.seen = new Set(seen);
  }

  start(): void {
    addEventListener("online", this.kick);
    addEventListener("offline", this.wentOffline);
    document.addEventListener("visibilitychange", this.kick);
    this.beat = setInterval(this.heartbeat, 25_000);
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.polling = false;
    clearTimeout(this.retry);
    clearTimeout(this.pollTimer);
    clearInterval(this.beat);
    removeEventListener("online", this.kick);
    removeEventListener("offline", this.wentOffline);
    document.removeEventListener("visibilitychange", this.kick);
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.onclose = null;
      ws.close(1000);
    }
  }

  get live(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Sends a message; it stays pending (and is resent) until the server has it. Returns its clientId. */
  send(text: string): string {
    const clientId = uuid();
    this.pending.set(clientId, text);
    this.h.changed();
    this.push(clientId, text);
    return clientId;
  }

  typing(on: boolean): void {
    this.signal({ type: "typing", on }, "/typing", { on });
  }

  read(seq: number): void {
    this.signal({ type: "read", seq }, "/read", { seq });
  }

  async end(): Promise<void> {
    if (this.live) this.ws!.send(JSON.stringify({ type: "end" }));
    else await call(`${this.api}/end`, { method: "POST", token: this.token, json: {} });
  }

  upload(file: File): Promise<unknown> {
    const q = `name=${encodeURIComponent(file.name)}&clientId=${uuid()}`;
    return call(`${this.api}/attachments?${q}`, { token: this.token, body: file, type: file.type || "application/octet-stream" });
  }

  transcript(email: string | undefined): Promise<unknown> {
    return call(`${this.api}/transcript`, { token: this.token, json: email ? { email } : {} });
  }

  // ---- the socket ----

  private readonly connect = (): void => {
    clearTimeout(this.retry);
    if (this.stopped || (this.ws && this.ws.readyState <= WebSocket.OPEN)) return;
    const u = new URL(`${this.api}/ws`);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    u.searchParams.set("token", this.token);
    u.searchParams.set("after", String(this.lastSeq));
    let ws: WebSocket;
    try {
      ws = new WebSocket(u.href);
    } catch {
      this.dropped();
      return;
    }
    this.ws = ws;
    if (!this.polling) this.h.state("connecting");
    ws.onopen = () => {
      this.openedAt = this.lastRecv = Date.now();
      this.stopPolling();
      this.h.state("open");
      for (const [clientId, text] of this.pending) this.push(clientId, text);
    };
    ws.onmessage = (e) => {
      this.lastRecv = Date.now();
      let f: Frame;
      try {
        f = JSON.parse(String(e.data)) as Frame;
      } catch {
        return;
      }
      this.onFrame(f);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      // A socket that lived a while was a success; one refused or cut at once counts as a failure in a row.
      this.fails = this.openedAt && Date.now() - this.openedAt > 10_000 ? 1 : this.fails + 1;
      this.openedAt = 0;
      this.dropped();
    };
  };

  private dropped(): void {
    if (this.stopped) return;
    clearTimeout(this.retry);
    // Offline, a failure is not the socket's fault: wait for the `online` event (or a slow retry).
    const offline = navigator.onLine === false;
    if (this.fails >= 3 && !offline) this.startPolling();
    if (!this.polling) this.h.state(offline ? "offline" : "down");
    const backoff = offline ? 15_000 : Math.min(15_000, 500 * 2 ** Math.max(0, this.fails - 1));
    this.retry = setTimeout(this.connect, backoff * (0.8 + Math.random() * 0.4));
  }

  /** Drops a socket we no longer trust, without waiting for its close handshake. */
  private kill(): void {
    const ws = this.ws;
    this.ws = undefined;
    this.openedAt = 0;
    if (ws) {
      ws.onclose = null;
      ws.close();
    }
  }

  /** Back online, or the tab is visible again: try now instead of waiting out the backoff. */
  private readonly kick = (): void => {
    if (this.stopped || document.visibilityState === "hidden") return;
    if (!this.ws) this.connect();
    if (this.polling) {
      clearTimeout(this.pollTimer);
      void this.poll();
    }
  };

  /** A socket that lived through a network change may be half-open: start over when back. */
  private readonly wentOffline = (): void => {
    if (this.stopped) return;
    this.kill();
    this.dropped();
  };

  /** A ping keeps proxies from closing an idle socket; silence for a minute means it is dead. */
  private readonly heartbeat = (): void => {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - this.lastRecv > 60_000) {
      this.kill();
      this.fails++;
      this.dropped();
    } else ws.send('{"type":"ping"}');
  };

  private onFrame(f: Frame): void {
    switch (f.type) {
      case "msg":
        this.take(f.message);
        return;
      case "ack":
        this.acked(f.clientId, f.seq);
        return;
      case "hello":
        this.fails = 0;
        break;
      case "status":
        this.status = f.status;
        break;
      case "error":
        if (f.clientId && this.pending.has(f.clientId)) {
          // Sent too fast: the server asks us to wait; the message stays pending and goes again then.
          if (f.error.code === "rate_limited") return this.later(f.clientId, f.retryAfterSeconds);
          if (PERMANENT.test(f.error.code)) {
            this.pending.delete(f.clientId);
            this.h.changed();
            this.h.failed(f.clientId, f.error.code, f.error.message || f.error.code);
          }
          return;
        }
        break;
      case "pong":
        return;
    }
    this.h.frame(f);
  }

  /** A message from any path (socket, poll, an upload's answer): deduplicated by seq. */
  take(m: ChatMessage | undefined): void {
    if (!m || typeof m.seq !== "number") return;
    if (m.clientId && this.pending.delete(m.clientId)) this.h.ack(m.clientId, m.seq);
    if (this.seen.has(m.seq)) return;
    this.seen.add(m.seq);
    if (m.seq > this.lastSeq) this.lastSeq = m.seq;
    this.h.message(m);
    this.h.changed();
  }

  private acked(clientId: string, seq: number): void {
    if (this.pending.delete(clientId)) this.h.changed();
    this.h.ack(clientId, seq);
  }

  private later(clientId: string, seconds: number | undefined): void {
    this.throttled.add(clientId);
    setTimeout(() => {
      this.throttled.delete(clientId);
      const text = this.pending.get(clientId);
      if (text !== undefined && !this.stopped) this.push(clientId, text);
    }, Math.min(Math.max(seconds ?? 1, 1), 60) * 1000);
  }

  private push(clientId: string, text: string): void {
    const frame = JSON.stringify({ type: "msg", clientId, text });
    // A long message of wide characters can pass the frame limit: it goes over HTTP instead.
    const ws = this.ws;
    if (ws && this.live && new TextEncoder().encode(frame).length < MAX_FRAME) {
      ws.send(frame);
      // No ack in 10 s on a socket that says it is open: it is dead; reconnect and resend.
      setTimeout(() => {
        if (this.ws === ws && this.pending.has(clientId) && !this.throttled.has(clientId) && !this.stopped) {
          this.kill();
          this.fails++;
          this.dropped();
        }
      }, 10_000);
    } else if (this.polling || this.live) void this.post(clientId, text);
  }

  private async post(clientId: string, text: string): Promise<void> {
    if (this.inFlight.has(clientId)) return;
    this.inFlight.add(clientId);
    try {
      const r = await call<{ message: ChatMessage }>(`${this.api}/messages`, { token: this.token, json: { clientId, text } });
      this.acked(clientId, r.message.seq);
      this.take(r.message);
    } catch (e) {
      const err = e as ApiError;
      if (err.status === 401 || err.status === 403 || err.status === 404) this.lost();
      else if (err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429 && this.pending.delete(clientId)) {
        this.h.changed();
        this.h.failed(clientId, err.code, err.message || err.code);
      }
      // otherwise it stays pending: the next poll or connect resends it
    } finally {
      this.inFlight.delete(clientId);
    }
  }

  private signal(frame: object, path: string, body: object): void {
    if (this.live) this.ws!.send(JSON.stringify(frame));
    else if (this.polling) void call(`${this.api}${path}`, { token: this.token, json: body }).catch(() => {});
  }

  // ---- the HTTP fallback ----

  private startPolling(): void {
    if (this.polling || this.stopped) return;
    this.polling = true;
    this.h.state("polling");
    void this.poll();
  }

  private stopPolling(): void {
    this.polling = false;
    clearTimeout(this.pollTimer);
  }

  private readonly poll = async (): Promise<void> => {
    if (!this.polling || this.stopped) return;
    try {
      for (let more = true, n = 0; more && n < 20; n++) {
        const r = await call<{ messages: ChatMessage[]; more?: boolean; last?: number; status?: ChatStatus }>(`${this.api}/messages?after=${this.lastSeq}`, { token: this.token });
        for (const m of r.messages ?? []) this.take(m);
        // `last` passes messages this customer may not see, so a page of them cannot stall the cursor.
        if (typeof r.last === "number" && r.last > this.lastSeq) {
          this.lastSeq = r.last;
          this.h.changed();
        }
        more = !!r.more;
        if (r.status && r.status !== this.status) {
          this.status = r.status;
          this.h.frame({ type: "status", status: r.status });
        }
      }
      for (const [clientId, text] of this.pending) void this.post(clientId, text);
      if (this.status === "waiting" && this.polls++ % 5 === 0) {
        const s = await call<{ position?: number | null; ewtSeconds?: number | null }>(this.api, { token: this.token });
        this.h.frame({ type: "queue", position: s.position ?? null, ewtSeconds: s.ewtSeconds ?? null });
      }
    } catch (e) {
      const status = (e as ApiError).status;
      if (status === 401 || status === 403 || status === 404) return this.lost();
    }
    if (this.polling && !this.stopped && this.status !== "ended") this.pollTimer = setTimeout(this.poll, 2000);
  };

  private lost(): void {
    if (this.stopped) return;
    this.stop();
    this.h.gone();
  }
}
