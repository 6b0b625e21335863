// One error shape for every socket, the same as the HTTP error body: `{ type: "error", error: { code, message } }`.
import { AppError } from "./errors.ts";

export interface ErrorFrame {
  type: "error";
  error: { code: string; message: string };
}

export const errorFrame = (code: string, message: string): ErrorFrame => ({ type: "error", error: { code, message } });

/** Close code for a refusal: 4000 + the HTTP status it would have had (4401, 4403, 4404, 4429…). */
export const refusalCloseCode = (status: number): number => 4000 + Math.min(Math.max(status, 400), 599);

/** A browser never sees the body of a refused upgrade, so a refusal is an accepted socket that
 *  sends the error frame and closes with a code that says why. */
export function refuseUpgrade(err: AppError): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  server.send(JSON.stringify(errorFrame(err.code, err.message)));
  server.close(refusalCloseCode(err.status), err.message.slice(0, 120));
  return new Response(null, { status: 101, webSocket: client });
}
