// The browser side of the API: one fetch wrapper that adds the token, reads JSON and turns every
// `{ error: { code, message } }` into an ApiError, so screens show the server's own words.

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly issues: { path: string; message: string }[];
  constructor(status: number, code: string, message: string, issues: { path: string; message: string }[] = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.issues = issues;
  }
}

export interface Session {
  tenant: string;
  token: string;
  expiresAt: number;
  agent: { id: string; fullName: string; role: "agent" | "supervisor" | "admin" };
}

/** Each app keeps its own login (an agent may be a supervisor in another tab), across reloads and sleeps. */
export class Auth {
  private readonly key: string;
  session: Session | null;
  onExpired: () => void = () => {};

  constructor(app: string) {
    this.key = `parley.${app}.session`;
    this.session = this.read();
  }

  private read(): Session | null {
    try {
      const s = JSON.parse(localStorage.getItem(this.key) ?? "null") as Session | null;
      return s && s.expiresAt > Date.now() ? s : null;
    } catch {
      return null;
    }
  }

  async login(tenant: string, login: string, password: string): Promise<Session> {
    const r = await request<Omit<Session, "tenant">>(null, "POST", "/api/v1/auth/login", { tenant, login, password });
    this.session = { tenant, ...r };
    localStorage.setItem(this.key, JSON.stringify(this.session));
    return this.session;
  }

  logout(): void {
    this.session = null;
    localStorage.removeItem(this.key);
  }

  get token(): string {
    if (!this.session) throw new ApiError(401, "not_logged_in", "log in first");
    // A lapsed token signs out here too: a socket that cannot reconnect never sees the API's 401.
    if (this.session.expiresAt <= Date.now()) {
      this.logout();
      this.onExpired();
      throw new ApiError(401, "token_expired", "your session expired; sign in again");
    }
    return this.session.token;
  }

  /** A call as the logged-in user; a 401 (expired or removed login) logs out. */
  async call<T>(method: string, path: string, body?: unknown, init?: RequestExtras): Promise<T> {
    try {
      return await request<T>(this.token, method, path, body, init);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        this.logout();
        this.onExpired();
      }
      throw e;
    }
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>("GET", path);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.call<T>("POST", path, body);
  }

  /** A WebSocket URL on this origin with the token (browsers cannot set headers on sockets). */
  socketUrl(path: string): string {
    const u = new URL(path, location.href);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    u.searchParams.set("token", this.token);
    return u.toString();
  }

  /** Bytes the API serves only with a token (attachments): fetched, then handed out as a data: URL. */
  async dataUrl(path: string, maxBytes = 5 << 20): Promise<string | null> {
    const res = await fetch(path, { headers: { authorization: `Bearer ${this.token}` } });
    if (!res.ok) return null;
    const blob = await res.blob();
    if (blob.size > maxBytes) return null;
    return await new Promise((resolve) => {
      const fr = new FileReader();
      fr.onload = () => resolve(typeof fr.result === "string" ? fr.result : null);
      fr.onerror = () => resolve(null);
      fr.readAsDataURL(blob);
    });
  }

  /** Downloads a token-protected file under its own name. */
  async download(path: string, name: string): Promise<void> {
    const res = await fetch(path, { headers: { authorization: `Bearer ${this.token}` } });
    if (!res.ok) throw new ApiError(res.status, "download_failed", `could not download ${name}`);
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}

/** A raw body (files) with its type, and extra headers (If-Match). */
export interface RequestExtras {
  raw?: BodyInit;
  type?: string;
  headers?: Record<string, string>;
}

/** The D1 session bookmark of the last answer: sent back, so this page reads what it just wrote
 *  even when its reads are served by a replica (workers/http/session.ts). */
let bookmark: string | null = null;

export async function request<T>(token: string | null, method: string, path: string, body?: unknown, init?: RequestExtras): Promise<T> {
  const headers: Record<string, string> = { ...init?.headers };
  if (token) headers.authorization = `Bearer ${token}`;
  if (bookmark) headers["x-d1-bookmark"] = bookmark;
  let payload: BodyInit | undefined;
  if (init?.raw !== undefined) {
    payload = init.raw;
    headers["content-type"] = init.type ?? "application/octet-stream";
  } else if (body !== undefined && method !== "GET") {
    payload = JSON.stringify(body);
    headers["content-type"] = "application/json";
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: payload });
  } catch {
    throw new ApiError(0, "network", "the server cannot be reached; check the connection");
  }
  bookmark = res.headers.get("x-d1-bookmark") ?? bookmark;
  const text = await res.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
    const issues = Array.isArray(err?.details) ? (err.details as { path: string; message: string }[]) : [];
    throw new ApiError(res.status, err?.code ?? "http_error", err?.message ?? `${method} ${path}: HTTP ${res.status}`, issues);
  }
  return data as T;
}

export const errorText = (e: unknown): string => (e instanceof ApiError ? e.message : e instanceof Error ? e.message : String(e));
