// The chat bench's baseline: GET /relay/:name upgrades to the Durable Object named :name, which
// accepts the socket through the hibernation API and relays every frame it gets to the object's other
// sockets, as is. No parsing, no storage: what a chat costs at the least on the same stack (wrangler
// dev, workerd, a SQLite-backed object, hibernatable sockets). Pings are answered like Parley's
// ChatSession answers them, by the runtime's auto-response, without waking the object.
//
// bench/ is type-checked with Node's types (scripts/tsconfig.json), not the Workers types: the few
// runtime APIs used here are declared below instead of imported from cloudflare:workers.

interface Stub {
  fetch(request: Request): Promise<Response>;
}

interface Env {
  RELAY: { idFromName(name: string): unknown; get(id: unknown): Stub };
}

interface State {
  acceptWebSocket(ws: WebSocket, tags?: string[]): void;
  getWebSockets(tag?: string): WebSocket[];
  setWebSocketAutoResponse(pair: unknown): void;
}

declare const WebSocketPair: new () => { 0: WebSocket; 1: WebSocket };
declare const WebSocketRequestResponsePair: new (request: string, response: string) => unknown;

export class Relay {
  private readonly ctx: State;

  constructor(ctx: State) {
    this.ctx = ctx;
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return new Response("expected a WebSocket upgrade", { status: 426 });
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    return new Response(null, { status: 101, webSocket: pair[0] } as ResponseInit);
  }

  webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    for (const other of this.ctx.getWebSockets()) {
      if (other === ws) continue;
      try {
        other.send(message);
      } catch {
        // a socket closing under us
      }
    }
  }

  webSocketClose(ws: WebSocket, code: number): void {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "bye");
    } catch {
      // already closed
    }
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { pathname } = new URL(request.url);
    // What bench/lib/dev.ts waitUp polls.
    if (pathname === "/api/health") return new Response("ok");
    const m = /^\/relay\/([A-Za-z0-9_-]{1,64})$/.exec(pathname);
    if (!m || request.method !== "GET") return new Response("not found", { status: 404 });
    return env.RELAY.get(env.RELAY.idFromName(m[1]!)).fetch(request);
  },
};
