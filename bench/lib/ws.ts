// A small WebSocket client that can set Origin (Node's global WebSocket cannot): `ws`, which wrangler's
// miniflare brings along (no types installed, hence the few declared here). Frames in are counted by type.
import type { IncomingMessage } from "node:http";
import { createRequire } from "node:module";

export interface WsLike {
  readonly readyState: number;
  send(data: string | Buffer, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: "open", fn: () => void): this;
  on(event: "message", fn: (data: Buffer) => void): this;
  on(event: "close", fn: (code: number, reason: Buffer) => void): this;
  on(event: "error", fn: (err: Error) => void): this;
  on(event: "unexpected-response", fn: (req: unknown, res: IncomingMessage) => void): this;
}
export const WebSocketClient = createRequire(import.meta.url)("ws") as {
  new (url: string, o: { headers?: Record<string, string>; perMessageDeflate?: boolean; handshakeTimeout?: number; maxPayload?: number }): WsLike;
  readonly OPEN: number;
};

export interface Socket {
  /** Frames received, by their `type`. */
  frames: Record<string, number>;
  /** The last few `error` frames. */
  errors: unknown[];
  closed: string | null;
  readonly open: boolean;
  send(data: string | Buffer): Promise<void>;
  close(): void;
  /** Resolves when a frame satisfies `pred` (false after `ms`, or once the socket closes). */
  waitFor(pred: (f: Record<string, unknown>) => boolean, ms: number): Promise<boolean>;
}

/** Opens a socket to 127.0.0.1 only; resolves once open. */
export function openSocket(url: string, headers: Record<string, string>, timeoutMs = 15_000): Promise<Socket> {
  if (new URL(url).hostname !== "127.0.0.1") return Promise.reject(new Error("127.0.0.1 only"));
  return new Promise((resolve, reject) => {
    const ws = new WebSocketClient(url, { headers, perMessageDeflate: false, handshakeTimeout: timeoutMs, maxPayload: 64 * 1024 * 1024 });
    const waiters = new Set<{ pred: (f: Record<string, unknown>) => boolean; done: (ok: boolean) => void }>();
    const s: Socket = {
      frames: {},
      errors: [],
      closed: null,
      get open() {
        return s.closed === null && ws.readyState === WebSocketClient.OPEN;
      },
      send: (data) => new Promise((res) => ws.send(data, () => res())),
      close: () => ws.terminate(),
      waitFor: (pred, ms) =>
        new Promise((res) => {
          const w = { pred, done: (ok: boolean) => (clearTimeout(t), waiters.delete(w), res(ok)) };
          const t = setTimeout(() => w.done(false), ms);
          waiters.add(w);
        }),
    };
    ws.on("message", (data) => {
      let f: Record<string, unknown>;
      try {
        f = JSON.parse(data.toString("utf8")) as Record<string, unknown>;
      } catch {
        f = { type: "(not json)" };
      }
      const type = typeof f.type === "string" ? f.type : "(no type)";
      s.frames[type] = (s.frames[type] ?? 0) + 1;
      if (type === "error" && s.errors.push(f) > 5) s.errors.shift();
      for (const w of [...waiters]) if (w.pred(f)) w.done(true);
    });
    ws.on("close", (code, reason) => {
      s.closed = `${code} ${reason.toString("utf8")}`.trim();
      // Nothing more will come.
      for (const w of [...waiters]) w.done(false);
    });
    let settled = false;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      ws.terminate();
      reject(e);
    };
    ws.on("error", (e) => fail(new Error(`WebSocket error: ${e.message}`)));
    ws.on("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (b: Buffer) => chunks.push(b));
      res.on("end", () => fail(new Error(`refused: ${res.statusCode} ${Buffer.concat(chunks).toString("utf8").slice(0, 200)}`)));
    });
    ws.on("open", () => {
      settled = true;
      resolve(s);
    });
  });
}
