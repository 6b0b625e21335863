// A WebSocket that stays up: reconnects with backoff after a drop, a sleep or a network change,
// and notices a dead connection (no pong within 10 s of a ping) that the browser has not noticed.
// Each (re)connection calls onOpen, so the app can re-read its state and show it intact.

export type SocketState = "connecting" | "open" | "down";

export interface LiveSocketOptions {
  url: () => string;
  onMessage: (msg: Record<string, unknown>) => void;
  onOpen?: () => void;
  onState?: (s: SocketState) => void;
  pingMs?: number;
}

export class LiveSocket {
  private ws: WebSocket | null = null;
  private tries = 0;
  private closed = false;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private pinger: ReturnType<typeof setInterval> | null = null;
  private lastPong = Date.now();
  state: SocketState = "connecting";
  private readonly opts: LiveSocketOptions;

  constructor(opts: LiveSocketOptions) {
    this.opts = opts;
    addEventListener("online", this.kick);
    addEventListener("offline", this.drop);
    document.addEventListener("visibilitychange", this.onVisible);
    this.connect();
  }

  private readonly kick = () => {
    if (this.closed) return;
    if (this.state !== "open") this.connectNow();
    else this.ping();
  };

  /** The browser says the network is gone: show it at once rather than at the next missed pong. */
  private readonly drop = () => {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    ws.close();
    this.set("down");
    this.schedule();
  };

  private readonly onVisible = () => {
    if (document.visibilityState === "visible") this.kick();
  };

  private set(s: SocketState) {
    this.state = s;
    this.opts.onState?.(s);
  }

  private connectNow() {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.tries = 0;
    this.connect();
  }

  private connect() {
    if (this.closed) return;
    this.ws?.close();
    this.set("connecting");
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.opts.url());
    } catch {
      this.schedule();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.tries = 0;
      this.lastPong = Date.now();
      this.set("open");
      this.opts.onOpen?.();
    };
    ws.onmessage = (e) => {
      if (this.ws !== ws) return;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(String(e.data)) as Record<string, unknown>;
      } catch {
        return;
      }
      if (msg.type === "pong") this.lastPong = Date.now();
      else this.opts.onMessage(msg);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.set("down");
      this.schedule();
    };
    if (!this.pinger) this.pinger = setInterval(() => this.ping(), this.opts.pingMs ?? 20_000);
  }

  private ping() {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const sent = Date.now();
    ws.send(JSON.stringify({ type: "ping" }));
    setTimeout(() => {
      // No answer since the ping: the connection is dead even if the browser thinks not. Its close
      // handshake may never finish, so it is let go now rather than on its close event.
      if (this.ws === ws && this.lastPong < sent) this.drop();
    }, 10_000);
  }

  private schedule() {
    if (this.closed || this.retry) return;
    const delay = Math.min(15_000, 500 * 2 ** this.tries++) * (0.75 + Math.random() / 2);
    this.retry = setTimeout(() => {
      this.retry = null;
      this.connect();
    }, delay);
  }

  send(msg: unknown): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  close() {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    if (this.pinger) clearInterval(this.pinger);
    removeEventListener("online", this.kick);
    removeEventListener("offline", this.drop);
    document.removeEventListener("visibilitychange", this.onVisible);
    this.ws?.close();
  }
}
