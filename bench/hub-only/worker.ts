// The social bench's baseline: HTTP → Worker → the X-Hub-Signature-256 check (HMAC-SHA256 of the raw
// body with the app secret), one D1 write (the message id, once) and a reply to POST
// /api/v1/social/whatsapp. No Parley logic: the floor Parley's inbound rate is read against.
// The little of D1 used here (this file is type-checked with Node's types, not the Workers').
interface Statement {
  bind(...values: unknown[]): Statement;
  run(): Promise<unknown>;
}
interface Env {
  DB: { prepare(sql: string): Statement };
}

const SECRET = "bench-app-secret-not-for-production";
const enc = new TextEncoder();
let key: Promise<CryptoKey> | undefined;
let table: Promise<unknown> | undefined;

const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === "/api/health") return new Response("ok");
    if (pathname !== "/api/v1/social/whatsapp" || request.method !== "POST") return new Response("not found", { status: 404 });
    const raw = new Uint8Array(await request.arrayBuffer());
    key ??= crypto.subtle.importKey("raw", enc.encode(SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const sig = `sha256=${hex(await crypto.subtle.sign("HMAC", await key, raw))}`;
    if (sig !== request.headers.get("X-Hub-Signature-256")) return Response.json({ error: "invalid_signature" }, { status: 403 });
    const id = /"id"\s*:\s*"(wamid\.[^"]+)"/.exec(new TextDecoder().decode(raw))?.[1] ?? "none";
    table ??= env.DB.prepare("CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, at INTEGER NOT NULL)").run();
    await table;
    await env.DB.prepare("INSERT INTO seen (id, at) VALUES (?, ?) ON CONFLICT DO NOTHING").bind(id, Date.now()).run();
    return Response.json({ received: 1 });
  },
};
