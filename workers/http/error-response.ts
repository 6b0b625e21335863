// The one boundary where a thrown error becomes a JSON response.
import { fromUnknown, type ErrorBody } from "../kernel/errors.ts";

export function toErrorResponse(err: unknown): Response {
  const app = fromUnknown(err);
  if (app) {
    const body: ErrorBody = { error: { code: app.code, message: app.message } };
    if (app.details !== undefined) body.error.details = app.details;
    // A 429 or 503 says when to come back (details.retryAfterSeconds, as the throttles and the
    // tenant doors set it).
    const retry = app.status === 429 || app.status === 503 ? (app.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds : undefined;
    return Response.json(body, { status: app.status, headers: typeof retry === "number" ? { "Retry-After": String(retry) } : {} });
  }
  console.error("unhandled error", err);
  return Response.json({ error: { code: "internal", message: "internal error" } } satisfies ErrorBody, { status: 500 });
}
