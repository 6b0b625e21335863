// Chat test helpers: a tenant with website chat, starting a chat as the widget does, and WebSocket
// clients (through the Worker, as a browser would connect) that collect their frames.
import { expect } from "vitest";
import { exports } from "cloudflare:workers";
import type { TenantConfigInput } from "../workers/config/schema.ts";
import { makeTenant, offerFor, post, ready, until, type AgentSpec, type Tenant } from "./helpers.ts";

export const SHOP = "https://shop.example";

export function chatTenant(agents: AgentSpec[] = [{ id: "ana", capacity: { chat: 3 } }, { id: "ben", capacity: { chat: 3 } }], chat: Partial<NonNullable<TenantConfigInput["chat"]>> = {}, extra: Partial<TenantConfigInput> = {}): Promise<Tenant> {
  return makeTenant(agents, undefined, {
    chat: { workflow: "main", allowedOrigins: [SHOP], greeting: "Welcome! An agent will be with you shortly.", positionEverySeconds: 30, ...chat },
    ...extra,
  });
}

export interface Started {
  chatId: string;
  interactionId: string;
  token: string;
}

export async function startChat(t: Tenant, body: Record<string, unknown> = {}, origin = SHOP): Promise<Started> {
  const res = await exports.default.fetch(
    new Request(`http://parley.test/api/v1/chat/${t.id}/sessions`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Origin: origin },
      body: JSON.stringify({ clientId: crypto.randomUUID(), name: "Kim Lee", ...body }),
    }),
  );
  const out = (await res.json()) as Started & { error?: unknown };
  if (res.status !== 201 && res.status !== 200) throw new Error(`start chat: ${res.status} ${JSON.stringify(out)}`);
  return out;
}

/** A chat session call as the customer (token) or as staff (their agent token). */
export function session(path: string, token: string, init: RequestInit & { json?: unknown; origin?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${token}`);
  if (init.origin !== undefined) headers.set("Origin", init.origin);
  if (init.json !== undefined) headers.set("Content-Type", "application/json");
  return exports.default.fetch(new Request(`http://parley.test/api/v1/chat/sessions/${path}`, { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body }));
}

export interface Frame {
  type: string;
  /** On an error frame: what went wrong. */
  error?: { code: string; message: string };
  message?: { seq: number; clientId: string | null; from: string; name: string; role: string; kind: string; text: string; visibility: string; file?: { url: string; name: string; type: string; size: number } };
  [k: string]: unknown;
}

export class Client {
  readonly frames: Frame[] = [];
  closed = false;
  closeCode: number | null = null;
  readonly ws: WebSocket;

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.accept();
    ws.addEventListener("message", (e) => {
      this.frames.push(JSON.parse(e.data as string) as Frame);
    });
    ws.addEventListener("close", (e) => {
      this.closed = true;
      this.closeCode = e.code;
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Waits for a frame matching `pred` at or after index `from`. */
  next(pred: (f: Frame) => boolean, what: string, from = 0): Promise<Frame> {
    return until(async () => this.frames.slice(from).find(pred), what);
  }

  texts(): string[] {
    return this.messages().map((m) => m.text);
  }

  messages(): NonNullable<Frame["message"]>[] {
    const seen = new Set<number>();
    return this.frames.flatMap((f) => (f.type === "msg" && f.message && !seen.has(f.message.seq) && seen.add(f.message.seq) ? [f.message] : []));
  }

  close(): void {
    try {
      this.ws.close(1000, "test done");
    } catch {
      // already closed
    }
  }
}

/** Opens the chat's WebSocket through the Worker. A refusal answers its status and error, whether it
 *  came as JSON (a plain HTTP answer) or, as a browser sees it, as an accepted socket that sends the
 *  error frame and closes with 4000 + the status. */
export async function connect(chatId: string, token: string, opts: { after?: number; origin?: string } = {}): Promise<Client | { status: number; body: { error: { code: string; message: string } } }> {
  const headers = new Headers({ Upgrade: "websocket" });
  if (opts.origin !== undefined) headers.set("Origin", opts.origin);
  const res = await exports.default.fetch(new Request(`http://parley.test/api/v1/chat/sessions/${chatId}/ws?token=${encodeURIComponent(token)}&after=${opts.after ?? 0}`, { headers }));
  if (res.status !== 101 || !res.webSocket) return { status: res.status, body: (await res.json()) as { error: { code: string; message: string } } };
  const c = new Client(res.webSocket);
  const first = await c.next(() => true, "the socket's first frame");
  if (first.type !== "error") return c;
  await until(async () => c.closed || undefined, "the refused socket's close");
  expect(c.closeCode).toBeGreaterThanOrEqual(4400);
  return { status: c.closeCode! - 4000, body: { error: first.error! } };
}

export async function client(chatId: string, token: string, opts: { after?: number; origin?: string } = {}): Promise<Client> {
  const c = await connect(chatId, token, { origin: SHOP, ...opts });
  if (!(c instanceof Client)) throw new Error(`connect: ${c.status} ${JSON.stringify(c.body)}`);
  return c;
}

/** Logs the agent in, waits for the chat's offer and accepts it: the agent is then in the chat. */
export async function agentTakes(t: Tenant, agent: string, interactionId: string, alreadyReady = false): Promise<void> {
  if (!alreadyReady) await ready(t, agent);
  await offerFor(t, agent, interactionId);
  await post(t, `/api/v1/interactions/${interactionId}/accept`, agent);
}
