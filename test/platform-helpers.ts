// The platform operator's API from a test: the test pool's PLATFORM_SECRET (vitest.config.ts).
import { exports } from "cloudflare:workers";

export const PLATFORM_SECRET = "test-platform-secret-0123456789abcdef0123456789";

export function platform(path: string, init: RequestInit & { json?: unknown; as?: string | null } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const as = init.as === undefined ? PLATFORM_SECRET : init.as;
  if (as !== null) headers.set("Authorization", `Bearer ${as}`);
  if (init.json !== undefined) headers.set("Content-Type", "application/json");
  return exports.default.fetch(new Request(`http://parley.test${path}`, { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body }));
}

export interface Created {
  tenant: { id: string; shard: string; jurisdiction: string; status: string };
  keys: { ingest: string; read: string };
  admin: { login: string; password: string };
  signIn: string;
}

/** Creates a tenant through the API; throws with the answer unless 201. */
export async function provision(body: Record<string, unknown>): Promise<Created> {
  const res = await platform("/api/platform/v1/tenants", { method: "POST", json: body });
  const out = (await res.json()) as Created;
  if (res.status !== 201) throw new Error(`provision: ${res.status} ${JSON.stringify(out)}`);
  return out;
}

/** A request to the public API with a bearer. */
export function call(path: string, bearer: string | null, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (bearer) headers.set("Authorization", `Bearer ${bearer}`);
  if (init.json !== undefined) headers.set("Content-Type", "application/json");
  return exports.default.fetch(new Request(`http://parley.test${path}`, { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body }));
}

export async function login(tenant: string, loginName: string, password: string): Promise<string> {
  const res = await call("/api/v1/auth/login", null, { method: "POST", json: { tenant, login: loginName, password } });
  const body = (await res.json()) as { token: string };
  if (res.status !== 200) throw new Error(`login: ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}
