// The one boundary where a thrown error becomes a JSON response.
import { fromUnknown, type ErrorBody } from "../kernel/errors.ts";
import { FENCED } from "../ucs/shard-tables.ts";

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
  // A write that reached a shard its tenant just left (an isolate's directory cache was a few seconds
  // behind a move): refused by the fence, stored nowhere; the sender tries again and reaches the new shard.
  if (String((err as Error | undefined)?.message ?? err).includes(FENCED))
    return Response.json({ error: { code: "tenant_moving", message: "this tenant was just moved to another shard; nothing was stored: send it again" } } satisfies ErrorBody, { status: 503, headers: { "Retry-After": "2" } });
  console.error("unhandled error", err);
  return Response.json({ error: { code: "internal", message: "internal error" } } satisfies ErrorBody, { status: 500 });
}
