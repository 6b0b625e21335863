// Typed errors. Pure: the HTTP layer turns them into `{ error: { code, message } }` JSON at one
// boundary (http/error-response.ts); sockets send the same shape as an error frame.

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

/** Throws `e`: for an expression that refuses (`x ?? fail(notFound(...))`). */
export const fail = (e: AppError): never => {
  throw e;
};

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export function fromUnknown(err: unknown): AppError | undefined {
  return err instanceof AppError ? err : undefined;
}
