// Bounded load: `count` jobs, at most `concurrency` in flight, none started after the deadline; and
// the HTTP client the benches use.
import http from "node:http";

export interface PoolResult<T> {
  /** Per job index; undefined when the job failed or never started. */
  results: (T | undefined)[];
  errors: { index: number; error: string }[];
  started: number;
  elapsedMs: number;
}

export async function pool<T>(count: number, concurrency: number, timeLimitMs: number, job: (i: number) => Promise<T>): Promise<PoolResult<T>> {
  const results: (T | undefined)[] = new Array(count);
  const errors: { index: number; error: string }[] = [];
  const t0 = performance.now();
  const deadline = t0 + timeLimitMs;
  let next = 0;
  const worker = async () => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      try {
        results[i] = await job(i);
      } catch (err) {
        errors.push({ index: i, error: err instanceof Error ? err.message : String(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker));
  return { results, errors, started: next, elapsedMs: performance.now() - t0 };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `done` every `everyMs` until it holds or `timeLimitMs` passes. Returns whether it held. */
export async function until(done: () => boolean, timeLimitMs: number, everyMs = 20): Promise<boolean> {
  const end = performance.now() + timeLimitMs;
  while (!done()) {
    if (performance.now() >= end) return false;
    await sleep(everyMs);
  }
  return true;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Statuses that count as success (default 200); "any" resolves with whatever came back. */
  expect?: number[] | "any";
  timeoutMs?: number;
}

// node:http with keep-alive rather than fetch: undici's fetch costs the client several times the CPU
// per request, and the client shares the machine's two cores with wrangler dev.
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/** One HTTP request with a time limit; throws on a status other than the expected ones. */
export function request(url: string, o: RequestOptions = {}): Promise<{ status: number; type: string; body: string; timing?: string }> {
  const { method = "GET", headers = {}, body, expect = [200], timeoutMs = 30_000 } = o;
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method, agent, headers: body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", fail);
        res.on("end", () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString("utf8");
          const status = res.statusCode ?? 0;
          if (expect === "any" || expect.includes(status)) resolve({ status, type: String(res.headers["content-type"] ?? ""), body: text, timing: res.headers["server-timing"] as string | undefined });
          else reject(new Error(`${method} ${u.pathname}: ${status} ${text.slice(0, 300)}`));
        });
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`${method} ${u.pathname}: no answer in ${timeoutMs} ms`)), timeoutMs);
    function fail(err: Error) {
      clearTimeout(timer);
      reject(err);
    }
    req.on("error", fail);
    req.end(body);
  });
}
