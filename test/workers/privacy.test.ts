// A contact's data exported and erased (issue 16): the export's archive and its contents; erasure
// that leaves none of the contact's identifiers or words in any store (every D1 table, R2 keys and
// bodies, each Durable Object's storage, the event log), idempotent, resumable, with a signed receipt;
// and the retention policy's bounded slices.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { unzipSync, strFromU8 } from "fflate";
import { describe, expect, it } from "vitest";
import { agentStub, chatStub, dashboardStub, queueStub } from "../../durable-objects/names.ts";
import { eraseContact } from "../../workers/privacy/erase.ts";
import { applyRetention } from "../../workers/privacy/retention.ts";
import { flush, mailTenant, mid, type MailTenant } from "../email-helpers.ts";
import { session, SHOP, startChat } from "../chat-helpers.ts";
import { tenv, makeTenant, offerFor, post, ready, stateIs, submit, until } from "../helpers.ts";

const QUEUES = [{ name: "inbound", media: ["email", "generic", "chat"] as ("email" | "generic" | "chat")[], steps: [{ type: "route" as const, targets: [{ skills: "*" }] }] }];

/** Words and identifiers only this test's contact ever used. */
const secret = (tag: string) => ({
  address: `zelda.${tag}@privacy.example`,
  surname: `Quux${tag}`,
  words: [`xylophonic${tag}`, `ossifrage${tag}`, `palimpsest${tag}`, `quokka${tag}`, `marmalade${tag}`, `tangerine${tag}`],
});

function mailWithAttachment(s: ReturnType<typeof secret>, to: string): string {
  const b = "b-privacy-1";
  return [
    `From: Zelda ${s.surname} <${s.address}>`, `To: ${to}`, `Subject: Refund ${s.words[4]}`, `Date: ${new Date().toUTCString()}`, `Message-ID: <${mid("p")}>`,
    "MIME-Version: 1.0", `Content-Type: multipart/mixed; boundary="${b}"`, "",
    `--${b}`, "Content-Type: text/plain; charset=utf-8", "", `My secret word is ${s.words[0]}.`,
    `--${b}`, 'Content-Type: text/plain; name="passport.txt"', 'Content-Disposition: attachment; filename="passport.txt"', "", `passport of Zelda ${s.surname}: ${s.words[1]}`,
    `--${b}--`, "",
  ].join("\r\n");
}

async function contactWithHistory(tag: string) {
  const s = secret(tag);
  const t = await mailTenant([{ id: "a1", capacity: { email: 5, chat: 3, generic: 3 } }, { id: "adm", role: "admin" }], {
    chat: { workflow: "email", allowedOrigins: [SHOP] },
  }, QUEUES);
  await ready(t, "a1");
  // An email with an attachment, answered, noted and done.
  const r = await t.receive(mailWithAttachment(s, t.mailbox));
  await offerFor(t, "a1", r.interactionId);
  await post(t, `/api/v1/interactions/${r.interactionId}/accept`, "a1");
  await t.call(`/api/v1/interactions/${r.interactionId}/replies`, { method: "POST", as: "a1", json: { text: `Dear Zelda ${s.surname}, your ${s.words[5]} refund is on its way.`, send: true }, expect: 201 });
  await flush(t.id);
  await post(t, `/api/v1/interactions/${r.interactionId}/notes`, "a1", { text: `Called about ${s.words[2]}` });
  await post(t, `/api/v1/interactions/${r.interactionId}/done`, "a1");
  const contactId = (await t.call<{ contactId: string }>(`/api/v1/interactions/${r.interactionId}`)).contactId;
  // A chat with the same address: the same contact.
  const c = await startChat(t, { name: `Zelda ${s.surname}`, email: s.address });
  expect((await session(`${c.chatId}/messages`, c.token, { method: "POST", json: { clientId: "m1", text: `chat about ${s.words[3]}` }, origin: SHOP })).status).toBe(201);
  await offerFor(t, "a1", c.interactionId);
  await post(t, `/api/v1/interactions/${c.interactionId}/accept`, "a1");
  expect((await session(`${c.chatId}/end`, c.token, { method: "POST", origin: SHOP })).status).toBe(200);
  await post(t, `/api/v1/interactions/${c.interactionId}/done`, "a1");
  await until(async () => (await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM chat_messages WHERE tenant_id = ? AND interaction_id = ?").bind(t.id, c.interactionId).first<{ n: number }>())!.n > 0, "the transcript in D1");
  return { t, s, contactId, mailId: r.interactionId, chat: c };
}

const latin1 = (b: ArrayBuffer | Uint8Array) => { const u = b instanceof Uint8Array ? b : new Uint8Array(b); let out = ""; for (let i = 0; i < u.length; i += 8192) out += String.fromCharCode(...u.subarray(i, i + 8192)); return out; };
const text = (v: unknown): string => (v instanceof ArrayBuffer || v instanceof Uint8Array ? latin1(v) : typeof v === "object" && v !== null ? Object.values(v).map(text).join(" ") : String(v));

/** Every place the contact's data could be: each D1 table (FTS5's shadow tables included, their blobs
 *  read as bytes), every R2 object of the tenant (key and body), each object's storage. */
async function everyStore(t: MailTenant, objects: DurableObjectStub[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const tables = await env.SHARD_1.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations' AND name <> 'search_index'").all<{ name: string }>();
  for (const { name } of tables.results) out[`d1:${name}`] = (await env.SHARD_1.prepare(`SELECT * FROM "${name}"`).all()).results.map(text).join("\n");
  let cursor: string | undefined;
  do {
    const page = await env.BLOBS.list({ prefix: `${t.id}/`, ...(cursor ? { cursor } : {}) });
    for (const o of page.objects) out[`r2:${o.key}`] = `${o.key} ${latin1(await (await env.BLOBS.get(o.key))!.arrayBuffer())}`;
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  for (const [i, stub] of objects.entries()) {
    out[`object:${i}`] = await runInDurableObject(stub, (_o, state) => {
      const names = state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'").toArray();
      return names.map(({ name }) => state.storage.sql.exec(`SELECT * FROM "${name}"`).toArray().map(text).join("\n")).join("\n");
    });
  }
  return out;
}

const found = (stores: Record<string, string>, needles: string[]) =>
  Object.entries(stores).flatMap(([store, body]) => needles.filter((n) => body.toLowerCase().includes(n.toLowerCase())).map((n) => `${n} in ${store}`));

describe("a contact's export", () => {
  it("archives the contact, identifiers, interactions, messages, notes and files behind a signed link; another tenant's contact is 404", async () => {
    const { t, s, contactId, mailId, chat } = await contactWithHistory("ex1");
    const r = await t.call<{ url: string; files: number; interactions: number }>(`/api/v1/admin/contacts/${contactId}/export`, { method: "POST", as: "adm", expect: 201 });
    expect(r.files).toBe(1);
    const res = await fetchPath(r.url);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/zip");
    const zip = unzipSync(new Uint8Array(await res.arrayBuffer()));
    const doc = JSON.parse(strFromU8(zip["contact.json"]!)) as { contact: { id: string; last_name: string }; identifiers: { value: string }[]; interactions: { id: string; parts: { content?: string; file?: string }[]; chat: { text: string }[]; notes: { text: string }[]; history: unknown[] }[] };
    expect(doc.contact.id).toBe(contactId);
    expect(doc.identifiers.map((i) => i.value)).toContain(s.address);
    const mail = doc.interactions.find((i) => i.id === mailId)!;
    expect(mail.parts.some((p) => p.content?.includes(s.words[0]!))).toBe(true);
    expect(mail.notes[0]!.text).toContain(s.words[2]);
    expect(mail.history.length).toBeGreaterThan(2);
    expect(doc.interactions.find((i) => i.id === chat.interactionId)!.chat.some((m) => m.text.includes(s.words[3]!))).toBe(true);
    // The agent's reply (an interaction of its own) is there too.
    expect(JSON.stringify(doc.interactions)).toContain(s.words[5]);
    const file = mail.parts.find((p) => p.file)!.file!;
    expect(strFromU8(zip[file]!)).toContain(s.words[1]);

    // A forged or altered link, another tenant's admin, an unknown contact, a non-admin.
    expect((await fetchPath(r.url.replace(/sig=([0-9a-f])/, (_, c: string) => `sig=${c === "0" ? "1" : "0"}`))).status).toBe(403);
    const other = await makeTenant([{ id: "adm", role: "admin" }]);
    expect((await other.api(`/api/v1/admin/contacts/${contactId}/export`, { method: "POST", as: "adm" })).status).toBe(404);
    expect((await t.api(`/api/v1/admin/contacts/c_nobody/export`, { method: "POST", as: "adm" })).status).toBe(404);
    expect((await t.api(`/api/v1/admin/contacts/${contactId}/export`, { method: "POST", as: "a1" })).status).toBe(403);
    // The audit log says who exported whom.
    const audit = await t.call<{ events: { type: string; subject: string; actor: string }[] }>(`/api/v1/audit?type=parley.contact.exported`, { as: "adm" });
    expect(audit.events[0]).toMatchObject({ subject: contactId, actor: "agent:adm" });
  });
});

async function fetchPath(url: string): Promise<Response> {
  const { exports } = await import("cloudflare:workers");
  return exports.default.fetch(new Request(url.replace(/^https?:\/\/[^/]+/, "http://parley.test")));
}

describe("a contact's erasure", () => {
  it("leaves none of the contact's identifiers or words in any D1 table, R2 object, object's storage or the event log, and signs a receipt", async () => {
    const { t, s, contactId, mailId, chat } = await contactWithHistory("er1");
    // An export made before: its archive goes with the contact.
    await t.call(`/api/v1/admin/contacts/${contactId}/export`, { method: "POST", as: "adm", expect: 201 });
    const te = await tenv(t.id);
    const objects = () => [queueStub(te, t.id, "inbound"), agentStub(te, t.id, "a1"), chatStub(te, t.id, chat.interactionId), dashboardStub(te, t.id)];
    const needles = [s.address, s.surname, ...s.words];
    const before = found(await everyStore(t, objects()), needles);
    // The test's needles are really there to find: D1 rows, the FTS index, raw mail and the attachment in R2, the chat object.
    for (const where of ["d1:contact_identifiers", "d1:message_parts", "d1:search_index_content", "d1:chat_messages", "d1:notes", "r2:", "object:2"]) expect(before.some((f) => f.includes(where)), where).toBe(true);
    const seqBefore = (await env.SHARD_1.prepare("SELECT MAX(seq) AS n FROM event_log WHERE tenant_id = ?").bind(t.id).first<{ n: number }>())!.n;

    const r = await t.call<{ state: string; receipt: { removed: Record<string, number>; signature: string; contact: string } }>(`/api/v1/admin/contacts/${contactId}/erase`, { method: "POST", as: "adm" });
    expect(r.state).toBe("done");
    expect(r.receipt.contact).toBe(contactId);
    expect(r.receipt.removed).toMatchObject({ contacts: 1, identifiers: expect.any(Number), interactions: 3, message_parts: expect.any(Number), chat_messages: expect.any(Number), notes: 1, r2_objects: expect.any(Number), log_events: expect.any(Number) });
    expect(r.receipt.removed.r2_objects).toBeGreaterThanOrEqual(4);
    expect(r.receipt.removed.exports).toBe(1);
    // The contact's entry and each message's, counted as entries (not as the index's own writes).
    expect(r.receipt.removed.search_entries).toBeLessThanOrEqual(6);

    expect(found(await everyStore(t, objects()), needles)).toEqual([]);
    // The event log keeps its sequence: tombstones where the contact's events were, contiguous still.
    const log = (await env.SHARD_1.prepare("SELECT seq, data, erased_at, subject FROM event_log WHERE tenant_id = ? ORDER BY seq").bind(t.id).all<{ seq: number; data: string | null; erased_at: number | null; subject: string }>()).results;
    expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
    expect(log.length).toBeGreaterThan(seqBefore);
    expect(log.filter((e) => e.subject === mailId).every((e) => e.data === null && e.erased_at !== null)).toBe(true);
    expect(log.at(-1)).toMatchObject({ subject: contactId });
    // Search finds nothing; the contact and its interactions are gone.
    expect((await t.call<{ results: unknown[] }>(`/api/v1/search?q=${s.words[0]}`, { as: "a1" })).results).toEqual([]);
    expect((await t.api(`/api/v1/contacts/${contactId}`, { as: "a1" })).status).toBe(404);

    // Idempotent: the same receipt again. Verifiable; a changed one is not.
    const again = await t.call<{ state: string; receipt: { signature: string } }>(`/api/v1/admin/contacts/${contactId}/erase`, { method: "POST", as: "adm" });
    expect(again).toEqual(r);
    expect(await t.call(`/api/v1/admin/erasures/verify`, { method: "POST", as: "adm", json: { receipt: r.receipt } })).toEqual({ valid: true });
    expect(await t.call(`/api/v1/admin/erasures/verify`, { method: "POST", as: "adm", json: { receipt: { ...r.receipt, removed: { ...r.receipt.removed, contacts: 0 } } } })).toEqual({ valid: false });
    // Only admins erase; another tenant cannot reach the contact.
    const other = await makeTenant([{ id: "adm", role: "admin" }]);
    expect((await other.api(`/api/v1/admin/contacts/${contactId}/erase`, { method: "POST", as: "adm" })).status).toBe(404);
    expect((await t.api(`/api/v1/admin/contacts/${contactId}/erase`, { method: "POST", as: "a1" })).status).toBe(403);
  });

  it("waits for open work, resumes after an interruption, and leaves the rest of the tenant alone", async () => {
    const t = await makeTenant([{ id: "a1", capacity: { email: 5 } }, { id: "adm", role: "admin" }]);
    const mine = await Promise.all([1, 2, 3].map((i) => submit(t, { subject: `lemur${i} order`, externalId: `e-${i}`, contact: { email: "lemur@privacy.example" } })));
    const theirs = await submit(t, { subject: "other customer", contact: { email: "someone@else.example" } });
    const contactId = (await t.call<{ contactId: string }>(`/api/v1/interactions/${mine[0]}`)).contactId;
    // Queued work is not erased under its queue's feet: the job waits, naming it.
    const waiting = await t.api(`/api/v1/admin/contacts/${contactId}/erase`, { method: "POST", as: "adm" });
    expect(waiting.status).toBe(202);
    const w = await waiting.json<{ state: string; waitingFor: { id: string }[]; erasure: string }>();
    expect(w.state).toBe("waiting");
    expect(w.waitingFor.map((x) => x.id).sort()).toEqual([...mine].sort());
    await ready(t, "a1");
    for (const id of mine) {
      await offerFor(t, "a1", id);
      await post(t, `/api/v1/interactions/${id}/accept`, "a1");
      await post(t, `/api/v1/interactions/${id}/done`, "a1");
    }
    await stateIs(t, mine[2]!, "done");
    // Interrupted after its first slice (a budget of nothing): still running, then finished by the next call.
    const part = await eraseContact(await tenv(t.id), t.id, contactId, { by: "agent:adm" }, 0);
    expect(part.state).toBe("running");
    expect(part.erasure).toBe(w.erasure);
    const status = await t.call<{ state: string }>(`/api/v1/admin/erasures/${w.erasure}`, { as: "adm" });
    expect(status.state).toBe("running");
    const done = await t.call<{ state: string; receipt: { removed: Record<string, number> } }>(`/api/v1/admin/contacts/${contactId}/erase`, { method: "POST", as: "adm" });
    expect(done.state).toBe("done");
    expect(done.receipt.removed.interactions).toBe(3);
    expect((await t.api(`/api/v1/interactions/${theirs}`)).status).toBe(200);
    // The agent's and the queue's objects keep nothing about the erased work.
    const agentRows = await runInDurableObject(agentStub(await tenv(t.id), t.id, "a1"), (_o, st) => [...st.storage.sql.exec<{ body: string }>("SELECT body FROM outbox").toArray().map((r) => r.body), ...st.storage.sql.exec<{ id: string }>("SELECT id FROM work").toArray().map((r) => r.id)].join(" "));
    for (const id of mine) expect(agentRows).not.toContain(id);
  });
});

describe("the retention policy", () => {
  it("anonymises or erases finished interactions older than N days, a bounded slice per run, and nothing newer", async () => {
    const t = await makeTenant([{ id: "adm", role: "admin" }], undefined, { retention: { days: 30, mode: "anonymise" } });
    const old = await Promise.all([1, 2, 3, 4, 5].map((i) => submit(t, { subject: `old-kiwi ${i}`, contact: { email: `kiwi${i}@privacy.example` }, text: `old-kiwi words ${i}` })));
    const recent = await submit(t, { subject: "recent-kiwi", contact: { email: "recent@privacy.example" } });
    const long = Date.now() - 40 * 86_400_000;
    // Queued first (the queue's own write), then made old and finished, as years of history would be.
    for (const id of [...old, recent]) await stateIs(t, id, "queued");
    await env.SHARD_1.prepare("UPDATE interactions SET state = 'done', updated_at = ? WHERE tenant_id = ? AND id IN (SELECT value FROM json_each(?))").bind(long, t.id, JSON.stringify(old)).run();
    await env.SHARD_1.prepare("UPDATE interactions SET state = 'done' WHERE tenant_id = ? AND id = ?").bind(t.id, recent).run();
    const first = await applyRetention(await tenv(t.id), t.id, { days: 30, mode: "anonymise" }, Date.now(), 1, 2);
    expect(first.interactions).toBe(2);
    const second = await applyRetention(await tenv(t.id), t.id, { days: 30, mode: "anonymise" }, Date.now(), 5, 2);
    expect(second.interactions).toBe(3);
    expect((await applyRetention(await tenv(t.id), t.id, { days: 30, mode: "anonymise" }, Date.now())).interactions).toBe(0);
    const rows = (await env.SHARD_1.prepare("SELECT id, subject, contact_id, anonymised_at, media FROM interactions WHERE tenant_id = ?").bind(t.id).all<{ id: string; subject: string | null; contact_id: string | null; anonymised_at: number | null }>()).results;
    for (const id of old) expect(rows.find((r) => r.id === id)).toMatchObject({ subject: null, contact_id: null, anonymised_at: expect.any(Number) });
    expect(rows.find((r) => r.id === recent)).toMatchObject({ subject: "recent-kiwi", anonymised_at: null });
    const words = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM message_parts WHERE tenant_id = ? AND content LIKE '%old-kiwi%'").bind(t.id).first<{ n: number }>();
    expect(words!.n).toBe(0);

    // Erase mode: the rows go, the log keeps its numbers as tombstones.
    const e = await makeTenant([{ id: "adm", role: "admin" }]);
    const gone = await submit(e, { subject: "erase-kiwi", contact: { email: "erase@privacy.example" } });
    await stateIs(e, gone, "queued");
    await env.SHARD_1.prepare("UPDATE interactions SET state = 'stopped', updated_at = ? WHERE tenant_id = ? AND id = ?").bind(long, e.id, gone).run();
    expect((await applyRetention(await tenv(e.id), e.id, { days: 30, mode: "erase" })).interactions).toBe(1);
    expect((await e.api(`/api/v1/interactions/${gone}`)).status).toBe(404);
    const log = (await env.SHARD_1.prepare("SELECT seq, data FROM event_log WHERE tenant_id = ? AND subject = ? ORDER BY seq").bind(e.id, gone).all<{ seq: number; data: string | null }>()).results;
    expect(log.length).toBeGreaterThan(0);
    expect(log.every((l) => l.data === null)).toBe(true);
  });
});
