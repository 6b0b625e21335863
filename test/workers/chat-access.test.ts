// Chat over the Worker: resume after a drop, a hibernated object woken with nothing lost, the HTTP
// fallback, transfer, consult, monitor and coach as each side sees them, files by signed URL, and
// every kind of bad request: someone else's chat, a foreign origin, bad frames.
import { evictDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { chatStub } from "../../durable-objects/names.ts";
import { unwrap } from "../../durable-objects/result.ts";
import { signPath } from "../../workers/chat/signed-url.ts";
import { agentTakes, chatTenant, Client, client, connect, session, SHOP, startChat } from "../chat-helpers.ts";
import { tenv, offerFor, post, ready, until } from "../helpers.ts";

const EVIL = "https://evil.example";

async function live(agents?: Parameters<typeof chatTenant>[0], chat?: Parameters<typeof chatTenant>[1]) {
  const t = await chatTenant(agents, chat);
  await ready(t, "ana");
  const s = await startChat(t);
  await agentTakes(t, "ana", s.interactionId, true);
  const kim = await client(s.chatId, s.token);
  const ana = await client(s.interactionId, t.tokens.ana!);
  await kim.next((f) => f.type === "hello", "kim's hello");
  await ana.next((f) => f.type === "hello", "ana's hello");
  return { t, s, kim, ana };
}

describe("chat: exactly once across drops", () => {
  it("resumes after a drop from the last sequence seen, and stores a resent message once", async () => {
    const { t, s, kim, ana } = await live();
    kim.send({ type: "msg", clientId: "k1", text: "first" });
    const k1 = await kim.next((f) => f.type === "ack" && f.clientId === "k1", "ack k1");
    const lastSeen = k1.seq as number;
    kim.close();
    // While the customer is away, the agent writes twice (once through the HTTP fallback).
    ana.send({ type: "msg", clientId: "a1", text: "are you there?" });
    await ana.next((f) => f.type === "ack" && f.clientId === "a1", "ack a1");
    const viaHttp = await session(`${s.interactionId}/messages`, t.tokens.ana!, { method: "POST", json: { clientId: "a2", text: "I'll wait" } });
    expect(viaHttp.status).toBe(201);
    // Back, from where it left off: exactly the two missed, then its unacknowledged resend.
    const again = await client(s.chatId, s.token, { after: lastSeen });
    await again.next((f) => f.message?.text === "I'll wait", "the second missed message");
    expect(again.messages().map((m) => m.text)).toEqual(["are you there?", "I'll wait"]);
    again.send({ type: "msg", clientId: "k1", text: "first" });
    expect(await again.next((f) => f.type === "ack" && f.clientId === "k1", "ack of the resend")).toMatchObject({ duplicate: true, seq: lastSeen });
    const all = await (await session(`${s.chatId}/messages?after=0`, s.token)).json<{ messages: { text: string }[] }>();
    expect(all.messages.filter((m) => m.text === "first")).toHaveLength(1);
    again.close();
    ana.close();
  });

  it("stores a burst of frames in arrival order, each acknowledged once, a repeat within the burst once", async () => {
    // More than a customer's default burst (test/security/chat.test.ts covers the limit itself).
    const { kim, ana } = await live(undefined, { messageRate: { max: 100, perSeconds: 10 } });
    for (let i = 0; i < 40; i++) kim.send({ type: "msg", clientId: `b${i}`, text: `burst ${i}` });
    kim.send({ type: "msg", clientId: "b7", text: "burst 7" });
    await ana.next((f) => f.message?.text === "burst 39", "the last of the burst at ana");
    const acks = await until(async () => {
      const a = kim.frames.filter((f) => f.type === "ack");
      return a.length === 41 ? a : null;
    }, "41 acks");
    const fresh = acks.filter((a) => !a.duplicate);
    expect(fresh.map((a) => a.clientId)).toEqual(Array.from({ length: 40 }, (_, i) => `b${i}`));
    const seqs = fresh.map((a) => a.seq as number);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(acks.find((a) => a.duplicate)).toMatchObject({ clientId: "b7", seq: fresh[7]!.seq });
    expect(ana.messages().filter((m) => m.text.startsWith("burst ")).map((m) => m.text)).toEqual(Array.from({ length: 40 }, (_, i) => `burst ${i}`));
    kim.close();
    ana.close();
  });

  it("wakes a hibernated object for a frame on a socket opened before, with nothing lost", async () => {
    const { t, s, kim, ana } = await live();
    kim.send({ type: "msg", clientId: "k1", text: "before the sleep" });
    await ana.next((f) => f.message?.text === "before the sleep", "k1 at ana");
    await evictDurableObject(chatStub(await tenv(t.id), t.id, s.interactionId));
    // The sockets survive the object's eviction; the next frame wakes it with their participants.
    ana.send({ type: "msg", clientId: "a1", text: "after the sleep" });
    await kim.next((f) => f.message?.text === "after the sleep", "a1 at kim");
    kim.send({ type: "msg", clientId: "k2", text: "still here" });
    await ana.next((f) => f.message?.text === "still here", "k2 at ana");
    const all = unwrap(await chatStub(await tenv(t.id), t.id, s.interactionId).since("customer", 0));
    expect(all.messages.filter((m) => m.kind === "text").map((m) => m.text)).toEqual(["before the sleep", "after the sleep", "still here"]);
    kim.close();
    ana.close();
  });

  it("works over plain HTTP: send, poll after a sequence, typing, read, end", async () => {
    const t = await chatTenant();
    await ready(t, "ana");
    const s = await startChat(t);
    const sent = await session(`${s.chatId}/messages`, s.token, { method: "POST", json: { clientId: "h1", text: "hello over http" }, origin: SHOP });
    expect(sent.status).toBe(201);
    expect(sent.headers.get("Access-Control-Allow-Origin")).toBe(SHOP);
    const { message } = await sent.json<{ message: { seq: number } }>();
    expect((await session(`${s.chatId}/messages`, s.token, { method: "POST", json: { clientId: "h1", text: "hello over http" } })).status).toBe(200);
    const polled = await (await session(`${s.chatId}/messages?after=${message.seq - 1}`, s.token)).json<{ messages: { text: string }[]; last: number; status: string }>();
    expect(polled).toMatchObject({ messages: [{ text: "hello over http" }], last: message.seq, status: "waiting" });
    expect((await session(`${s.chatId}/typing`, s.token, { method: "POST", json: { on: true } })).status).toBe(200);
    expect((await session(`${s.chatId}/read`, s.token, { method: "POST", json: { seq: message.seq } })).status).toBe(200);
    expect((await session(`${s.chatId}/messages?after=abc`, s.token)).status).toBe(400);
    expect((await session(`${s.chatId}/end`, s.token, { method: "POST" })).status).toBe(200);
    const late = await session(`${s.chatId}/messages`, s.token, { method: "POST", json: { clientId: "h2", text: "too late" } });
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ error: { code: "chat_ended" } });
  });
});

describe("chat: agents and supervisors", () => {
  it("keeps the customer connected through a transfer and tells them", async () => {
    const { t, s, kim, ana } = await live();
    await ready(t, "ben");
    await post(t, `/api/v1/interactions/${s.interactionId}/transfer`, "ana", { agent: "ben" });
    await kim.next((f) => f.message?.text === "Agent ana transferred the chat to Agent ben", "the transfer notice");
    await kim.next((f) => f.type === "status" && f.status === "waiting", "waiting again");
    await until(async () => ana.closed, "ana's socket to close");
    await agentTakes(t, "ben", s.interactionId, true);
    await kim.next((f) => f.message?.text === "Agent ben joined the chat", "ben joining");
    const ben = await client(s.interactionId, t.tokens.ben!);
    ben.send({ type: "msg", clientId: "b1", text: "Ben here, I can help" });
    await kim.next((f) => f.message?.text === "Ben here, I can help", "ben's message at kim");
    // Ana is out: she can no longer write, and reads nothing said after she left.
    expect((await session(`${s.interactionId}/messages`, t.tokens.ana!, { method: "POST", json: { clientId: "a9", text: "hi" } })).status).toBe(403);
    const after = await (await session(`${s.interactionId}/messages?after=0`, t.tokens.ana!)).json<{ messages: { text: string }[] }>();
    expect(after.messages.map((m) => m.text)).not.toContain("Ben here, I can help");
    expect(kim.closed).toBe(false);
    kim.close();
    ben.close();
  });

  it("shows consultation and coaching to staff only, and keeps a monitor silent and unseen", async () => {
    const { t, s, kim, ana } = await live([{ id: "ana", capacity: { chat: 3 } }, { id: "ben", capacity: { chat: 3 } }, { id: "sam", role: "supervisor", capacity: { chat: 1 } }]);
    await post(t, `/api/v1/chats/${s.interactionId}/invite`, "ana", { agent: "ben", mode: "consult" });
    // An agent nobody invited cannot slip in; a supervisor's modes are for supervisors.
    expect((await t.api(`/api/v1/chats/${s.interactionId}/join`, { method: "POST", as: "ben", json: { mode: "conference" } })).status).toBe(403);
    expect((await t.api(`/api/v1/chats/${s.interactionId}/join`, { method: "POST", as: "ben", json: { mode: "monitor" } })).status).toBe(403);
    await post(t, `/api/v1/chats/${s.interactionId}/join`, "ben", { mode: "consult" });
    await post(t, `/api/v1/chats/${s.interactionId}/join`, "sam", { mode: "monitor" });
    const ben = await client(s.interactionId, t.tokens.ben!);
    const sam = await client(s.interactionId, t.tokens.sam!);
    ben.send({ type: "msg", clientId: "b1", text: "Offer a voucher" });
    await ana.next((f) => f.message?.text === "Offer a voucher", "the consultation at ana");
    sam.send({ type: "msg", clientId: "s1", text: "psst" });
    expect(await sam.next((f) => f.type === "error", "the monitor's refusal")).toMatchObject({ error: { code: "forbidden" }, clientId: "s1" });
    await post(t, `/api/v1/chats/${s.interactionId}/mode`, "sam", { mode: "coach" });
    sam.send({ type: "msg", clientId: "s2", text: "Mention the warranty" });
    await ana.next((f) => f.message?.text === "Mention the warranty", "the coaching at ana");
    ana.send({ type: "msg", clientId: "a1", text: "Here is a voucher, and your warranty covers it" });
    await kim.next((f) => f.message?.text?.startsWith("Here is a voucher") === true, "ana's answer at kim");
    // The customer's view of who is here names the agent only.
    const st = await (await session(`${s.chatId}`, s.token)).json<{ participants: { id: string }[] }>();
    expect(st.participants.map((p) => p.id)).toEqual(["customer", "agent:ana"]);
    // A consultant or a coach does not end the customer's chat.
    expect((await session(`${s.interactionId}/end`, t.tokens.ben!, { method: "POST" })).status).toBe(403);
    expect((await t.api(`/api/v1/chats/${s.interactionId}/end`, { method: "POST", as: "ben" })).status).toBe(403);
    const from = ben.frames.length;
    ben.send({ type: "end" });
    expect(await ben.next((f) => f.type === "error", "ben's end refused", from)).toMatchObject({ error: { code: "forbidden" } });
    const seen = kim.messages().map((m) => m.text).join("\n");
    expect(seen).not.toMatch(/Offer a voucher|Mention the warranty|psst|Agent ben|Agent sam|invited/);
    expect(kim.frames.some((f) => f.type === "typing" && String(f.from).includes("ben"))).toBe(false);
    for (const c of [kim, ana, ben, sam]) c.close();
  });

  it("shows the agent a returning customer's earlier interactions", async () => {
    const t = await chatTenant();
    await ready(t, "ana");
    const first = await startChat(t, { email: "returning@example.com" });
    await agentTakes(t, "ana", first.interactionId, true);
    await post(t, `/api/v1/chats/${first.interactionId}/end`, "ana");
    await post(t, `/api/v1/interactions/${first.interactionId}/done`, "ana");
    const second = await startChat(t, { email: "Returning@Example.com", name: "Someone Else" });
    await agentTakes(t, "ana", second.interactionId, true);
    const view = await t.call<{ pastInteractions: { id: string }[]; contact: { id: string } }>(`/api/v1/chats/${second.interactionId}`, { as: "ana" });
    expect(view.pastInteractions.map((i) => i.id)).toContain(first.interactionId);
  });
});

describe("chat: files", () => {
  it("stores a file in R2 and serves it by a short-lived signed URL", async () => {
    const { s, kim, ana } = await live(undefined, { attachments: { maxBytes: 2048, types: ["image/*", "application/pdf"] } });
    const png = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 1, 2, 3]);
    const up = await session(`${s.chatId}/attachments?name=${encodeURIComponent("C:\\photos\\broken.png")}&clientId=f1`, s.token, { method: "POST", body: png, headers: { "Content-Type": "image/png" }, origin: SHOP });
    expect(up.status).toBe(201);
    const { message } = await up.json<{ message: { kind: string; text: string; file: { url: string; name: string; size: number } } }>();
    expect(message).toMatchObject({ kind: "file", text: "broken.png", file: { name: "broken.png", size: png.length } });
    const at = await ana.next((f) => f.message?.kind === "file", "the file at ana");
    const got = await exports.default.fetch(new Request(`http://parley.test${at.message!.file!.url}`));
    expect(got.status).toBe(200);
    expect(got.headers.get("Content-Type")).toBe("image/png");
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(png);
    // A tampered or expired link is refused.
    const forged = at.message!.file!.url.replace(/sig=([0-9a-f])/, (_, c: string) => `sig=${c === "0" ? "1" : "0"}`);
    expect((await exports.default.fetch(new Request(`http://parley.test${forged}`))).status).toBe(403);
    const path = at.message!.file!.url.split("?")[0]!;
    const old = await signPath(env.AUTH_SECRET, path, Date.now() - 3600_000);
    expect((await exports.default.fetch(new Request(`http://parley.test${old}`))).status).toBe(410);
    // A name in any script, kept for the download.
    const named = await session(`${s.chatId}/attachments?name=${encodeURIComponent("résumé.pdf")}&clientId=f5`, s.token, { method: "POST", body: png, headers: { "Content-Type": "application/pdf" } });
    const pdf = await exports.default.fetch(new Request(`http://parley.test${(await named.json<{ message: { file: { url: string } } }>()).message.file.url}`));
    expect(pdf.headers.get("Content-Disposition")).toBe(`attachment; filename="r_sum_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`);
    // Two types in one header must not pass as an image and render as a page.
    const sly = await session(`${s.chatId}/attachments?name=x.png&clientId=f6`, s.token, { method: "POST", body: png, headers: { "Content-Type": "image/png, text/html" } });
    expect(sly.status).toBe(415);
    // Wrong type, too big, empty: each named.
    const exe = await session(`${s.chatId}/attachments?name=x.exe&clientId=f2`, s.token, { method: "POST", body: png, headers: { "Content-Type": "application/x-msdownload" } });
    expect(exe.status).toBe(415);
    const big = await session(`${s.chatId}/attachments?name=big.pdf&clientId=f3`, s.token, { method: "POST", body: new Uint8Array(4096), headers: { "Content-Type": "application/pdf" } });
    expect(big.status).toBe(413);
    const empty = await session(`${s.chatId}/attachments?name=e.pdf&clientId=f4`, s.token, { method: "POST", body: new Uint8Array(0), headers: { "Content-Type": "application/pdf" } });
    expect(empty.status).toBe(400);
    kim.close();
    ana.close();
  });
});

describe("chat: bad requests", () => {
  it("lets only a chat's participants in", async () => {
    const t = await chatTenant();
    await ready(t, "ana");
    const mine = await startChat(t);
    const theirs = await startChat(t, { name: "Lou" });
    // My token on their chat, by either id: not found.
    expect((await session(`${theirs.chatId}/messages?after=0`, mine.token)).status).toBe(404);
    expect((await session(`${theirs.interactionId}`, mine.token)).status).toBe(404);
    const ws = await connect(theirs.chatId, mine.token, { origin: SHOP });
    expect(ws).toMatchObject({ status: 404, body: { error: { code: "no_chat" } } });
    expect((await session(`${mine.chatId}`, "")).status).toBe(401);
    expect((await session(`${mine.chatId}`, "not.a.jwt")).status).toBe(401);
    // A customer token is not an agent token.
    expect((await t.api(`/api/v1/chats/${mine.interactionId}`, { headers: { Authorization: `Bearer ${mine.token}` } })).status).toBe(401);
    // Staff of another tenant do not find it.
    const other = await chatTenant();
    expect((await session(`${mine.chatId}`, other.tokens.ana!)).status).toBe(404);
    expect((await session(`${mine.interactionId}`, other.tokens.ana!)).status).toBe(404);
    // An agent who is not in the chat cannot read or connect to it.
    expect((await session(`${mine.interactionId}/messages?after=0`, t.tokens.ben!)).status).toBe(403);
    expect(await connect(mine.interactionId, t.tokens.ben!)).toMatchObject({ status: 403, body: { error: { code: "not_a_participant" } } });
  });

  it("refuses pages on origins the tenant did not list", async () => {
    const t = await chatTenant();
    await ready(t, "ana");
    const start = await t.api(`/api/v1/chat/${t.id}/sessions`, { method: "POST", json: { clientId: "abcdefgh-9", name: "Kim" }, headers: { Origin: EVIL } });
    expect(start.status).toBe(403);
    expect(await start.json()).toMatchObject({ error: { code: "origin_not_allowed" } });
    expect(start.headers.get("Access-Control-Allow-Origin")).toBeNull();
    const pre = await exports.default.fetch(new Request(`http://parley.test/api/v1/chat/${t.id}/sessions`, { method: "OPTIONS", headers: { Origin: SHOP, "Access-Control-Request-Method": "POST" } }));
    expect(pre.status).toBe(204);
    expect(pre.headers.get("Access-Control-Allow-Headers")).toContain("Authorization");
    expect((await exports.default.fetch(new Request(`http://parley.test/api/v1/chat/${t.id}/sessions`, { method: "OPTIONS", headers: { Origin: EVIL } }))).status).toBe(403);
    const s = await startChat(t);
    expect((await exports.default.fetch(new Request(`http://parley.test/api/v1/chat/sessions/${s.chatId}/messages`, { method: "OPTIONS", headers: { Origin: EVIL } }))).status).toBe(403);
    expect(await connect(s.chatId, s.token, { origin: EVIL })).toMatchObject({ status: 403, body: { error: { code: "origin_not_allowed" } } });
    expect((await session(`${s.chatId}`, s.token, { origin: EVIL })).status).toBe(403);
    expect((await t.api(`/api/v1/chat/nosuchtenant/config`)).status).toBe(404);
    expect((await t.api(`/api/v1/chat/${t.id}/sessions`, { method: "POST", body: "{", headers: { "Content-Type": "application/json", Origin: SHOP } })).status).toBe(400);
  });

  it("answers bad frames with a named error and keeps the socket", async () => {
    const { kim } = await live();
    const errors = async (frame: string | ArrayBuffer, code: string) => {
      const from = kim.frames.length;
      kim.ws.send(frame);
      expect(await kim.next((f) => f.type === "error", `error ${code}`, from)).toMatchObject({ error: { code } });
    };
    await errors("x".repeat(20_000), "frame_too_large");
    await errors(JSON.stringify({ type: "msg", clientId: "big", text: "é".repeat(9000) }), "frame_too_large");
    await errors("{not json", "malformed_frame");
    await errors("[1,2]", "malformed_frame");
    await errors(new Uint8Array([1, 2, 3]).buffer, "malformed_frame");
    await errors(JSON.stringify({ type: "shout" }), "unknown_frame");
    await errors(JSON.stringify({ type: "msg", text: "no id" }), "invalid_frame");
    await errors(JSON.stringify({ type: "msg", clientId: "v1", text: "sneaky", visibility: "staff" }), "forbidden");
    await errors(JSON.stringify({ type: "msg", clientId: "e1", text: "  " }), "empty_message");
    kim.send({ type: "msg", clientId: "ok1", text: "still works" });
    await kim.next((f) => f.type === "ack" && f.clientId === "ok1", "the socket still works");
    kim.send({ type: "ping" });
    await kim.next((f) => f.type === "pong", "pong");
    expect(kim instanceof Client && !kim.closed).toBe(true);
    kim.close();
  });

  it("limits how many chats one address starts", async () => {
    // A day-long window: a fixed window that turned over between the posts would reset the count.
    const t = await chatTenant(undefined, { rateLimit: { max: 2, perSeconds: 86400 } });
    await ready(t, "ana");
    const start = () => t.api(`/api/v1/chat/${t.id}/sessions`, { method: "POST", json: { clientId: crypto.randomUUID(), name: "Kim" }, headers: { Origin: SHOP, "CF-Connecting-IP": "203.0.113.7" } });
    expect((await start()).status).toBe(201);
    expect((await start()).status).toBe(201);
    const third = await start();
    expect(third.status).toBe(429);
    expect(third.headers.get("Retry-After")).toBeTruthy();
    expect(third.headers.get("Access-Control-Allow-Origin")).toBe(SHOP);
  });

  it("names an offer's chat to the agent before they accept", async () => {
    const t = await chatTenant();
    await ready(t, "ana");
    const s = await startChat(t);
    const offer = await offerFor(t, "ana", s.interactionId);
    expect(offer.interactionId).toBe(s.interactionId);
  });
});
