// npm run social -- <whatsapp|messenger|telegram> "text" [--photo] [--from <id>] [--minutes-ago N]
// Writes to the local demo as a customer would, through the provider's signed webhook: a WhatsApp
// Cloud API, Messenger or Telegram update to Parley on $PORT (8787). --minutes-ago backdates the
// message (a delivery the provider made late; over 24 hours closes the window).
import { createHmac } from "node:crypto";
import { DEMO_SOCIAL } from "./social-local.ts";

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const photo = args.includes("--photo") ? (args.splice(args.indexOf("--photo"), 1), true) : false;
const from = flag("from");
const ago = Number(flag("minutes-ago") ?? "0");
const [channel, text = "Hello! Is anyone there?"] = args;
const base = `http://localhost:${process.env.PORT ?? 8787}`;
const at = Date.now() - ago * 60_000;
const id = `${Date.now()}${Math.floor(Math.random() * 1000)}`;

async function send(path: string, body: unknown, headers: Record<string, string>): Promise<void> {
  const raw = JSON.stringify(body);
  const res = await fetch(`${base}${path}`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: raw });
  console.log(`${res.status} ${await res.text()}`);
}

const hub = (raw: unknown) => ({ "X-Hub-Signature-256": `sha256=${createHmac("sha256", DEMO_SOCIAL.appSecret).update(JSON.stringify(raw)).digest("hex")}` });

if (channel === "whatsapp") {
  const wa = (from ?? "14155550188").replace(/^\+/, "");
  const message = photo ? { type: "image", image: { id: `DEMO${id}`, mime_type: "image/png", caption: text } } : { type: "text", text: { body: text } };
  const body = { object: "whatsapp_business_account", entry: [{ id: "DEMO", changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata: { display_phone_number: "15550100200", phone_number_id: DEMO_SOCIAL.phoneNumberId }, contacts: [{ profile: { name: "Noor Haddad" }, wa_id: wa }], messages: [{ from: wa, id: `wamid.DEMO${id}`, timestamp: String(Math.floor(at / 1000)), ...message }] } }] }] };
  await send("/api/v1/social/whatsapp", body, hub(body));
} else if (channel === "messenger") {
  const body = { object: "page", entry: [{ id: DEMO_SOCIAL.pageId, time: at, messaging: [{ sender: { id: from ?? "6100000000000042" }, recipient: { id: DEMO_SOCIAL.pageId }, timestamp: at, message: { mid: `m_demo_${id}`, text } }] }] };
  await send("/api/v1/social/meta", body, hub(body));
} else if (channel === "telegram") {
  const chat = Number(from ?? "424242");
  const message = { message_id: Number(id.slice(-6)), from: { id: chat, is_bot: false, first_name: "Mira" }, chat: { id: chat, type: "private" }, date: Math.floor(at / 1000), ...(photo ? { photo: [{ file_id: `DEMO${id}`, width: 16, height: 16 }], caption: text } : { text }) };
  await send(`/api/v1/social/telegram/${DEMO_SOCIAL.botId}`, { update_id: Number(id.slice(-9)), message }, { "X-Telegram-Bot-Api-Secret-Token": DEMO_SOCIAL.webhookSecret });
} else {
  console.error('usage: npm run social -- <whatsapp|messenger|telegram> "text" [--photo] [--from <id>] [--minutes-ago N]');
  process.exit(2);
}
