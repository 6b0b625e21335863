// The operator's session: the platform secret is traded for an operator token (8 hours) and only the
// token is kept, in this tab's sessionStorage (closing the tab signs out). Every call goes through the
// shared request(), so refusals arrive as ApiError with the server's own words; a 401 signs out.
import { ApiError, request } from "../shared/api.ts";

export interface OperatorSession {
  token: string;
  expiresAt: number;
  name: string;
}

const KEY = "parley.platform.session";

function read(): OperatorSession | null {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) ?? "null") as OperatorSession | null;
    return s && typeof s.token === "string" && s.expiresAt > Date.now() ? s : null;
  } catch {
    return null;
  }
}

export class Operator {
  session: OperatorSession | null = read();
  onExpired: () => void = () => {};

  async signIn(secret: string, name: string): Promise<OperatorSession> {
    const r = await request<{ token: string; expiresAt: number }>(null, "POST", "/api/platform/v1/session", name ? { secret, name } : { secret });
    this.session = { token: r.token, expiresAt: r.expiresAt, name: name || "operator" };
    sessionStorage.setItem(KEY, JSON.stringify(this.session));
    return this.session;
  }

  signOut(): void {
    this.session = null;
    sessionStorage.removeItem(KEY);
  }

  private expired(): ApiError {
    this.signOut();
    this.onExpired();
    return new ApiError(401, "token_expired", "your operator session expired; sign in again");
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const s = this.session;
    if (!s || s.expiresAt <= Date.now()) throw this.expired();
    try {
      return await request<T>(s.token, method, path, body);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        this.signOut();
        this.onExpired();
      }
      throw e;
    }
  }
}

/** A tenant's path under the platform API. */
export const tenantPath = (id: string, rest = ""): string => `/api/platform/v1/tenants/${encodeURIComponent(id)}${rest}`;
