// npm start: migrations, the demo tenant, wrangler dev on $PORT, and where to go.
import { applyMigrations, ensureDevVars, startDev, waitForHealth } from "./local.ts";
import { ACME_INGEST_KEY, DEMO_INGEST_KEY, DEMO_READ_KEY, loadDemoTenants } from "./demo-tenants.ts";
import { buildWidget } from "./build-widget.ts";
import { buildWeb } from "./build-web.ts";
import { seedDemoClassifier } from "./demo-classifier.ts";
import { seedDemoSocial, startFakeProviders } from "./social-local.ts";

const port = Number(process.env.PORT ?? 8787);
const base = `http://localhost:${port}`;

ensureDevVars();
console.log("Applying D1 migrations (local: the control database and both shards)…");
applyMigrations();
console.log("Building the chat widget…");
await buildWidget();
console.log("Building the agent desktop and the supervisor console…");
await buildWeb();

// The social channels' providers, stood in for locally (the demo has no network): their one host is
// the only one the demo may send to over http.
const providerPort = port + 3;
const providers = await startFakeProviders(providerPort).then(
  (s) => (s.unref(), true),
  (e: unknown) => (console.warn(`  (no local social providers on :${providerPort}: ${e instanceof Error ? e.message : String(e)})`), false),
);
const dev = startDev(port, { vars: { DEV_OUTBOUND_HOST: `127.0.0.1:${providerPort}` } });
const stop = () => {
  try {
    if (dev.pid) process.kill(-dev.pid, "SIGTERM");
  } catch {
    // already gone
  }
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
dev.on("exit", (code) => process.exit(code ?? 0));

await waitForHealth(base);
// The demo tenants come through the platform operators' API, as a real operator's would.
console.log("Creating the demo tenants through the platform API…");
for (const line of await loadDemoTenants(base)) console.log(`  ${line}`);
console.log("Training the demo classifier (demo/classifier-examples.jsonl)…");
const classifier = await seedDemoClassifier(base).catch((e: unknown) => `not ready (${e instanceof Error ? e.message : String(e)})`);
const social = providers ? await seedDemoSocial(base, providerPort).catch((e: unknown) => `not set up (${e instanceof Error ? e.message : String(e)})`) : "not set up";
// wrangler dev does not fire cron triggers by itself; run the sweep every minute as production would.
setInterval(() => void fetch(`${base}/__scheduled?cron=*+*+*+*+*`).catch(() => {}), 60_000).unref();

console.log(`
  Parley is running at ${base}

  API health          ${base}/api/health
  OpenAPI document    ${base}/api/openapi.json
  Demo website        ${base}/demo/
  Agent desktop       ${base}/desk/      (log in as ana, ben, chloe or dev)
  Supervisor console  ${base}/console/   (log in as sam; alex for the admin section)
  Platform console    ${base}/platform/  (operators: the PLATFORM_SECRET in .dev.vars)

  Demo tenant "demo", password "parley-demo" for every login:
    agents      ana (billing, spanish), ben (tech), chloe (sales, french), dev (trainee)
    supervisor  sam
    admin       alex
  Ingest key   ${DEMO_INGEST_KEY}   (writes: interactions, mail, SMS)
  Read key     ${DEMO_READ_KEY}     (reads: history, messages, attachments, the outbox)
  Second tenant "acme" (on the second shard, SHARD_1): admin "owner", password "parley-demo",
  ingest key ${ACME_INGEST_KEY}

  Platform operators (tenants, shards, suspension): the PLATFORM_SECRET in .dev.vars
    curl -s ${base}/api/platform/v1/tenants -H "authorization: Bearer $(grep ^PLATFORM_SECRET= .dev.vars | cut -d= -f2)"

  Try it:
    curl -s ${base}/api/v1/auth/login -H 'content-type: application/json' \\
      -d '{"tenant":"demo","login":"ben","password":"parley-demo"}'
    curl -s ${base}/api/v1/interactions -H 'authorization: Bearer ${DEMO_INGEST_KEY}' -H 'content-type: application/json' \\
      -d '{"media":"email","workflow":"email","externalId":"demo-1","subject":"Printer on fire","text":"Help","contact":{"email":"pat@example.com"}}'

  Email (mailbox support@demo.parley.test; replies and acknowledgements land in the local outbox,
  NOT delivered: ${base}/api/v1/outbox with the read key):
    printf 'From: Pat <pat@example.com>\\r\\nTo: support@demo.parley.test\\r\\nSubject: Printer on fire\\r\\nMessage-ID: <demo-1@example.com>\\r\\n\\r\\nHelp!\\r\\n' > /tmp/m.eml
    curl -s ${base}/cdn-cgi/handler/email?from=pat@example.com\\&to=support@demo.parley.test --data-binary @/tmp/m.eml   # the email() handler
    curl -s ${base}/api/v1/email/inbound -H 'authorization: Bearer ${DEMO_INGEST_KEY}' -H 'content-type: message/rfc822' --data-binary @/tmp/m.eml
  SMS (Twilio's webhook POST ${base}/api/v1/sms/twilio, signed with the demo tenant's secret "twilio",
  which npm start sets to TWILIO_AUTH_TOKEN from .dev.vars, over http://localhost:8787/api/v1/sms/twilio):
  +14155550100 takes SMS one by one (paging),
  +14155550101 as conversations (session mode, worked in a chat pane); docs/sms.md.
  Web form:      curl -s ${base}/api/v1/forms/demo.contact-us -H 'content-type: application/json' -H 'origin: ${base}' \\
                   -d '{"name":"Pat Lee","email":"pat@example.com","message":"My lamp flickers"}'
  Classifier (${classifier}; console: Classifier tab as alex; docs/content-analyzer.md):
    curl -s ${base}/api/v1/classify -H 'authorization: Bearer ${DEMO_INGEST_KEY}' -H 'content-type: application/json' \\
      -d '{"text":"I was charged twice, please refund me"}'
  WhatsApp, Messenger, Telegram (${social}; docs/social.md). Write as a customer, then answer in the
  desktop; what the customer would receive is printed here:
    npm run social -- whatsapp "Hi, my order is late" --photo
    npm run social -- messenger "Do you ship to Canada?"
    npm run social -- telegram "Hello"
    npm run social -- whatsapp "Still there?" --minutes-ago 1500   # over 24 h: templates only
  Web callback:  curl -s ${base}/api/v1/callbacks -H 'content-type: application/json' \\
                   -d '{"tenant":"demo","phone":"+14155550123","topic":"billing","windowStart":"'$(date -u -d '+1 min' +%FT%TZ)'","windowEnd":"'$(date -u -d '+2 hour' +%FT%TZ)'"}'
`);
