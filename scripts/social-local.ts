// npm start: the demo tenant's social channels, offline. A local stand-in for the providers' APIs
// (WhatsApp's Graph API, Messenger's Send API, Telegram's Bot API) answers Parley's sends and media
// lookups and prints what a customer would receive; the demo tenant gets a WhatsApp number, a page and
// a bot pointed at it (DEV_OUTBOUND_HOST), with its secrets set through the admin API. `npm run social`
// writes as a customer. A failure here is reported, not fatal.
import { createServer, type Server } from "node:http";

export const DEMO_SOCIAL = {
  phoneNumberId: "100000000000001",
  pageId: "200000000000002",
  botId: "3000000003",
  appSecret: "demo-meta-app-secret",
  webhookSecret: "demo-telegram-hook-secret",
};

// A 48x48 striped orange square: the photo a demo customer sends.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAADAAAAAwCAIAAADYYG7QAAAAjklEQVR4nO3VMQrAIBBEUU/iwXISD5aDWacKgiCKMMVCnMCHLaf4jb5US17uua/lvtwkq5pacrKqmYIcakaQSU0P8qlpQVY1m6CzNe3ZW9VMQQ41I8ikpgf51GzoOP4LYJnaYBmWRTdYpjZYhmXRDZapDZZhWXSDZWqDZVgW3WCZ2mAZlkU3WKY2WPY7y17C+//iLPnD8QAAAABJRU5ErkJggg==",
  "base64",
);

/** The providers' APIs on 127.0.0.1:port: every send printed and answered with an id. */
export function startFakeProviders(port: number, log: (line: string) => void = console.log): Promise<Server> {
  let n = 0;
  const server = createServer((req, res) => {
    const url = req.url ?? "";
    const json = (v: unknown) => res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(v));
    if (req.method === "GET" && /^\/v21\.0\/DEMO/.test(url)) return json({ url: `http://127.0.0.1:${port}/media/photo.png`, mime_type: "image/png" });
    if (req.method === "GET" && url.startsWith("/media/")) return void res.writeHead(200, { "Content-Type": "image/png" }).end(PNG);
    if (req.method === "GET" && /\/getFile\?/.test(url)) return json({ ok: true, result: { file_path: "photos/demo.png" } });
    if (req.method === "GET" && /\/file\/bot/.test(url)) return void res.writeHead(200, { "Content-Type": "image/png" }).end(PNG);
    if (req.method !== "POST") return void res.writeHead(404).end();
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      n++;
      let b: Record<string, unknown> = {};
      try {
        b = JSON.parse(body) as Record<string, unknown>;
      } catch {
        // printed as it came
      }
      const said = (b.text as { body?: string } | undefined)?.body ?? (b.template as { name?: string } | undefined)?.name ?? (b.message as { text?: string } | undefined)?.text ?? b.text ?? body.slice(0, 200);
      if (url.includes("/messages") && !url.includes("/me/")) {
        log(`  [WhatsApp → +${String(b.to)}] ${b.type === "template" ? `template ${String(said)}` : String(said)}`);
        return json({ messaging_product: "whatsapp", messages: [{ id: `wamid.DEMO_OUT_${n}` }] });
      }
      if (url.endsWith("/me/messages")) {
        log(`  [Messenger → ${String((b.recipient as { id?: string } | undefined)?.id)}] ${String(said)}`);
        return json({ recipient_id: "x", message_id: `m_demo_out_${n}` });
      }
      log(`  [Telegram → ${String(b.chat_id)}] ${String(b.text ?? b.caption ?? said)}`);
      return json({ ok: true, result: { message_id: 1000 + n } });
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

async function call(base: string, token: string, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${path}`, { method, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const out = (await res.json()) as Record<string, unknown> & { error?: { message: string } };
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${out.error?.message ?? ""}`);
  return out;
}

/** Gives the demo tenant a WhatsApp number, a Facebook page and a Telegram bot on the local providers. */
export async function seedDemoSocial(base: string, providerPort: number): Promise<string> {
  const login = await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ tenant: "demo", login: "alex", password: "parley-demo" }) });
  if (!login.ok) throw new Error(`login as alex: ${login.status}`);
  const { token } = (await login.json()) as { token: string };
  const secrets = { "meta-app": DEMO_SOCIAL.appSecret, "meta-verify": "demo-verify-token", whatsapp: "demo-whatsapp-token", page: "demo-page-token", "telegram-bot": `${DEMO_SOCIAL.botId}:demo-bot-token`, "telegram-hook": DEMO_SOCIAL.webhookSecret };
  for (const [name, value] of Object.entries(secrets)) await call(base, token, "PUT", `/api/v1/admin/secrets/${name}`, { value });
  const { config } = (await call(base, token, "GET", "/api/v1/admin/config")) as { config: Record<string, unknown> };
  const local = `http://127.0.0.1:${providerPort}`;
  const common = { workflow: "chat", appSecret: "meta-app", verifyToken: "meta-verify" };
  await call(base, token, "PUT", "/api/v1/admin/config", {
    ...config,
    social: {
      whatsapp: [{ phoneNumberId: DEMO_SOCIAL.phoneNumberId, number: "+15550100200", ...common, token: "whatsapp", apiBase: `${local}/v21.0` }],
      meta: [{ pageId: DEMO_SOCIAL.pageId, ...common, token: "page", apiBase: `${local}/v21.0` }],
      telegram: [{ botId: DEMO_SOCIAL.botId, workflow: "chat", token: "telegram-bot", webhookSecret: "telegram-hook", apiBase: local }],
      templates: [{ name: "order_update", language: "en", text: "Hi {{1}}, there is news about your order. Reply to continue.", params: ['<$ Contact.FirstName | "there" $>'] }],
      fallbackTemplate: "order_update",
    },
  });
  return `WhatsApp +15550100200, a Messenger page and a Telegram bot, answered by local stand-ins on ${local}`;
}
