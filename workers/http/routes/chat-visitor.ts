// The website chat's endpoints: the widget's config, starting a chat, the session's WebSocket and its
// HTTP fallback, files by signed URL. Customers call them from the tenant's allowed origins with their
// session token; staff use the session endpoints with their agent token once they are in the chat.
import { tenantEnv, type TenantEnv } from "../../tenancy/tenant-env.ts";
import * as z from "zod";
import { chatStub } from "../../../durable-objects/names.ts";
import { unwrap } from "../../../durable-objects/result.ts";
import { chatCaller, chatIdOf, checkOrigin, splitChatId, type ChatCaller } from "../../chat/access.ts";
import { requireSignedLink } from "../../chat/signed-url.ts";
import { availability, chatSettings, startChat } from "../../chat/start.ts";
import { DEFAULT_CHAT_ATTACHMENTS } from "../../config/schema.ts";
import { issueChatToken, verifyChatToken } from "../../chat/token.ts";
import { VISIBILITIES } from "../../chat/visibility.ts";
import type { CompiledConfig } from "../../config/compiled.ts";
import { getConfig } from "../../config/store.ts";
import { clientIp, rateCheck } from "../../forms/limit.ts";
import { newId } from "../../kernel/ids.ts";
import { Reply, readJson, route, type RouteDef } from "../api.ts";
import { AppError, badRequest, notFound } from "../../kernel/errors.ts";
import { readLimited } from "../../kernel/read-limited.ts";
import { heldHeaders } from "../../auth/revocation.ts";

const TenantId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/);
const SESSION_TTL_SECONDS = 24 * 3600;

const Start = z
  .object({
    clientId: z.string().min(8).max(100).describe("The widget's own random id for this request (a UUID): a retry returns the same chat while it is live, for 2 minutes without its token"),
    name: z.string().max(200).optional(),
    email: z.email().max(320).optional(),
    phone: z.string().max(40).optional(),
    subject: z.string().max(300).optional(),
    fields: z.record(z.string().min(1).max(64), z.string().max(2000)).optional(),
  })
  .strict();

async function tenantConfig(env: TenantEnv, tenant: string): Promise<CompiledConfig> {
  if (!TenantId.safeParse(tenant).success) throw notFound("no_tenant", "no such tenant");
  return getConfig(env.DB, tenant).catch(() => {
    throw notFound("no_tenant", `no tenant '${tenant}'`);
  });
}

/** The origin to echo in CORS headers, when the tenant allows it; never throws (errors need headers too). */
async function echoOrigin(req: Request, env: TenantEnv, tenant: string | null): Promise<string | null> {
  if (!tenant || req.headers.get("Origin") === null) return null;
  try {
    return checkOrigin(req, await tenantConfig(env, tenant));
  } catch {
    return null;
  }
}

const allowList = (req: Request, cfg: CompiledConfig) => [new URL(req.url).origin, ...(cfg.raw.chat?.allowedOrigins ?? [])];

/** A session endpoint: the caller checked, then `fn`. */
async function session(req: Request, env: TenantEnv, id: string, fn: (c: ChatCaller) => Promise<unknown>): Promise<unknown> {
  return (await fn(await chatCaller(req, env, id))) ?? { ok: true };
}

/** CORS on a tenant's chat endpoints: its allowed web origins (and Parley's own) are echoed on every
 *  answer, errors included; the handler itself refuses another origin (403). */
const tenantCors = (tenantOf: (params: Record<string, string>) => string | null) => ({
  origin: async ({ req, env, params }: { req: Request; env: TenantEnv; params: Record<string, string> }) => echoOrigin(req, env, tenantOf(params)),
  allowList: async ({ req, env, params }: { req: Request; env: Env; params: Record<string, string> }) => {
    const tenant = tenantOf(params);
    return tenant ? allowList(req, await tenantConfig(await tenantEnv(env, tenant), tenant)) : [new URL(req.url).origin];
  },
});
const byTenant = tenantCors((p) => p.tenant!);
const bySession = tenantCors((p) => splitChatId(p.id!).tenant);

/** The chat's object, in its tenant's jurisdiction (the caller's env, resolved from its token). */
const chat = (_env: TenantEnv, c: ChatCaller) => chatStub(c.env, c.tenant, c.interactionId);

/** The chat a start request proves it holds: the customer's valid session token of this tenant, sent as
 *  `Authorization: Bearer` when it renews its token. Anything else (none, expired, an agent's) proves nothing. */
async function heldChat(req: Request, env: TenantEnv, tenant: string): Promise<string | null> {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.get("Authorization") ?? "");
  if (!m) return null;
  const grant = await verifyChatToken(env.AUTH_SECRET, m[1]!).catch(() => null);
  return grant && grant.tenant === tenant && grant.participant === "customer" ? grant.chat : null;
}

function typeAllowed(type: string, allowed: readonly string[]): boolean {
  const t = type.toLowerCase();
  return allowed.some((a) => (a.endsWith("/*") ? t.startsWith(a.slice(0, -1).toLowerCase()) : a.toLowerCase() === t));
}

const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;

/** `attachment; filename="x"` with an ASCII stand-in, and the real name in RFC 5987 form. */
function disposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** A file name as the customer's system gave it, minus any path and control characters. */
const fileName = (raw: string | null) =>
  (raw ?? "file").replace(/^.*[\\/]/, "").replace(/[\u0000-\u001f\u007f"]/g, "").trim().slice(0, 200) || "file";

export const chatRoutes: RouteDef[] = [
  route({
    method: "get", path: "/api/v1/chat/:tenant/config", access: "public", tags: ["chat"],
    tenant: ({ params }) => params.tenant!,
    summary: "What the widget needs: whether chat is available now, the pre-chat fields, its texts, the offline form and the attachment limits",
    cors: byTenant,
    handler: async ({ req, env, params }) => {
      const cfg = await tenantConfig(env, params.tenant!);
      const c = chatSettings(cfg);
      checkOrigin(req, cfg);
      const a = await availability(env, cfg);
      const form = c.offlineForm ? cfg.raw.forms.find((f) => f.name === c.offlineForm) : undefined;
      return {
        tenant: cfg.raw.tenant.name,
        available: a.available,
        ...(a.available ? {} : { reason: a.reason }),
        preChat: { fields: c.preChatFields },
        strings: c.strings,
        offline: form ? { form: form.name, fields: form.fields.filter((f) => f.type !== "file"), honeypot: form.honeypot } : null,
        attachments: c.attachments,
      };
    },
  }),
  route({
    method: "post", path: "/api/v1/chat/:tenant/sessions", access: "public", tags: ["chat"],
    tenant: ({ params }) => params.tenant!,
    summary: "Start a chat (steps 1–4): the session opens, the interaction is recorded and queued. Idempotent on clientId while the chat is live, for 2 minutes after its start or with its token as Authorization: Bearer (409 chat_not_resumable otherwise). 409 chat_unavailable: offer the offline form",
    responses: { 201: { description: "Started" }, 200: { description: "The same clientId again: the same chat, a fresh token" } },
    cors: byTenant,
    handler: async ({ req, env, params }) => {
      const cfg = await tenantConfig(env, params.tenant!);
      const settings = chatSettings(cfg);
      checkOrigin(req, cfg);
      const body = (await readJson(req, Start)) as z.infer<typeof Start>;
      const r = await startChat(env, cfg, body, await heldChat(req, env, cfg.raw.tenant.id), rateCheck(env.DB, `chat:${params.tenant}:${clientIp(req)}`, settings.rateLimit));
      const t = await issueChatToken(env.AUTH_SECRET, { tenant: cfg.raw.tenant.id, chat: r.interactionId, participant: "customer" }, SESSION_TTL_SECONDS);
      const chatId = chatIdOf(cfg.raw.tenant.id, r.interactionId);
      return new Reply(r.created ? 201 : 200, { chatId, interactionId: r.interactionId, token: t.token, expiresAt: t.expiresAt, participant: { id: "customer", name: r.name }, ws: `/api/v1/chat/sessions/${chatId}/ws` });
    },
  }),
  route({
    method: "get", path: "/api/v1/chat/sessions/:id/ws", access: "public", tags: ["chat"],
    tenant: ({ params }) => splitChatId(params.id!).tenant,
    summary: "The chat's WebSocket (token in ?token=, resume with ?after=N). Frames: docs/chat.md",
    upgrade: "websocket",
    handler: async ({ req, env, params }) => {
      const c = await chatCaller(req, env, params.id!);
      const headers = new Headers(req.headers);
      headers.set("X-Chat-Participant", c.participant);
      // Staff sockets close when their token lapses or is revoked: the object is told who and until when.
      for (const h of ["X-Parley-Agent", "X-Parley-Version", "X-Parley-Expires"]) headers.delete(h);
      if (c.staff) for (const [k, v] of Object.entries(heldHeaders(c.staff))) headers.set(k, v);
      return chat(env, c).fetch(new Request(req.url, { headers }));
    },
  }),
  route({
    method: "get", path: "/api/v1/chat/sessions/:id", access: "public", tags: ["chat"], summary: "The chat's status, queue position, estimated wait and participants",
    tenant: ({ params }) => splitChatId(params.id!).tenant,
    cors: bySession,
    handler: async ({ req, env, params }) => session(req, env, params.id!, async (c) => unwrap(await chat(env, c).state(c.participant))),
  }),
  route({
    method: "get", path: "/api/v1/chat/sessions/:id/messages", access: "public", tags: ["chat"], summary: "Poll: the messages after ?after=N that you may see",
    tenant: ({ params }) => splitChatId(params.id!).tenant,
    cors: bySession,
    handler: async ({ req, env, params }) =>
      session(req, env, params.id!, async (c) => {
        const after = new URL(req.url).searchParams.get("after") ?? "0";
        if (!/^\d{1,15}$/.test(after)) throw badRequest("invalid_query", "after: a sequence number (0 for everything)");
        return unwrap(await chat(env, c).since(c.participant, Number(after)));
      }),
  }),
  route({
    method: "post", path: "/api/v1/chat/sessions/:id/messages", access: "public", tags: ["chat"], summary: "Send a message (idempotent on clientId)",
    tenant: ({ params }) => splitChatId(params.id!).tenant,
    cors: bySession,
    handler: async ({ req, env, params }) =>
      session(req, env, params.id!, async (c) => {
        const b = (await readJson(req, z.object({ clientId: z.string().min(1).max(100), text: z.string().max(8000), visibility: z.enum(VISIBILITIES).optional() }).strict())) as { clientId: string; text: string; visibility?: "all" | "staff" };
        const r = unwrap(await chat(env, c).post(c.participant, b));
        return new Reply(r.duplicate ? 200 : 201, r);
      }),
  }),
  route({
    method: "post", path: "/api/v1/chat/sessions/:id/typing", access: "public", tags: ["chat"], summary: "Typing notice",
    tenant: ({ params }) => splitChatId(params.id!).tenant,
    cors: bySession,
    handler: async ({ req, env, params }) =>
      session(req, env, params.id!, async (c) => unwrap(await chat(env, c).typing(c.participant, ((await readJson(req, z.object({ on: z.boolean() }).strict())) as { on: boolean }).on))),
  }),
  route({
    method: "post", path: "/api/v1/chat/sessions/:id/read", access: "public", tags: ["chat"], summary: "Read receipt up to a sequence number",
    tenant: ({ params }) => splitChatId(params.id!).tenant,
    cors: bySession,
    handler: async ({ req, env, params }) =>
      session(req, env, params.id!, async (c) => unwrap(await chat(env, c).read(c.participant, ((await readJson(req, z.object({ seq: z.number().int().min(0) }).strict())) as { seq: number }).seq))),
  }),
  route({
    method: "post", path: "/api/v1/chat/sessions/:id/attachments", access: "public", tags: ["chat"],
    tenant: ({ params }) => splitChatId(params.id!).tenant,
    cors: bySession,
    summary: "Send a file: the bytes as the body, its type as Content-Type, ?name= and ?clientId=. Type and size limits per tenant",
    handler: async ({ req, env, params }) =>
      session(req, env, params.id!, async (c) => {
        // A social conversation works without website chat: its agents' files take the default limits.
        const limits = c.cfg.raw.chat?.attachments ?? (c.staff ? DEFAULT_CHAT_ATTACHMENTS : chatSettings(c.cfg).attachments);
        const q = new URL(req.url).searchParams;
        const clientId = q.get("clientId") ?? "";
        if (!clientId || clientId.length > 100) throw badRequest("invalid_client_id", "clientId: 1 to 100 characters, unique per message");
        const type = (req.headers.get("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
        // Exactly one type: "image/png, text/html" must not pass as an image and render as a page.
        if (!MIME.test(type) || !typeAllowed(type, limits.types)) throw new AppError(415, "unsupported_type", `Content-Type: files of type '${type || "(none)"}' are not accepted; send ${limits.types.join(", ")}`);
        const bytes = await readLimited(req, limits.maxBytes);
        if (bytes.byteLength === 0) throw badRequest("empty_file", "the body is empty");
        const name = fileName(q.get("name"));
        // Asked before the bytes are stored, so a refused upload leaves nothing behind.
        unwrap(await chat(env, c).mayAttach(c.participant));
        const key = `${c.tenant}/chat/${c.interactionId}/${newId("f")}`;
        await c.env.BLOBS.put(key, bytes, { httpMetadata: { contentType: type, contentDisposition: disposition(name) } });
        const r = await chat(env, c).attach(c.participant, { clientId, name, type, size: bytes.byteLength, key });
        if (!r.ok || r.value.duplicate) await c.env.BLOBS.delete(key);
        const out = unwrap(r);
        return new Reply(out.duplicate ? 200 : 201, out);
      }),
  }),
  route({
    method: "post", path: "/api/v1/chat/sessions/:id/transcript", access: "public", tags: ["chat"],
    tenant: ({ params }) => splitChatId(params.id!).tenant,
    cors: bySession,
    summary: "Mail me the transcript, to the address given before the chat (403 transcript_address for any other), when the chat ends, or now if it has. At most email.autoReplyLimit automatic mails per address",
    handler: async ({ req, env, params }) =>
      session(req, env, params.id!, async (c) => {
        const b = (await readJson(req, z.object({ email: z.email().max(320).optional() }).strict())) as { email?: string };
        if (c.participant !== "customer") throw new AppError(403, "forbidden", "only the customer asks for the transcript");
        // Only to the address given before the chat: `email`, if sent, must be that one (not a relay to anyone).
        return unwrap(await chat(env, c).requestTranscript(b.email ?? null));
      }),
  }),
  route({
    method: "post", path: "/api/v1/chat/sessions/:id/end", access: "public", tags: ["chat"], summary: "End the chat",
    tenant: ({ params }) => splitChatId(params.id!).tenant,
    cors: bySession,
    handler: async ({ req, env, params }) =>
      session(req, env, params.id!, async (c) => unwrap(await chat(env, c).end(c.participant, c.staff ? (c.staff.role === "agent" ? "agent" : "supervisor") : "customer"))),
  }),
  route({
    method: "get", path: "/api/v1/chat/files/:tenant/:chat/:file", access: "public", tags: ["chat"], summary: "A chat file by its signed URL (valid 10 minutes)",
    tenant: ({ params }) => params.tenant!,
    handler: async ({ req, env, params }) => {
      await requireSignedLink(env.AUTH_SECRET, req, "this file link", "open the chat again for a fresh one");
      const obj = await env.BLOBS.get(`${params.tenant}/chat/${params.chat}/${params.file}`);
      if (!obj) throw notFound("no_file", "no such file");
      const type = obj.httpMetadata?.contentType ?? "application/octet-stream";
      const headers = new Headers({
        "Content-Type": type,
        "Cache-Control": "private, max-age=300",
        "X-Content-Type-Options": "nosniff",
        // A file a customer sent never runs as a page of ours.
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
      });
      const disposition = obj.httpMetadata?.contentDisposition;
      if (disposition) headers.set("Content-Disposition", type.startsWith("image/") && type !== "image/svg+xml" ? disposition.replace(/^attachment/, "inline") : disposition);
      return new Response(obj.body, { headers });
    },
  }),
];
