// Test helpers: a fresh tenant per test (unique ids keep tests apart), calls through the Worker.
import { env, exports } from "cloudflare:workers";
import type { TenantConfigInput } from "../workers/config/schema.ts";
import { issueToken } from "../workers/auth/tokens.ts";
import { createTenant } from "../workers/config/tenants.ts";
import { setTenantSecret } from "../workers/secrets/store.ts";
import { registerTenant } from "../workers/platform/provision.ts";
import { tenantEnv, type TenantEnv } from "../workers/tenancy/tenant-env.ts";

/** Where test tenants live: the second shard, so code that reaches for the first one by mistake fails. */
export const TEST_SHARD = "SHARD_1";
/** The test tenants' shard, for reading their rows directly. */
export const testDb = (): D1Database => env.SHARD_1;
/** A tenant's env (its shard, bucket and objects), as a door resolves it. */
export const tenv = (tenantId: string): Promise<TenantEnv> => tenantEnv(env, tenantId, { allowSuspended: true, noHold: true });

let n = 0;
export const uniq = (p: string) => `${p}-${Date.now().toString(36)}-${(n++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** Every test agent's password: strong enough for the password rule (item 5 of issue 12). */
export const PASSWORD = "Lamp-Harbor-Violet-93";

export interface AgentSpec {
  id: string;
  skills?: Record<string, number>;
  capacity?: Partial<Record<"email" | "chat" | "sms" | "generic", number>>;
  role?: "agent" | "supervisor" | "admin";
  maxTotal?: number;
}

export function baseConfig(tenantId: string, agents: AgentSpec[], queues?: TenantConfigInput["queues"], extra: Partial<TenantConfigInput> = {}): TenantConfigInput {
  return {
    tenant: { id: tenantId, name: `Test ${tenantId}` },
    skills: ["billing", "tech", "spanish", "vip"],
    agents: agents.map((a) => ({
      id: a.id, login: a.id, fullName: `Agent ${a.id}`, role: a.role ?? "agent", password: PASSWORD,
      skills: a.skills ?? {}, capacity: a.capacity ?? { email: 1 }, maxTotal: a.maxTotal,
    })),
    queues: queues ?? [{ name: "inbound", media: ["email", "chat", "sms", "generic"], steps: [{ type: "route", targets: [{ skills: "*" }] }] }],
    workflows: [{ name: "main", queue: (queues ?? [{ name: "inbound" }])[0]!.name }],
    ...extra,
  };
}

export interface Tenant {
  id: string;
  /** The tenant's ingest key (write: interactions, mail, SMS). */
  key: string;
  /** The tenant's read key (history, messages, attachments, the outbox). */
  readKey: string;
  tokens: Record<string, string>;
  api: (path: string, init?: RequestInit & { as?: string; json?: unknown }) => Promise<Response>;
  call: <T = Record<string, unknown>>(path: string, init?: RequestInit & { as?: string; json?: unknown; expect?: number }) => Promise<T>;
}

/** Sets one of a tenant's own secrets (as PUT /api/v1/admin/secrets/{name} does): sealed in D1. */
export const setSecret = async (tenantId: string, name: string, value: string) => setTenantSecret(await tenv(tenantId), tenantId, name, value);

/** A fresh tenant. `secrets` are set before its config is stored, since a config may name only secrets that are set. */
export async function makeTenant(agents: AgentSpec[], queues?: TenantConfigInput["queues"], extra: Partial<TenantConfigInput> = {}, opts: { secrets?: Record<string, string> } = {}): Promise<Tenant> {
  const id = uniq("t");
  const te = await registerTenant(env, { id, name: `Test ${id}`, shard: TEST_SHARD }, "test");
  for (const [name, value] of Object.entries(opts.secrets ?? {})) await setTenantSecret(te, id, name, value);
  const { config: cfg, keys } = await createTenant(te.DB, baseConfig(id, agents, queues, extra), { ingest: `key-${id}`, read: `read-${id}` }, { devOutboundHost: env.DEV_OUTBOUND_HOST });
  const key = keys.ingest;
  // A system holding both keys: reads (GET) go with the read key, everything else with the ingest key.
  const tokens: Record<string, string> = {};
  for (const a of cfg.agents) tokens[a.id] = (await issueToken(env.AUTH_SECRET, { tenant: id, agentId: a.id, role: a.role }, 3600)).token;
  const api = (path: string, init: RequestInit & { as?: string; json?: unknown } = {}) => {
    const headers = new Headers(init.headers);
    const asKey = (init.method ?? "GET").toUpperCase() === "GET" ? keys.read : key;
    if (!headers.has("Authorization")) headers.set("Authorization", `Bearer ${init.as === undefined ? asKey : init.as === "" ? "" : tokens[init.as]}`);
    if (init.json !== undefined) headers.set("Content-Type", "application/json");
    return exports.default.fetch(new Request(`http://parley.test${path}`, { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body }));
  };
  const call = async <T,>(path: string, init: RequestInit & { as?: string; json?: unknown; expect?: number } = {}): Promise<T> => {
    const res = await api(path, init);
    const body = (await res.json()) as T;
    const want = init.expect ?? (res.status >= 200 && res.status < 300 ? res.status : 200);
    if (res.status !== want) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${JSON.stringify(body)}`);
    return body;
  };
  return { id, key, readKey: keys.read, tokens, api, call };
}

export async function submit(t: Tenant, body: Record<string, unknown>): Promise<string> {
  const r = await t.call<{ id: string }>("/api/v1/interactions", { method: "POST", json: { media: "email", queue: "inbound", ...body } });
  return r.id;
}

export const post = (t: Tenant, path: string, as: string, json: unknown = {}) => t.call(path, { method: "POST", as, json });

/** Polls until `fn` returns a truthy value (objects route asynchronously). */
export async function until<T>(fn: () => Promise<T | undefined | null | false>, what: string, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface WorkView {
  interactionId: string;
  queue: string;
  state: string;
  reason: { why?: string; competing?: { agentId: string }[] } | null;
}
export interface Me {
  presence: string;
  offers: WorkView[];
  work: WorkView[];
  workbin: number;
  snapshot: { load: Record<string, number>; idleSince: number };
}

export const me = (t: Tenant, agent: string) => t.call<Me>("/api/v1/me", { as: agent });
export const ready = (t: Tenant, agent: string) => post(t, "/api/v1/me/login", agent, { ready: true });

/** Waits until the agent has an offer (of `id`, when given) and returns it. */
export async function offerFor(t: Tenant, agent: string, id?: string): Promise<WorkView> {
  return until(async () => (await me(t, agent)).offers.find((o) => id === undefined || o.interactionId === id), `an offer${id ? ` of ${id}` : ""} to ${agent}`);
}

export interface Interaction {
  state: string;
  queue: string | null;
  agentId: string | null;
  workbin: string | null;
  priority: number;
  contactId: string | null;
  threadId: string;
  history: { action: string; actor: string; from: string | null; to: string | null; agentId: string | null; queue: string | null; reason: any }[];
}
export const interaction = (t: Tenant, id: string) => t.call<Interaction>(`/api/v1/interactions/${id}`);

/** Waits until D1 shows the interaction in this state (history writes are asynchronous). */
export const stateIs = (t: Tenant, id: string, state: string, extra: (i: Interaction) => boolean = () => true) =>
  until(async () => {
    const i = await interaction(t, id);
    return i.state === state && extra(i) ? i : null;
  }, `${id} to be ${state}`);

export async function queueItems(t: Tenant, queue: string, as: string) {
  return (await t.call<{ items: { id: string; state: string; effectivePriority: number; pinnedAgent: string | null }[] }>(`/api/v1/queues/${queue}/interactions`, { as })).items;
}

/** A WebSocket upgrade the server refused, as a browser sees it: the socket opens, carries one error
 *  frame and closes with 4000 + the status. Answers that status and the frame's error. */
export async function upgradeRefusal(res: Response): Promise<{ status: number; error: { code: string; message: string } }> {
  if (res.status !== 101 || !res.webSocket) throw new Error(`expected a refused upgrade as a socket, got HTTP ${res.status}`);
  const ws = res.webSocket;
  const frames: string[] = [];
  let code: number | null = null;
  ws.addEventListener("message", (e) => frames.push(e.data as string));
  ws.addEventListener("close", (e) => (code = e.code));
  ws.accept();
  const closed = await until(async () => (code === null ? null : code), "the refused socket's close");
  const frame = JSON.parse(frames[0] ?? "null") as { type: string; error: { code: string; message: string } } | null;
  if (!frame || frame.type !== "error") throw new Error(`expected an error frame first, got ${frames[0]}`);
  return { status: closed - 4000, error: frame.error };
}
