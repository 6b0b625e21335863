// Expected failures (404, 409, 400) cross the object boundary as values, not exceptions: workerd
// logs every exception an RPC method throws as uncaught, and these are answers, not faults.
import { AppError, fromUnknown } from "../workers/kernel/errors.ts";

/** `retryAfterSeconds`: a 429's wait, carried so the Worker can answer Retry-After. */
export type Failure = { ok: false; error: { status: number; code: string; message: string; retryAfterSeconds?: number } };

const retryOf = (details: unknown): number | undefined => {
  const v = (details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  return typeof v === "number" ? v : undefined;
};
export type Result<T> = { ok: true; value: T } | Failure;

/** Runs an object method: AppErrors become a failed Result; anything else is a real fault and throws. */
export async function guard<T>(fn: () => T | Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    const app = fromUnknown(err);
    if (app) {
      const retry = retryOf(app.details);
      return { ok: false, error: { status: app.status, code: app.code, message: app.message, ...(retry !== undefined ? { retryAfterSeconds: retry } : {}) } };
    }
    throw err;
  }
}

/** The caller's side: the value, or the object's AppError thrown again here. */
export function unwrap<T>(r: Result<T>): T {
  if (r.ok) return r.value;
  throw new AppError(r.error.status, r.error.code, r.error.message, r.error.retryAfterSeconds !== undefined ? { retryAfterSeconds: r.error.retryAfterSeconds } : undefined);
}
