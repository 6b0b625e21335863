// D1 round trips per operation (issue 17): each operation is made one at a time against a wrangler dev
// started with BENCH=1, on the "hostile" doors tenant (bench/lib/doors.ts) loaded beside the bench's
// own, so every bench that exercises an operation measures it on the same config and code. Before
// each operation the counts are reset (GET /api/bench/d1?reset=1); the counts read as soon as it is
// answered are its synchronous round trips, per place (the Worker, the queue, agent and chat objects);
// what the objects' outboxes write behind it is read a moment later and reported apart.
import { percentile } from "./stats.ts";
import { applyMigrationsIn, ensurePortsFree, removeWorkdir, startDev, waitUpOrBuildError, workdir, type Workdir } from "./dev.ts";
import { agentReady, CUSTOMER, doorsTenant, FORM, login, MAILBOX, ORIGIN, plainMail, publicOrigin, send, signingSecrets, tenantKeys, TENANT, twilioWebhook, visitorIp, type Answer } from "./doors.ts";

export type TripOp = "generic_ingest" | "offer" | "accept" | "done" | "email_inbound" | "email_routing" | "form" | "sms_webhook" | "chat_start" | "chat_message" | "reply_send";

/** The targets: each ingest door at most 2 before it answers; a chat message 0; offer and accept 0 on the synchronous path. */
export const TRIP_TARGETS: Partial<Record<TripOp, number>> = { generic_ingest: 2, email_inbound: 2, email_routing: 2, form: 2, sms_webhook: 2, chat_start: 2, chat_message: 0, offer: 0, accept: 0 };

/** Loads the doors tenant into the bench's snapshot (before wrangler dev starts). */
export async function prepareTrips(w: Workdir): Promise<void> {
  const { loadBigTenant } = await import("./tenant.ts");
  await loadBigTenant(doorsTenant(), tenantKeys().ingest, w, signingSecrets());
}

type Counts = Record<string, number>;
const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
const OUTBOX = /-outbox$/;

let lastTrail: string[] = [];
async function counts(base: string, reset: boolean): Promise<Counts> {
  const a = await send(`${base}/api/bench/d1${reset ? "?reset=1" : ""}`, { timeoutMs: 10_000 });
  if (a.status !== 200) throw new Error(`GET /api/bench/d1: ${a.status} ${a.body.slice(0, 200)} (is BENCH=1 set?)`);
  const r = JSON.parse(a.body) as { counts: Counts; trail: string[] };
  lastTrail = r.trail;
  return r.counts;
}

const ok = (a: Answer, what: string) => {
  if (a.status < 200 || a.status >= 300) throw new Error(`${what}: ${a.status} ${a.body.slice(0, 200)}`);
  return a;
};

export interface TripsResult {
  /** Per operation: the median of its synchronous round trips (every place but the outboxes). */
  d1_round_trips: Partial<Record<TripOp, number>>;
  /** Per operation: the median per place, synchronous and written behind by outboxes. */
  by_place: Partial<Record<TripOp, { sync: Counts; behind: Counts }>>;
  /** Per operation: the last sample's trips (place and SQL), answered ones first. */
  trail: Partial<Record<TripOp, string[]>>;
  targets_met: Partial<Record<TripOp, boolean>>;
}

/** Measures `ops` (each `samples` times, one at a time). */
export async function measureTrips(base: string, w: Workdir, ops: TripOp[], samples = 5): Promise<TripsResult> {
  const keys = tenantKeys();
  const agent = await login(base, "agent");
  await agentReady(base, agent);
  const sup = await login(base, "supervisor");
  const signedUrl = `${publicOrigin(w)}/api/v1/sms/twilio`;
  const run = Date.now().toString(36);
  let n = 0;
  const id = (p: string) => `${run}-${p}${(n++).toString(36)}`;
  const agentAuth = { authorization: `Bearer ${agent}`, "content-type": "application/json" };
  const ingest = () => send(`${base}/api/v1/interactions`, { method: "POST", headers: { authorization: `Bearer ${keys.ingest}`, "content-type": "application/json" }, body: JSON.stringify({ media: "generic", workflow: "main", subject: `trips ${id("g")}`, contact: { email: CUSTOMER } }), timeoutMs: 30_000 });
  /** Waits until the interaction is offered to the agent (the queue routes it just after the ingest answers). */
  const waitOffer = async (it: string): Promise<void> => {
    const end = Date.now() + 10_000;
    let last = "";
    while (Date.now() < end) {
      last = ok(await send(`${base}/api/v1/me`, { headers: agentAuth, timeoutMs: 30_000 }), "me").body;
      if ((JSON.parse(last) as { offers: { interactionId: string }[] }).offers.some((o) => o.interactionId === it)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`${it} was never offered; the agent: ${last.slice(0, 600)}`);
  };
  /** An interaction offered to the agent (its id). */
  const offered = async (): Promise<string> => {
    const it = JSON.parse(ok(await ingest(), "ingest").body).id as string;
    await waitOffer(it);
    return it;
  };
  const chatStart = () => send(`${base}/api/v1/chat/${TENANT}/sessions`, { method: "POST", headers: { origin: ORIGIN, "content-type": "application/json", "cf-connecting-ip": visitorIp(n) }, body: JSON.stringify({ clientId: id("c"), name: "Trips" }), timeoutMs: 30_000 });
  let chat: { chatId: string; token: string } | null = null;
  let inHand: string[] = [];
  let answerable: string[] = [];

  const drain = async () => {
    const me = JSON.parse(ok(await send(`${base}/api/v1/me`, { headers: agentAuth, timeoutMs: 30_000 }), "me").body) as { offers: { interactionId: string }[]; work: { interactionId: string }[] };
    for (const o of me.offers) if (!inHand.includes(o.interactionId)) await send(`${base}/api/v1/interactions/${o.interactionId}/accept`, { method: "POST", headers: agentAuth, body: "{}", timeoutMs: 30_000 });
    for (const wk of [...me.offers, ...me.work]) {
      if (inHand.includes(wk.interactionId)) continue;
      ok(await send(`${base}/api/v1/interactions/${wk.interactionId}/done`, { method: "POST", headers: agentAuth, body: "{}", timeoutMs: 30_000 }), `done ${wk.interactionId}`);
    }
  };

  /** Sets up what an operation needs (not counted), then the operation itself (counted). */
  const steps: Record<TripOp, { before?: () => Promise<unknown>; op: () => Promise<Answer>; settle?: (a: Answer) => Promise<void> }> = {
    generic_ingest: { op: ingest },
    // The routing pass that makes the offer runs in the queue and agent objects: counted until the offer is there.
    offer: { op: ingest, settle: (a) => waitOffer(JSON.parse(a.body).id as string) },
    accept: {
      before: async () => void inHand.push(await offered()),
      op: async () => {
        // The offer has reached the agent when the ingest answered (the routing pass runs inside it).
        const it = inHand.pop()!;
        return send(`${base}/api/v1/interactions/${it}/accept`, { method: "POST", headers: agentAuth, body: "{}", timeoutMs: 30_000 });
      },
    },
    done: {
      before: async () => {
        const it = await offered();
        ok(await send(`${base}/api/v1/interactions/${it}/accept`, { method: "POST", headers: agentAuth, body: "{}", timeoutMs: 30_000 }), "accept");
        inHand.push(it);
      },
      op: async () => send(`${base}/api/v1/interactions/${inHand.pop()!}/done`, { method: "POST", headers: agentAuth, body: "{}", timeoutMs: 30_000 }),
    },
    email_inbound: { op: () => send(`${base}/api/v1/email/inbound?to=${encodeURIComponent(MAILBOX)}`, { method: "POST", headers: { authorization: `Bearer ${keys.ingest}`, "content-type": "message/rfc822" }, body: plainMail({ messageId: `${id("i")}@trips.bench`, subject: "trips" }), timeoutMs: 30_000 }) },
    email_routing: { op: () => send(`${base}/cdn-cgi/handler/email?from=${encodeURIComponent(CUSTOMER)}&to=${encodeURIComponent(MAILBOX)}`, { method: "POST", headers: { "content-type": "message/rfc822" }, body: plainMail({ messageId: `${id("e")}@trips.bench`, subject: "trips" }), timeoutMs: 30_000 }) },
    form: {
      op: () => {
        const key = id("f");
        return send(`${base}/api/v1/forms/${TENANT}.${FORM}`, { method: "POST", headers: { origin: ORIGIN, "content-type": "application/x-www-form-urlencoded", "idempotency-key": key, "cf-connecting-ip": visitorIp(n) }, body: `name=Trips&email=${encodeURIComponent(CUSTOMER)}&message=${encodeURIComponent(`form ${key}`)}`, timeoutMs: 30_000 });
      },
    },
    sms_webhook: {
      op: () => {
        const sid = `SM${run.padEnd(8, "0").slice(0, 8)}${(n++).toString(16).padStart(24, "0")}`;
        const wh = twilioWebhook({ sid, from: "+14155550123", body: `trips ${sid}` }, signedUrl);
        return send(`${base}/api/v1/sms/twilio`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": wh.signature }, body: wh.form, timeoutMs: 30_000 });
      },
    },
    chat_start: { op: chatStart },
    chat_message: {
      before: async () => {
        if (chat) return;
        // A chat the agent has taken, kept out of the drain: the customer writes in it.
        const c = JSON.parse(ok(await chatStart(), "chat start").body) as { chatId: string; token: string; interactionId: string };
        inHand.push(c.interactionId);
        await waitOffer(c.interactionId);
        ok(await send(`${base}/api/v1/interactions/${c.interactionId}/accept`, { method: "POST", headers: agentAuth, body: "{}", timeoutMs: 30_000 }), "accept the chat");
        chat = c;
      },
      op: () => send(`${base}/api/v1/chat/sessions/${chat!.chatId}/messages`, { method: "POST", headers: { authorization: `Bearer ${chat!.token}`, origin: ORIGIN, "content-type": "application/json" }, body: JSON.stringify({ clientId: id("m"), text: "trips message" }), timeoutMs: 30_000 }),
    },
    reply_send: {
      before: async () => {
        if (!answerable.length) answerable = [JSON.parse(ok(await steps.email_inbound.op(), "mail").body).interactionId as string];
        const d = ok(await send(`${base}/api/v1/interactions/${answerable[0]}/replies`, { method: "POST", headers: { authorization: `Bearer ${sup}`, "content-type": "application/json" }, body: JSON.stringify({ text: "Thanks, on it.", send: false }), timeoutMs: 30_000 }), "draft");
        inHand.push(JSON.parse(d.body).id as string);
      },
      op: () => send(`${base}/api/v1/replies/${inHand.pop()!}/send`, { method: "POST", headers: { authorization: `Bearer ${sup}`, "content-type": "application/json" }, body: "{}", timeoutMs: 30_000 }),
    },
  };

  const out: TripsResult = { d1_round_trips: {}, by_place: {}, targets_met: {}, trail: {} };
  for (const op of ops) {
    const sync: Counts[] = [];
    const behind: Counts[] = [];
    // One unmeasured go first: config caches and first-use reads are not the steady state.
    for (let i = 0; i <= samples; i++) {
      await drain();
      await steps[op].before?.();
      await new Promise((r) => setTimeout(r, 300));
      await counts(base, true);
      const answer = ok(await steps[op].op(), op);
      const now = await counts(base, false);
      out.trail[op] = lastTrail;
      const routed = steps[op].settle ? (await steps[op].settle!(answer), await counts(base, false)) : now;
      await new Promise((r) => setTimeout(r, 300));
      const later = await counts(base, true);
      if (i === 0) continue;
      // Offer: what the queue and agent objects did inside the ingest (the routing pass); the rest is the ingest's own.
      const pick = (c: Counts) => Object.fromEntries(Object.entries(c).filter(([place]) => (op === "offer" ? place === "queue" || place === "agent" : true)));
      sync.push(pick(Object.fromEntries(Object.entries(op === "offer" ? routed : now).filter(([p]) => !OUTBOX.test(p)))));
      behind.push(pick(Object.fromEntries(Object.entries(later).filter(([p]) => OUTBOX.test(p)))));
      // Whatever reached the agent is finished, so its capacity never fills and each sample routes alike.
      await drain();
    }
    const places = [...new Set(sync.flatMap((c) => Object.keys(c)))];
    const med = (cs: Counts[], p: string) => median(cs.map((c) => c[p] ?? 0));
    const syncBy = Object.fromEntries(places.map((p) => [p, med(sync, p)]));
    const behindPlaces = [...new Set(behind.flatMap((c) => Object.keys(c)))];
    out.by_place[op] = { sync: syncBy, behind: Object.fromEntries(behindPlaces.map((p) => [p, med(behind, p)])) };
    const total = median(sync.map((c) => Object.values(c).reduce((a, b) => a + b, 0)));
    out.d1_round_trips[op] = total;
    const target = TRIP_TARGETS[op];
    if (target !== undefined) out.targets_met[op] = total <= target;
  }
  return out;
}

/** The round trips of `ops` on a wrangler dev of its own (a fresh snapshot with the doors tenant), for a
 *  bench to report beside its figures once its own dev has stopped. */
export async function tripsFor(ops: TripOp[], port: number, logPath: string, samples = 5): Promise<TripsResult> {
  const w = workdir();
  try {
    await ensurePortsFree(port, port + 1000);
    applyMigrationsIn(w);
    await prepareTrips(w);
    const dev = startDev(port, w, { logPath, inspectorPort: port + 1000, vars: { BENCH: "1" } });
    try {
      await waitUpOrBuildError(dev);
      return await measureTrips(dev.base, w, ops, samples);
    } finally {
      await dev.stop();
    }
  } finally {
    removeWorkdir(w);
  }
}
