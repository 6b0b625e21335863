// Email test helpers: a tenant with mailboxes, raw messages built by hand (so each test controls
// every header), ingest through the HTTP door, and running the delivery consumer.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../workers/index.ts";
import type { TenantConfigInput } from "../workers/config/schema.ts";
import type { DeliveryJob } from "../workers/outbound/message.ts";
import { makeTenant, uniq, type AgentSpec, type Tenant } from "./helpers.ts";

export interface MailSpec {
  from?: string;
  to?: string;
  cc?: string;
  subject?: string;
  messageId?: string | null;
  inReplyTo?: string;
  references?: string[];
  headers?: Record<string, string>;
  text?: string;
}

let n = 0;
export const mid = (p = "m") => `${p}.${Date.now().toString(36)}.${(n++).toString(36)}${Math.random().toString(36).slice(2, 8)}@customer.example`;

export function mail(s: MailSpec): string {
  const h: string[] = [
    `From: ${s.from ?? "Jane Doe <jane@customer.example>"}`,
    `To: ${s.to ?? "support@t.parley.test"}`,
    ...(s.cc ? [`Cc: ${s.cc}`] : []),
    `Subject: ${s.subject ?? "Help with my order"}`,
    `Date: ${new Date().toUTCString()}`,
    ...(s.messageId === null ? [] : [`Message-ID: <${s.messageId ?? mid()}>`]),
    ...(s.inReplyTo ? [`In-Reply-To: <${s.inReplyTo}>`] : []),
    ...(s.references?.length ? [`References: ${s.references.map((r) => `<${r}>`).join(" ")}`] : []),
    ...Object.entries(s.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
  ];
  return `${h.join("\r\n")}\r\n\r\n${(s.text ?? "Hello, I need help.").replace(/\r?\n/g, "\r\n")}\r\n`;
}

export interface MailTenant extends Tenant {
  mailbox: string;
  inbound: (raw: string | Uint8Array, to?: string) => Promise<Response>;
  receive: (raw: string | Uint8Array, to?: string) => Promise<{ interactionId: string; duplicate: boolean; state: string; threadId: string; thread: string; appended: boolean; flags: string[] }>;
}

export const RESPONSES: NonNullable<TenantConfigInput["standardResponses"]> = [
  { id: "ack", name: "Acknowledgement", text: "Hello <$ Contact.FirstName | \"there\" $>, we received <$ Interaction.Subject $> as <$ Interaction.Id $>." },
  { id: "refund", name: "Refund", category: "billing", text: "Hi <$ Contact.FirstName $>, your refund is on its way. <$ Agent.FullName $>" },
];

export async function mailTenant(agents: AgentSpec[], extra: Partial<TenantConfigInput> = {}, queues?: TenantConfigInput["queues"], secrets?: Record<string, string>): Promise<MailTenant> {
  const box = `${uniq("support")}@t.parley.test`;
  const qs = queues ?? [
    { name: "inbound", media: ["email", "generic"], steps: [{ type: "route", targets: [{ skills: "*" }] }] },
    { name: "review", media: ["email"], steps: [] },
  ];
  const t = await makeTenant(agents, qs, {
    mailboxes: [{ address: box, name: "Test Support", workflow: "email" }],
    workflows: [{ name: "email", queue: qs[0]!.name }],
    standardResponses: RESPONSES,
    ...extra,
  }, { secrets });
  const inbound = (raw: string | Uint8Array, to = box) =>
    t.api(`/api/v1/email/inbound?to=${encodeURIComponent(to)}`, { method: "POST", headers: { "Content-Type": "message/rfc822" }, body: typeof raw === "string" ? raw.replaceAll("support@t.parley.test", box) : raw });
  const receive = async (raw: string | Uint8Array, to = box) => {
    const res = await inbound(raw, to);
    const body = (await res.json()) as Awaited<ReturnType<MailTenant["receive"]>>;
    if (res.status !== 202) throw new Error(`inbound: ${res.status} ${JSON.stringify(body)}`);
    return body;
  };
  return { ...t, mailbox: box, inbound, receive };
}

/** Runs the delivery consumer over the jobs waiting for these emails (as the Queue would). */
export async function deliver(tenant: string, emailIds: string[], opts: { attempts?: number; queue?: string } = {}) {
  const batch = createMessageBatch<DeliveryJob>(
    opts.queue ?? "parley-sends",
    emailIds.map((emailId, i) => ({ id: `msg-${i}-${emailId}`, timestamp: new Date(), attempts: opts.attempts ?? 1, body: { tenant, emailId } })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

/** Outbound emails of a tenant still to deliver (status 'sending'), oldest first. */
export async function sendingEmails(tenant: string): Promise<string[]> {
  const r = await env.SHARD_1.prepare("SELECT id FROM emails WHERE tenant_id = ? AND status = 'sending' ORDER BY created_at").bind(tenant).all<{ id: string }>();
  return r.results.map((x) => x.id);
}

export async function outbox(t: Tenant): Promise<{ id: string; email_id: string; interaction_id: string; mail_from: string; rcpt_to: string[]; subject: string; auto: boolean; delivered: boolean }[]> {
  return (await t.call<{ messages: never[] }>("/api/v1/outbox")).messages;
}

export async function outboxRaw(t: Tenant, id: string): Promise<string> {
  return (await t.api(`/api/v1/outbox/${id}`)).text();
}

/** Delivers everything still waiting to go out (the Queue's own consumer may be doing so too; both are idempotent). */
export async function flush(tenant: string): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const ids = await sendingEmails(tenant);
    if (ids.length === 0) return;
    await deliver(tenant, ids);
  }
  throw new Error("messages still sending after 10 rounds");
}

/** How many automatic replies were made for this tenant (whatever their delivery state). */
export async function autoCount(tenant: string): Promise<number> {
  const r = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM emails WHERE tenant_id = ? AND direction = 'outbound' AND auto = 1").bind(tenant).first<{ n: number }>();
  return r?.n ?? 0;
}

/** A message as Email Routing hands it to the email() handler: `raw` is the bytes (or a stream, which may
 *  be longer than `rawSize` says); `rejected()` is what the handler passed to setReject, if anything. */
export function routedMessage(raw: string | Uint8Array | ReadableStream<Uint8Array>, to: string, from = "jane@customer.example", rawSize?: number) {
  const bytes = typeof raw === "string" ? new TextEncoder().encode(raw) : raw;
  const stream = bytes instanceof ReadableStream ? bytes : new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(bytes), c.close()) });
  let rejected: string | null = null;
  const m = {
    from, to, headers: new Headers(), rawSize: rawSize ?? (bytes instanceof ReadableStream ? 0 : bytes.byteLength), raw: stream,
    setReject: (r: string) => void (rejected = r),
    forward: async () => ({ messageId: "" }), reply: async () => ({ messageId: "" }),
  } as unknown as ForwardableEmailMessage;
  return { m, rejected: () => rejected };
}
