// Bounded load: `count` jobs, at most `concurrency` in flight, none started after the deadline.

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

/** One HTTP request with a time limit; throws on a status other than the expected ones. */
export async function request(url: string, init: RequestInit & { expect?: number[]; timeoutMs?: number } = {}): Promise<{ status: number; body: string }> {
  const { expect = [200], timeoutMs = 30_000, ...rest } = init;
  const r = await fetch(url, { ...rest, signal: AbortSignal.timeout(timeoutMs) });
  const body = await r.text();
  if (!expect.includes(r.status)) throw new Error(`${rest.method ?? "GET"} ${new URL(url).pathname}: ${r.status} ${body.slice(0, 300)}`);
  return { status: r.status, body };
}
