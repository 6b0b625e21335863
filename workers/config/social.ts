// The social and messaging channels' part of a tenant's config (docs/social.md): WhatsApp numbers,
// Facebook pages with their Instagram accounts, Telegram bots, and the approved message templates.
// Tokens are tenant secrets, named here and never read back; API base URLs are configurable so tests
// and local runs talk to a fake, and pass the same outbound URL policy as the mail transport.
import * as z from "zod";
import { MAX_URL_CHARS, outboundUrlProblem } from "../outbound/url-policy.ts";
import { templateErrors } from "../workflow/field-codes.ts";

const Name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "use 1-64 lowercase letters, digits, '-' or '_'");
/** The same rule as schema.ts' SecretName (not imported: schema.ts imports this module). */
const Secret = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, "the name of one of this tenant's secrets (PUT /api/v1/admin/secrets/{name})");
const Digits = z.string().regex(/^\d{1,30}$/, "the provider's numeric id, digits only");
const Url = z.string().min(8).max(MAX_URL_CHARS);
/** A conversation with no word from the customer for this long ends; their next message opens a new one. */
const Idle = z.number().int().min(60).max(30 * 86400).default(86400);

/** What every Meta account has: its workflow, the app's secret (X-Hub-Signature-256 is its HMAC of
 *  the raw body), the handshake's verify token, an access token, the API root and the idle time. */
const MetaApp = {
  workflow: Name,
  appSecret: Secret,
  verifyToken: Secret,
  token: Secret,
  apiBase: Url.default("https://graph.facebook.com/v21.0"),
  idleTimeoutSeconds: Idle,
};

export const WhatsAppAccount = z
  .object({
    /** Meta's phone number id: webhooks carry it as metadata.phone_number_id. */
    phoneNumberId: Digits,
    /** The number itself, E.164 (shown to agents). */
    number: z.string().regex(/^\+[1-9]\d{6,14}$/, "use E.164, like +14155550100"),
    /** `token`: a system user's access token for the Cloud API. */
    ...MetaApp,
  })
  .strict();

export const MetaAccount = z
  .object({
    /** The Facebook page id (Messenger). */
    pageId: Digits,
    /** The Instagram professional account linked to the page, if its messages come here too. */
    instagramId: Digits.optional(),
    /** `token`: the page access token. */
    ...MetaApp,
  })
  .strict();

export const TelegramBot = z
  .object({
    /** The bot's id: the digits before the colon of its token; the webhook URL ends with it. */
    botId: Digits,
    workflow: Name,
    /** The bot token (123456:ABC...). */
    token: Secret,
    /** What setWebhook's secret_token was: Telegram sends it as X-Telegram-Bot-Api-Secret-Token. */
    webhookSecret: Secret,
    apiBase: Url.default("https://api.telegram.org"),
    idleTimeoutSeconds: Idle,
  })
  .strict();

/** An approved WhatsApp template: name and language as approved by Meta, its body text with {{1}}..
 *  placeholders (shown to agents), and one field code per placeholder. */
export const MessageTemplate = z
  .object({
    name: z.string().regex(/^[a-z0-9_]{1,512}$/, "a template name as approved: lowercase letters, digits and '_'"),
    language: z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, "a language code like en or en_US"),
    text: z.string().min(1).max(1024),
    params: z.array(z.string().min(1).max(300)).max(10).default([]),
  })
  .strict();

export const SocialSettings = z
  .object({
    whatsapp: z.array(WhatsAppAccount).max(50).default([]),
    meta: z.array(MetaAccount).max(50).default([]),
    telegram: z.array(TelegramBot).max(50).default([]),
    templates: z.array(MessageTemplate).max(500).default([]),
    /** The template an automatic message (an acknowledgement, a workflow's message) uses outside the
     *  24-hour window; without one it is skipped, with the reason recorded. */
    fallbackTemplate: z.string().max(512).optional(),
  })
  .strict();
export type SocialSettings = z.infer<typeof SocialSettings>;
export type WhatsAppAccount = z.infer<typeof WhatsAppAccount>;
export type MetaAccount = z.infer<typeof MetaAccount>;
export type TelegramBot = z.infer<typeof TelegramBot>;
export type MessageTemplate = z.infer<typeof MessageTemplate>;

/** The cross-references zod cannot see: workflows, duplicate ids, template placeholders, API URLs. */
export function socialProblems(s: SocialSettings, workflows: ReadonlySet<string>, devHost: string | undefined): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  const bad = (path: string, message: string) => out.push({ path, message });
  const seen = new Set<string>();
  const once = (id: string, path: string) => {
    if (seen.has(id)) bad(path, `'${id.slice(id.indexOf(":") + 1)}' is configured twice`);
    seen.add(id);
  };
  const common = (a: { workflow: string; apiBase: string }, at: string) => {
    if (!workflows.has(a.workflow)) bad(`${at}.workflow`, `unknown workflow '${a.workflow}'`);
    const problem = outboundUrlProblem(a.apiBase, { devHost });
    if (problem) bad(`${at}.apiBase`, problem);
  };
  s.whatsapp.forEach((a, i) => (common(a, `social.whatsapp[${i}]`), once(`wa:${a.phoneNumberId}`, `social.whatsapp[${i}].phoneNumberId`)));
  s.meta.forEach((a, i) => {
    common(a, `social.meta[${i}]`);
    once(`meta:${a.pageId}`, `social.meta[${i}].pageId`);
    if (a.instagramId) once(`meta:${a.instagramId}`, `social.meta[${i}].instagramId`);
  });
  s.telegram.forEach((a, i) => (common(a, `social.telegram[${i}]`), once(`tg:${a.botId}`, `social.telegram[${i}].botId`)));
  s.templates.forEach((t, i) => {
    once(`tpl:${t.name}/${t.language}`, `social.templates[${i}].name`);
    const holes = [...t.text.matchAll(/\{\{(\d+)\}\}/g)].map((m) => Number(m[1]));
    const want = holes.length ? Math.max(...holes) : 0;
    if (want !== t.params.length) bad(`social.templates[${i}].params`, `the text has ${want} placeholder(s) ({{1}}..), the template ${t.params.length} parameter(s)`);
    t.params.forEach((p, j) => {
      for (const e of templateErrors(p)) bad(`social.templates[${i}].params[${j}]`, e);
    });
  });
  if (s.fallbackTemplate && !s.templates.some((t) => t.name === s.fallbackTemplate)) bad("social.fallbackTemplate", `unknown template '${s.fallbackTemplate}'`);
  return out;
}

/** Where a tenant's config names one of its secrets in the social settings. */
export function socialSecretRefs(s: SocialSettings | undefined): { path: string; name: string }[] {
  if (!s) return [];
  const out: { path: string; name: string }[] = [];
  s.whatsapp.forEach((a, i) => (["appSecret", "verifyToken", "token"] as const).forEach((k) => out.push({ path: `social.whatsapp[${i}].${k}`, name: a[k] })));
  s.meta.forEach((a, i) => (["appSecret", "verifyToken", "token"] as const).forEach((k) => out.push({ path: `social.meta[${i}].${k}`, name: a[k] })));
  s.telegram.forEach((a, i) => (["token", "webhookSecret"] as const).forEach((k) => out.push({ path: `social.telegram[${i}].${k}`, name: a[k] })));
  return out;
}

/** The provider accounts a tenant's config claims, for the webhooks' tenant lookup (social_accounts). */
export function socialAccounts(s: SocialSettings | undefined): { provider: "whatsapp" | "meta" | "telegram"; id: string }[] {
  if (!s) return [];
  return [
    ...s.whatsapp.map((a) => ({ provider: "whatsapp" as const, id: a.phoneNumberId })),
    ...s.meta.flatMap((a) => [{ provider: "meta" as const, id: a.pageId }, ...(a.instagramId ? [{ provider: "meta" as const, id: a.instagramId }] : [])]),
    ...s.telegram.map((a) => ({ provider: "telegram" as const, id: a.botId })),
  ];
}
