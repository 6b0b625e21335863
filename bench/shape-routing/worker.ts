// The routing bench's same-shape baseline: what routing one interaction costs the platform, with no
// Parley logic. POST /submit {id, a, b} → the Worker writes one D1 row → RPC to the object named `a`
// (a queue's place) → that object's RPC to the object named `b` (an agent's place) → b sends an offer
// frame on every WebSocket held open to it. The answer (201) comes back once b has
// pushed (Parley's, too, comes after its offer). GET /ws/:name opens the socket to an
// object (accepted with the hibernation API; a {"type":"hello"} frame says it is in place).
// The frame has the outline of Parley's offer, {"type":"offer","offer":{"interactionId"}}, without
// its content, so bench/routing.ts reads both with the same code.
//
// One class for both ends, SQLite-backed like Parley's objects (storage unused: nothing is stored in
// the objects). The D1 table is created once per isolate (CREATE TABLE IF NOT EXISTS).
//
// bench/ is type-checked with Node's types (scripts/tsconfig.json): the runtime APIs used here are
// declared below and in bench/lib/cloudflare-workers.d.ts instead of taken from the Workers types.
import { DurableObject } from "cloudflare:workers";

interface Statement {
  bind(...values: unknown[]): Statement;
  run(): Promise<unknown>;
}

interface HopStub {
  route(id: string, b: string): Promise<number>;
  offer(id: string): Promise<number>;
  fetch(request: Request): Promise<Response>;
}

interface Env {
  DB: { prepare(sql: string): Statement };
  HOP: { idFromName(name: string): unknown; get(id: unknown): HopStub };
}

declare const WebSocketPair: new () => { 0: WebSocket; 1: WebSocket };

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

export class Hop extends DurableObject<Env> {
  /** As object A: hands the interaction to object B; the number of sockets B pushed it on. */
  async route(id: string, b: string): Promise<number> {
    return this.env.HOP.get(this.env.HOP.idFromName(b)).offer(id);
  }

  /** As object B: the offer pushed on every socket held open to this object. */
  offer(id: string): number {
    const frame = JSON.stringify({ type: "offer", offer: { interactionId: id } });
    let pushed = 0;
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(frame);
        pushed++;
      } catch {
        // a socket closing under us
      }
    }
    return pushed;
  }

  async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return new Response("expected a WebSocket upgrade", { status: 426 });
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    pair[1].send('{"type":"hello"}');
    return new Response(null, { status: 101, webSocket: pair[0] } as ResponseInit);
  }

  webSocketMessage(): void {
    // the bench sends nothing
  }

  webSocketClose(ws: WebSocket, code: number): void {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "bye");
    } catch {
      // already closed
    }
  }
}

/** Set once this isolate has created the table. Not a shared promise: workerd refuses I/O awaited
 *  across requests, so the first requests each run the (idempotent) CREATE until one has finished. */
let tableReady = false;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { pathname } = new URL(request.url);
    // What bench/lib/dev.ts waitUp polls.
    if (pathname === "/api/health") return new Response("ok");
    const ws = /^\/ws\/([A-Za-z0-9_-]{1,64})$/.exec(pathname);
    if (ws && request.method === "GET") return env.HOP.get(env.HOP.idFromName(ws[1]!)).fetch(request);
    if (pathname !== "/submit" || request.method !== "POST") return new Response("not found", { status: 404 });
    const { id, a, b } = (await request.json()) as { id?: unknown; a?: unknown; b?: unknown };
    if (typeof id !== "string" || typeof a !== "string" || typeof b !== "string" || !NAME.test(a) || !NAME.test(b)) return Response.json({ error: "bad_request" }, { status: 400 });
    if (!tableReady) {
      await env.DB.prepare("CREATE TABLE IF NOT EXISTS interactions (id TEXT PRIMARY KEY, queue TEXT NOT NULL, agent TEXT NOT NULL, at INTEGER NOT NULL)").run();
      tableReady = true;
    }
    await env.DB.prepare("INSERT INTO interactions (id, queue, agent, at) VALUES (?, ?, ?, ?)").bind(id, a, b, Date.now()).run();
    const pushed = await env.HOP.get(env.HOP.idFromName(a)).route(id, b);
    return Response.json({ id, pushed }, { status: 201 });
  },
};
