// Short-lived signed URLs for chat files: HMAC-SHA256 over the path and the expiry, so a link in a
// transcript works for its participants for a few minutes and never for anyone guessing keys.
import { equalText } from "../kernel/constant-time.ts";
import { AppError } from "../kernel/errors.ts";

export const FILE_URL_TTL_SECONDS = 600;

const enc = new TextEncoder();
const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");

async function hmac(secret: string, data: string): Promise<string> {
  const k = await crypto.subtle.importKey("raw", enc.encode(`chat-file:${secret}`), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return hex(await crypto.subtle.sign("HMAC", k, enc.encode(data)));
}

/** `path?exp=…&sig=…` for a file path such as `/api/v1/chat/files/{chat}/{file}`. */
export async function signPath(secret: string, path: string, now = Date.now(), ttlSeconds = FILE_URL_TTL_SECONDS): Promise<string> {
  const exp = Math.floor(now / 1000) + ttlSeconds;
  return `${path}?exp=${exp}&sig=${await hmac(secret, `${path}\n${exp}`)}`;
}

export async function checkSignature(secret: string, path: string, exp: string | null, sig: string | null, now = Date.now()): Promise<"ok" | "expired" | "invalid"> {
  if (!exp || !sig || !/^\d{1,12}$/.test(exp) || !/^[0-9a-f]{64}$/.test(sig)) return "invalid";
  if (!equalText(await hmac(secret, `${path}\n${exp}`), sig)) return "invalid";
  return Number(exp) * 1000 < now ? "expired" : "ok";
}

/** A request's signed link checked: 403 when it is not ours (or was altered), 410 when it has expired,
 *  saying how to get a fresh one; `what` names the link ("this link", "this file link"). */
export async function requireSignedLink(secret: string, req: Request, what: string, fresh: string): Promise<void> {
  const url = new URL(req.url);
  const ok = await checkSignature(secret, url.pathname, url.searchParams.get("exp"), url.searchParams.get("sig"));
  if (ok === "invalid") throw new AppError(403, "invalid_signature", `${what} is not valid`);
  if (ok === "expired") throw new AppError(410, "link_expired", `${what} has expired; ${fresh}`);
}
