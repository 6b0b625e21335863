// fetch with JSON in and out; errors carry the server's `{ error: { code, message } }`.

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export interface CallInit {
  method?: string;
  token?: string;
  json?: unknown;
  body?: Blob;
  type?: string;
  headers?: Record<string, string>;
}

export async function call<T>(url: string, init: CallInit = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...init.headers };
  if (init.token) headers.Authorization = `Bearer ${init.token}`;
  let body: BodyInit | undefined = init.body;
  if (init.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(init.json);
  } else if (init.type) headers["Content-Type"] = init.type;
  let res: Response;
  try {
    res = await fetch(url, { method: init.method ?? (body === undefined ? "GET" : "POST"), headers, body, credentials: "omit", mode: "cors" });
  } catch {
    throw new ApiError(0, "network", "");
  }
  const text = await res.text().catch(() => "");
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, err?.code ?? `http_${res.status}`, err?.message ?? "");
  }
  return data as T;
}

/** crypto.randomUUID needs a secure context; a page on plain http still gets a v4 UUID. */
export function uuid(): string {
  if (typeof crypto.randomUUID === "function" && isSecureContext) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 15) | 64;
  b[8] = (b[8]! & 63) | 128;
  const x = [...b].map((v) => v.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
