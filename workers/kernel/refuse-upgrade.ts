// Refusing a WebSocket upgrade in a way the browser can read.
import type { AppError } from "./errors.ts";
import { errorFrame, refusalCloseCode } from "./socket-error.ts";

/** A browser never sees the body of a refused upgrade, so a refusal is an accepted socket that
 *  sends the error frame and closes with a code that says why. */
export function refuseUpgrade(err: AppError): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  server.send(JSON.stringify(errorFrame(err.code, err.message)));
  server.close(refusalCloseCode(err.status), err.message.slice(0, 120));
  return new Response(null, { status: 101, webSocket: client });
}
