// Typed errors, turned into `{ error: { code, message } }` JSON at one boundary (toErrorResponse).

export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details?: unknown;
  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.name = "AppError";
  }
}

export const badRequest = (code: string, message: string, details?: unknown) =>
  new AppError(400, code, message, details);
export const unauthorized = (message = "authentication required") =>
  new AppError(401, "unauthorized", message);
export const forbidden = (message: string) => new AppError(403, "forbidden", message);
export const notFound = (code: string, message: string) => new AppError(404, code, message);
export const conflict = (code: string, message: string) => new AppError(409, code, message);
export const tooLarge = (message: string) => new AppError(413, "payload_too_large", message);

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export function fromUnknown(err: unknown): AppError | undefined {
  return err instanceof AppError ? err : undefined;
}

export function toErrorResponse(err: unknown): Response {
  const app = fromUnknown(err);
  if (app) {
    const body: ErrorBody = { error: { code: app.code, message: app.message } };
    if (app.details !== undefined) body.error.details = app.details;
    // A 429 says when to come back (details.retryAfterSeconds, as the throttles set it).
    const retry = app.status === 429 ? (app.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds : undefined;
    return Response.json(body, { status: app.status, headers: typeof retry === "number" ? { "Retry-After": String(retry) } : {} });
  }
  console.error("unhandled error", err);
  return Response.json({ error: { code: "internal", message: "internal error" } } satisfies ErrorBody, { status: 500 });
}
