// SMS webhooks. Twilio: urlencoded fields signed with X-Twilio-Signature over our public URL, answered
// with TwiML. A forged signature is a 403, a malformed request a 400, a retry of a message already
// taken the same answer again.
import { getConfig } from "../../config/store.ts";
import { receiveSms } from "../../sms/inbound.ts";
import { twiml } from "../../sms/twiml.ts";
import { checkTwilioSignature, type FormParams } from "../../sms/twilio-signature.ts";
import { route, type RouteDef } from "../api.ts";
import { AppError, badRequest, notFound } from "../errors.ts";
import { readLimited } from "../read-limited.ts";

/** Twilio's webhooks are small: the message (1,600 characters at most) and up to 10 media URLs. */
const MAX_WEBHOOK_BYTES = 64 * 1024;
const E164 = /^\+[1-9]\d{6,14}$/;

async function formOf(req: Request): Promise<FormParams> {
  if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers.get("Content-Type") ?? "")) throw new AppError(415, "unsupported_media_type", "send the webhook as application/x-www-form-urlencoded");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(await readLimited(req, MAX_WEBHOOK_BYTES));
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw badRequest("invalid_encoding", "the body is not valid UTF-8");
  }
  return [...new URLSearchParams(text)];
}

/** A Worker secret by the name a number's config gives. */
function secretNamed(env: Env, name: string): string | undefined {
  const v = (env as unknown as Record<string, unknown>)[name];
  return typeof v === "string" && v ? v : undefined;
}

export const smsRoutes: RouteDef[] = [
  route({
    method: "post", path: "/api/v1/sms/twilio", access: "public", tags: ["sms"],
    summary: "Twilio's inbound SMS webhook (urlencoded, X-Twilio-Signature): STOP/START/HELP answered, anything else an SMS interaction; TwiML back",
    handler: async ({ req, env }) => {
      const params = await formOf(req);
      const get = (k: string) => params.find(([n]) => n === k)?.[1];
      const sid = get("MessageSid") ?? get("SmsSid");
      const from = get("From");
      const to = get("To");
      const missing = [!sid && "MessageSid", !from && "From", !to && "To"].filter(Boolean);
      if (missing.length) throw badRequest("missing_field", `${missing.join(", ")}: required`);
      if (!E164.test(to!)) throw badRequest("invalid_number", `To: '${to}' is not an E.164 number`);
      const routeRow = await env.DB.prepare("SELECT tenant_id FROM number_routes WHERE number = ?").bind(to).first<{ tenant_id: string }>();
      if (!routeRow) throw notFound("unknown_number", `no tenant takes messages to ${to}`);
      const cfg = await getConfig(env.DB, routeRow.tenant_id);
      const center = cfg.raw.numbers.find((n) => n.number === to);
      if (!center || center.provider !== "twilio") throw notFound("unknown_number", `${to} is not a Twilio number here`);
      const token = secretNamed(env, center.secret);
      if (!token) throw new AppError(403, "signature_unverifiable", `no ${center.secret} secret to check Twilio's signature with`);
      // Twilio signs the URL it was configured with: our public one.
      const url = new URL(req.url);
      const signedUrl = `${new URL(env.PUBLIC_URL).origin}${url.pathname}${url.search}`;
      if (!(await checkTwilioSignature(token, signedUrl, params, req.headers.get("X-Twilio-Signature")))) throw new AppError(403, "invalid_signature", "X-Twilio-Signature does not match this request");
      if (center.accountSid && get("AccountSid") !== center.accountSid) throw new AppError(403, "wrong_account", "the message is from another Twilio account");
      const out = await receiveSms(env, cfg, center, { provider: "twilio", providerId: sid!, from: from!, to: to!, body: get("Body") ?? "" });
      return twiml(out.kind === "keyword" ? [out.reply] : []);
    },
  }),
];
