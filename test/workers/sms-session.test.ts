// SMS session mode: a (center, customer) pair's messages carried by one ChatSession until the agent
// ends it or the number's idle timeout passes; agents answer in the chat view and their words go
// back as SMS.
import { createExecutionContext, createMessageBatch, evictDurableObject, getQueueResult, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ChatMeta } from "../../durable-objects/chat-store.ts";
import { chatStub } from "../../durable-objects/names.ts";
import { unwrap } from "../../durable-objects/result.ts";
import { twilioSignature } from "../../workers/sms/twilio-signature.ts";
import worker from "../../workers/index.ts";
import { tenv, makeTenant, offerFor, post, ready, until } from "../helpers.ts";
import { session } from "../chat-helpers.ts";

const TOKEN = "tenant-own-twilio-token-5a7c9e1b3d";
const HOOK = "http://localhost:8787/api/v1/sms/twilio";
const CUSTOMER = "+14155550177";
let n = 0;

async function sessionTenant() {
  const number = `+1628555${String(1000 + (Date.now() % 8000) + n++).padStart(4, "0")}`;
  const t = await makeTenant([{ id: "ana", capacity: { chat: 2 } }], undefined, { numbers: [{ number, provider: "twilio", mode: "session", workflow: "main", accountSid: "AC-test", idleTimeoutSeconds: 600, secret: "twilio" }] }, { secrets: { twilio: TOKEN } });
  return Object.assign(t, { number });
}

async function text(center: string, body: string) {
  const sid = `SM${crypto.randomUUID().replace(/-/g, "")}`;
  const p: [string, string][] = [["MessageSid", sid], ["AccountSid", "AC-test"], ["From", CUSTOMER], ["To", center], ["Body", body], ["NumMedia", "0"]];
  const res = await exports.default.fetch(new Request("http://parley.test/api/v1/sms/twilio", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": await twilioSignature(TOKEN, HOOK, p) }, body: new URLSearchParams(p).toString() }));
  expect(res.status).toBe(200);
}

const sessionOf = async (tenant: string) => (await env.SHARD_1.prepare("SELECT interaction_id, status FROM sms_sessions WHERE tenant_id = ? ORDER BY started_at DESC").bind(tenant).all<{ interaction_id: string; status: string }>()).results;

describe("SMS session mode", () => {
  afterEach(() => vi.restoreAllMocks());

  it("carries a conversation over several messages in one chat, agents' words out as SMS, until the idle timeout ends it", async () => {
    const t = await sessionTenant();
    const sent: string[] = [];
    const realFetch = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!url.startsWith("https://api.twilio.com/")) return realFetch(input, init);
      const b = new URLSearchParams(String(init?.body ?? ""));
      sent.push(`${b.get("To")}: ${b.get("Body")}`);
      return Response.json({ sid: `SMo${sent.length}`, status: "queued" }, { status: 201 });
    });
    await ready(t, "ana");
    await text(t.number, "Hi, my lamp broke");
    const [s1] = await sessionOf(t.id);
    expect(s1).toMatchObject({ status: "active" });
    const id = s1!.interaction_id;
    await offerFor(t, "ana", id);
    await post(t, `/api/v1/interactions/${id}/accept`, "ana");
    await text(t.number, "It flickers when dimmed");
    // The same session, the same chat: the agent reads both in the chat view.
    expect(await sessionOf(t.id)).toHaveLength(1);
    const seen = await (await session(`${id}/messages?after=0`, t.tokens.ana!)).json<{ messages: { from: string; text: string }[] }>();
    expect(seen.messages.filter((m) => m.from === "customer").map((m) => m.text)).toEqual(["Hi, my lamp broke", "It flickers when dimmed"]);
    // The agent's answer goes out as SMS; a note among staff does not.
    expect((await session(`${id}/messages`, t.tokens.ana!, { method: "POST", json: { clientId: "a1", text: "Sorry! Try a firmware update." } })).status).toBe(201);
    expect((await session(`${id}/messages`, t.tokens.ana!, { method: "POST", json: { clientId: "a2", text: "note: check warranty", visibility: "staff" } })).status).toBe(201);
    const jobs = (await env.SHARD_1.prepare("SELECT id FROM sms_messages WHERE tenant_id = ? AND direction = 'outbound'").bind(t.id).all<{ id: string }>()).results;
    expect(jobs).toHaveLength(1);
    const batch = createMessageBatch("parley-sends", [{ id: `m-${jobs[0]!.id}`, timestamp: new Date(), attempts: 1, body: { tenant: t.id, smsId: jobs[0]!.id } }]);
    const ctx = createExecutionContext();
    await worker.queue!(batch, env, ctx);
    await getQueueResult(batch, ctx);
    await until(async () => sent.length === 1, "the SMS to Twilio");
    expect(sent).toEqual([`${CUSTOMER}: Sorry! Try a firmware update.`]);

    // Ten quiet minutes later (moved to now here), the number's idle timeout ends the session.
    const chat = chatStub(await tenv(t.id), t.id, id);
    await runInDurableObject(chat, (_o, state) => {
      const m = JSON.parse(state.storage.sql.exec<{ v: string }>("SELECT v FROM kv WHERE k = 'meta'").one().v) as ChatMeta;
      expect(m.idleAt).toBe(m.lastCustomerAt + 600_000);
      m.idleAt = Date.now() - 1;
      state.storage.sql.exec("UPDATE kv SET v = ? WHERE k = 'meta'", JSON.stringify(m));
    });
    await evictDurableObject(chat);
    await runDurableObjectAlarm(chat);
    expect(unwrap(await chat.state())).toMatchObject({ status: "ended", endReason: "idle" });
    await until(async () => (await sessionOf(t.id))[0]?.status === "ended", "the session record to end");
    // The transcript is in the history, as for a website chat.
    const i = await t.call<{ transcript?: { text: string }[] }>(`/api/v1/interactions/${id}`);
    expect(i.transcript?.map((m) => m.text)).toEqual(expect.arrayContaining(["Hi, my lamp broke", "Sorry! Try a firmware update."]));
    // The pair's next message starts a new session.
    await text(t.number, "Me again");
    const sessions = await sessionOf(t.id);
    expect(sessions).toHaveLength(2);
    expect(sessions[0]).toMatchObject({ status: "active" });
    expect(sessions[0]!.interaction_id).not.toBe(id);
  });
});
