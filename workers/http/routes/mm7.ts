// MM7 inbound (3GPP TS 23.140): an MMS relay delivers a message to one of our numbers as a SOAP
// DeliverReq with its content in multipart/related, authenticated with HTTP Basic (the password is
// the number's tenant's own secret that its config names). Each part is kept in R2, the message goes through
// the SMS core once per TransactionID, and the relay gets a DeliverRsp, or a SOAP Fault saying why not.
import type { TenantEnv } from "../../tenancy/tenant-env.ts";
import { numberSecret } from "../../sms/secret.ts";
import { numberOwner } from "../../sms/numbers.ts";
import type { CompiledConfig } from "../../config/compiled.ts";
import { bytesSha256 } from "../../kernel/hash.ts";
import { capUtf8 } from "../../email/parse.ts";
import { receiveSms, type CenterNumber } from "../../sms/inbound.ts";
import { DEFAULT_MM7_NS, DEFAULT_MM7_VERSION, deliverRsp, MAX_MM7_PARTS, MAX_MM7_RECIPIENTS, Mm7Error, parseContent, parseEnvelope, soapFault, type Mm7DeliverReq, type Mm7Envelope } from "../../sms/mm7.ts";
import type { NewPart } from "../../ucs/interactions.ts";
import { route, type RouteDef } from "../api.ts";
import { AppError } from "../../kernel/errors.ts";
import { readLimited } from "../../kernel/read-limited.ts";
import { providerMessageSeen } from "../../ucs/sms.ts";

const MAX_MM7_BYTES = 10 * 1024 * 1024;
/** The SMS row and the interaction's text take the message's text up to this; every part is whole in R2. */
const MAX_BODY_BYTES = 32 * 1024;
const REALM = 'Basic realm="parley-mm7"';

const xml = (status: number, body: string, headers: Record<string, string> = {}) => new Response(body, { status, headers: { "Content-Type": "text/xml; charset=utf-8", ...headers } });

/** The E.164 forms an MM7 address may stand for: as is, "00" for "+", or digits without the "+". */
function e164Candidates(address: string): string[] {
  const s = address.replace(/[\s().-]/g, "");
  if (/^\+[1-9]\d{6,14}$/.test(s)) return [s];
  if (/^00[1-9]\d{6,14}$/.test(s)) return [`+${s.slice(2)}`];
  if (/^[1-9]\d{6,14}$/.test(s)) return [`+${s}`];
  return [];
}

/** The first recipient that is one of our numbers: its tenant's config and the number's entry. Only
 *  the first MAX_MM7_RECIPIENTS are looked up: this runs before the relay is authenticated. */
async function recipient(env: Env, to: string[]): Promise<{ cfg: CompiledConfig; center: CenterNumber; env: TenantEnv } | null> {
  for (const number of to.slice(0, MAX_MM7_RECIPIENTS).flatMap(e164Candidates)) {
    // Any provider: a Twilio or generic number may also take MMS from a relay.
    const owner = await numberOwner(env, number);
    if (owner) return owner;
  }
  return null;
}

function basicAuth(header: string | null): { user: string; password: string } | null {
  const m = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header ?? "");
  if (!m) return null;
  let decoded: string;
  try {
    const bin = atob(m[1]!.replace(/-/g, "+").replace(/_/g, "/"));
    decoded = new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
  const colon = decoded.indexOf(":");
  return colon < 0 ? null : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Equal strings, in time that does not depend on where they differ (their digests are compared). */
async function sameSecret(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [x, y] = await Promise.all([crypto.subtle.digest("SHA-256", enc.encode(a)), crypto.subtle.digest("SHA-256", enc.encode(b))]);
  const u = new Uint8Array(x);
  const v = new Uint8Array(y);
  let diff = 0;
  for (let i = 0; i < u.length; i++) diff |= u[i]! ^ v[i]!;
  return diff === 0;
}

const EXT: Record<string, string> = { "text/plain": "txt", "image/jpeg": "jpg", "application/smil": "smil", "audio/mpeg": "mp3", "video/3gpp": "3gp", "audio/3gpp": "3gp", "text/x-vcard": "vcf", "text/vcard": "vcf" };
const extOf = (type: string) => EXT[type] ?? (type.split("/")[1]?.replace(/[^a-z0-9]/g, "").slice(0, 8) || "bin");

/** A part's file name: the last segment of its Content-Location or name, without anything odd. */
function nameOf(p: Mm7DeliverReq["parts"][number], k: number): string {
  const raw = (p.location ?? p.name ?? "").split(/[\\/]/).pop() ?? "";
  const clean = raw.replace(/[\x00-\x1f\x7f"<>]/g, "").trim().slice(0, 100);
  return clean || `part-${k + 1}.${extOf(p.contentType)}`;
}

/** Every part in R2 in presentation order, under keys made from the message, so a relay's retry
 *  rewrites the same objects. Text (and the SMIL) is kept as UTF-8 whatever charset it came in. */
async function storeParts(env: TenantEnv, tenant: string, folder: string, msg: Pick<Mm7DeliverReq, "order" | "parts" | "smilIndex" | "omitted">): Promise<NewPart[]> {
  const order = msg.order;
  const out = await Promise.all(
    order.map(async (idx, k): Promise<NewPart> => {
      const p = msg.parts[idx]!;
      const bytes = p.text !== undefined ? new TextEncoder().encode(p.text) : p.bytes;
      const key = `${tenant}/mms/${folder}/${k}`;
      await env.BLOBS.put(key, bytes, { httpMetadata: { contentType: p.text !== undefined ? `${p.contentType}; charset=utf-8` : p.contentType } });
      const name = idx === msg.smilIndex ? "presentation.smil" : nameOf(p, k);
      return { kind: "attachment", r2Key: key, contentType: p.contentType, name, size: bytes.byteLength, sha256: await bytesSha256(bytes), contentId: p.contentId };
    }),
  );
  if (msg.omitted > 0) out.push({ kind: "text", content: `[${msg.omitted} more MMS parts not read: over MAX_MM7_PARTS (${MAX_MM7_PARTS})]` });
  return out;
}

export const mm7Routes: RouteDef[] = [
  route({
    method: "post", path: "/api/v1/mms/mm7", access: "public", tags: ["sms"],
    summary:
      "MM7 (3GPP TS 23.140) DeliverReq from an MMS relay: SOAP in multipart/related, HTTP Basic with the number's secret as the password. " +
      "The message becomes an MMS interaction once per TransactionID; answered with a DeliverRsp, or a SOAP Fault (4xx) saying why not",
    handler: async ({ req, env: platform }) => {
      // SOAP 1.1 wants faults sent with HTTP 500; we answer a request we refuse with 4xx (and the
      // fault as the body) instead, as everywhere else here: a 500 means our failure, one worth
      // retrying, never bad input. Relays read the fault from the body either way.
      // Authenticate before parsing: with no credentials at all, the body is not even read.
      const cred = basicAuth(req.headers.get("Authorization"));
      if (!cred) return xml(401, soapFault("", DEFAULT_MM7_NS, 4001, "send HTTP Basic credentials"), { "WWW-Authenticate": REALM });
      let raw: Uint8Array;
      try {
        raw = await readLimited(req, MAX_MM7_BYTES);
      } catch (e) {
        if (e instanceof AppError) return xml(e.status, soapFault("", DEFAULT_MM7_NS, e.status === 413 ? 2004 : 2000, e.message));
        throw e;
      }
      // The password is the secret of the number the message is for, so the envelope (bounded by the
      // XML limits; the content is not decoded) is read to learn it.
      let msg: Mm7Envelope;
      try {
        msg = parseEnvelope(req.headers.get("Content-Type"), raw);
      } catch (e) {
        if (e instanceof Mm7Error) return xml(e.status, soapFault(e.transactionId, e.namespace, e.code, `the message can't be understood: ${e.message}`, e.mm7Version));
        throw e;
      }
      const fault = (status: number, code: number, text: string, headers?: Record<string, string>) => xml(status, soapFault(msg.transactionId, msg.namespace, code, text, msg.mm7Version || DEFAULT_MM7_VERSION), headers);
      // An unknown number, a number with no secret and a wrong password get the same answer, so the
      // answers don't tell which numbers are ours.
      const refused = () => fault(401, 4001, "wrong user name or password for this recipient", { "WWW-Authenticate": REALM });

      const found = await recipient(platform, msg.to);
      if (!found) return refused();
      const { cfg, center, env } = found;
      const secret = await numberSecret(env, cfg, center);
      if (!secret) return refused();
      const passwordOk = await sameSecret(cred.password, secret);
      if (!passwordOk || (center.accountSid !== undefined && cred.user !== center.accountSid)) return refused();
      // A suspended tenant's relay is told to try again later; nothing is stored.
      if (env.SUSPENDED) return fault(503, 3001, `tenant '${env.TENANT}' is suspended: retry after it is resumed`, { "Retry-After": "600" });

      // TransactionIDs are unique per relay link only (often a counter): the key is scoped by our
      // number, else two relays' "1" would be taken as one message across tenants. A message with
      // no TransactionID is known by its bytes.
      const tx = msg.transactionId || `body-${(await bytesSha256(raw)).slice(0, 40)}`;
      const txHash = await bytesSha256(new TextEncoder().encode(tx));
      const providerId = `mm7:${center.number}:${tx}`.length <= 100 ? `mm7:${center.number}:${tx}` : `mm7:${center.number}:sha256:${txHash}`;
      const folder = /^[A-Za-z0-9._-]{1,80}$/.test(tx) && !/^\.+$/.test(tx) ? `${center.number}/${tx}` : `${center.number}/${txHash}`;

      // A retry of a message already taken stores nothing again (receiveSms answers it as a duplicate).
      const seen = await providerMessageSeen(env.DB, "generic", providerId, null);
      // Authenticated: now the content is decoded.
      const content = parseContent(msg);
      const media = seen ? undefined : await storeParts(env, cfg.raw.tenant.id, folder, content);
      const texts = content.order.map((i) => content.parts[i]!).filter((p) => p.contentType === "text/plain" && p.text?.trim()).map((p) => p.text!.trim());
      const body = capUtf8([msg.subject, ...texts].filter(Boolean).join("\n"), MAX_BODY_BYTES).text;
      try {
        // A STOP/START/HELP is recorded like any SMS keyword; MM7 has no reply in the DeliverRsp,
        // so the confirmation is not sent from here.
        await receiveSms(env, cfg, center, { provider: "generic", providerId, from: msg.from, to: center.number, body, media });
      } catch (e) {
        if (e instanceof AppError) return fault(e.status, e.status >= 500 ? 3000 : 2000, e.message);
        throw e;
      }
      return xml(200, deliverRsp(msg.transactionId, msg.namespace, { code: 1000, text: "Success" }, msg.mm7Version));
    },
  }),
];
