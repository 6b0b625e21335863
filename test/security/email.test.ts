// Attacks on the email doors (Email Routing's email() handler and POST /api/v1/email/inbound) and on
// agents' replies: inputs that used to burn seconds of CPU, lose a message, or answer 500.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import PostalMime from "postal-mime";
import worker from "../../workers/index.ts";
import { flush, mail, mailTenant, mid, outbox, outboxRaw, routedMessage, type MailTenant } from "../email-helpers.ts";
import { interaction, offerFor, post, ready, stateIs } from "../helpers.ts";


const smtp = (raw: string, to: string) => routedMessage(raw, to);

/** An HTML-only message (no text part): the text Parley keeps is derived from the HTML. */
function htmlMail(html: string, messageId: string, to = "support@t.parley.test"): string {
  return mail({ messageId, to, text: "x" }).replace("Content-Type: text/plain; charset=utf-8", "Content-Type: text/html; charset=utf-8").replace(/\r\n\r\nx\r\n$/, `\r\n\r\n${html}\r\n`);
}

interface StoredEmail {
  id: string;
  interaction_id: string;
  flags: string;
  from_addr: string | null;
  reply_to: string | null;
}
const stored = (t: MailTenant, messageId: string) =>
  env.SHARD_1.prepare("SELECT id, interaction_id, flags, from_addr, reply_to FROM emails WHERE tenant_id = ? AND direction = 'inbound' AND message_id = ?").bind(t.id, messageId).first<StoredEmail>();

async function partsOf(t: MailTenant, emailId: string) {
  const r = await env.SHARD_1.prepare("SELECT kind, content FROM message_parts WHERE tenant_id = ? AND email_id = ?").bind(t.id, emailId).all<{ kind: string; content: string | null }>();
  return r.results;
}

/** Through both doors: the HTTP ingest answers 202, email() accepts without throwing; both store and route. */
async function bothDoors(t: MailTenant, make: (messageId: string) => string): Promise<StoredEmail[]> {
  const viaHttp = mid("http");
  const res = await t.inbound(make(viaHttp));
  expect(res.status, await res.clone().text()).toBe(202);
  const viaSmtp = mid("smtp");
  const m = smtp(make(viaSmtp).replaceAll("support@t.parley.test", t.mailbox), t.mailbox);
  await worker.email(m.m, env, { waitUntil: () => {}, passThroughOnException: () => {} } as unknown as ExecutionContext);
  expect(m.rejected()).toBeNull();
  const rows: StoredEmail[] = [];
  for (const id of [viaHttp, viaSmtp]) {
    const row = await stored(t, id);
    expect(row, id).not.toBeNull();
    await stateIs(t, row!.interaction_id, "queued");
    rows.push(row!);
  }
  return rows;
}

describe("item 2: every parser of a received mail is linear in its input, with named limits", () => {
  it("an HTML-only mail of '<style a>' x 60,000 (the quadratic htmlToText regex) is stored and routed through both doors", async () => {
    const t = await mailTenant([{ id: "a1" }]);
    const html = `<p>Before</p>${"<style a>".repeat(60_000)}`;
    for (const row of await bothDoors(t, (id) => htmlMail(html, id))) {
      const parts = await partsOf(t, row.id);
      expect(parts.find((p) => p.kind === "text")?.content).toContain("Before");
    }
  });

  it("10,000 one-byte attachments: at most MAX_ATTACHMENTS_STORED are stored, the message is flagged attachments_truncated", async () => {
    const { MAX_ATTACHMENTS_STORED } = await import("../../workers/email/limits.ts");
    const t = await mailTenant([{ id: "a1" }]);
    const parts = Array.from({ length: 10_000 }, (_, i) => `--b\r\nContent-Disposition: attachment\r\n\r\n${String.fromCharCode(65 + (i % 26))}\r\n`);
    const id = mid("atts");
    const raw = mail({ messageId: id, text: "x" })
      .replace("Content-Type: text/plain; charset=utf-8", 'Content-Type: multipart/mixed; boundary="b"')
      .replace(/\r\n\r\nx\r\n$/, `\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee the files.\r\n${parts.join("")}--b--\r\n`);
    const r = await t.receive(raw);
    expect(r.flags).toContain("attachments_truncated");
    const row = await stored(t, id);
    const n = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM message_parts WHERE tenant_id = ? AND email_id = ? AND kind = 'attachment'").bind(t.id, row!.id).first<{ n: number }>();
    expect(n!.n).toBe(MAX_ATTACHMENTS_STORED);
    // The agent sees the flag on the interaction too; the rest stay in the raw message in R2.
    const i = await interaction(t, r.interactionId);
    expect((i as unknown as { attributes: Record<string, string> }).attributes.attachments_truncated).toMatch(/^100 of more than \d+ attachments stored/);
    // Past MAX_MIME_BOUNDARY_LINES postal-mime is not given the rest at all (10,000 parts cost 2.3 s of CPU).
    expect(r.flags).toContain("parts_truncated");
  });

  it("a 64 KB To header (the quadratic recipient regex) does not hide the mailbox named in Cc", async () => {
    const t = await mailTenant([{ id: "a1" }]);
    // Past the 64 KiB that used to be read, so Cc comes after the old window.
    const to = `${"a".repeat(30_000)}, ${Array.from({ length: 2200 }, (_, i) => `p${i}@list.example`).join(", ")}`;
    expect(to.length).toBeGreaterThan(66_000);
    const raw = mail({ to, cc: t.mailbox, messageId: mid("to64k") });
    const res = await t.api("/api/v1/email/inbound", { method: "POST", headers: { "Content-Type": "message/rfc822" }, body: raw });
    expect(res.status, await res.clone().text()).toBe(202);
  });

  it("MIME nested 100 deep is stored and routed, flagged mime_too_deep (postal-mime's maxNestingDepth)", async () => {
    const t = await mailTenant([{ id: "a1" }]);
    const depth = 100;
    let body = "Content-Type: text/plain\r\n\r\ndeep inside\r\n";
    for (let d = depth; d > 0; d--) body = `Content-Type: multipart/mixed; boundary="b${d}"\r\n\r\n--b${d}\r\n${body}--b${d}--\r\n`;
    const id = mid("deep");
    const raw = mail({ messageId: id, text: "x" }).replace(/Content-Type: text\/plain; charset=utf-8\r\n\r\nx\r\n$/, body);
    const r = await t.receive(raw);
    expect(r.flags).toContain("mime_too_deep");
    await stateIs(t, r.interactionId, "queued");
  });
});

describe("item 3: a mail the HTML sanitizer cannot take is kept, flagged and routed; a reply with it gets a 4xx", () => {
  it("'<div>' x 20,000 (HTMLRewriter's memory limit) is stored through both doors, flagged html_not_rendered", async () => {
    const t = await mailTenant([{ id: "a1" }]);
    const html = `<p>Hello there</p>${"<div>".repeat(20_000)}`;
    for (const row of await bothDoors(t, (id) => htmlMail(html, id))) {
      expect(JSON.parse(row.flags)).toContain("html_not_rendered");
      const parts = await partsOf(t, row.id);
      expect(parts.find((p) => p.kind === "text")?.content).toContain("Hello there");
      expect(parts.find((p) => p.kind === "html")).toBeUndefined();
    }
  });

  it("an agent's reply with '<div>' x 20,000 gets 400 html_too_complex, not a 500", async () => {
    const t = await mailTenant([{ id: "a1" }]);
    await ready(t, "a1");
    const r = await t.receive(mail({}));
    await offerFor(t, "a1", r.interactionId);
    await post(t, `/api/v1/interactions/${r.interactionId}/accept`, "a1");
    const res = await t.api(`/api/v1/interactions/${r.interactionId}/replies`, { method: "POST", as: "a1", json: { text: "hi", html: "<div>".repeat(20_000) } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("html_too_complex");
    expect(body.error.message).toMatch(/nest/);
  });
});

describe("item 8: valid but unusual addresses are kept faithfully or refused with a 4xx that names them", () => {
  async function replyTo(addr: string) {
    const t = await mailTenant([{ id: "a1" }]);
    await ready(t, "a1");
    const r = await t.receive(mail({ headers: { "Reply-To": addr } }));
    await offerFor(t, "a1", r.interactionId);
    await post(t, `/api/v1/interactions/${r.interactionId}/accept`, "a1");
    const res = await t.api(`/api/v1/interactions/${r.interactionId}/replies`, { method: "POST", as: "a1", json: { text: "Thanks", send: true } });
    return { t, res };
  }

  it('Reply-To: "john doe"@example.com: the reply goes to the quoted address, kept as received', async () => {
    const { t, res } = await replyTo('"john doe"@example.com');
    expect(res.status, await res.clone().text()).toBe(201);
    await flush(t.id);
    const msg = (await outbox(t)).find((m) => m.auto === false)!;
    expect(msg.rcpt_to).toEqual(['"john doe"@example.com']);
    const raw = await outboxRaw(t, msg.id);
    expect(raw).toMatch(/^To: "john doe"@example\.com\r$/m);
    const parsed = await PostalMime.parse(raw);
    expect(parsed.to?.[0]?.address).toBe("john doe@example.com");
  });

  it("Reply-To: user@[127.0.0.1]: the reply is refused with 400 unsupported_address naming it", async () => {
    const { res } = await replyTo("user@[127.0.0.1]");
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("unsupported_address");
    expect(body.error.message).toContain("user@[127.0.0.1]");
  });
});

describe("item 11b: the contact is the author (From), replies go to Reply-To", () => {
  it("mailing-list mail from three senders with one Reply-To makes three contacts; both addresses are recorded; the reply goes to the list", async () => {
    const t = await mailTenant([{ id: "a1" }]);
    await ready(t, "a1");
    const list = "users@lists.example";
    const senders = ["ann@a.example", "bob@b.example", "cy@c.example"];
    const received = [];
    for (const s of senders) received.push(await t.receive(mail({ from: `${s.split("@")[0]} <${s}>`, subject: `Question from ${s}`, headers: { "Reply-To": `Users list <${list}>`, "List-Id": "<users.lists.example>" } })));
    const contacts = await Promise.all(received.map(async (r) => (await interaction(t, r.interactionId)).contactId));
    expect(new Set(contacts).size).toBe(3);
    const msgs = await t.call<{ messages: { from: { addr: string }; replyTo: { addr: string } | null }[] }>(`/api/v1/interactions/${received[0]!.interactionId}/messages`);
    expect(msgs.messages[0]).toMatchObject({ from: { addr: senders[0] }, replyTo: { addr: list } });
    await offerFor(t, "a1", received[0]!.interactionId);
    await post(t, `/api/v1/interactions/${received[0]!.interactionId}/accept`, "a1");
    const c = await t.call<{ to: { addr: string }[] }>(`/api/v1/interactions/${received[0]!.interactionId}/compose`, { as: "a1" });
    expect(c.to.map((a) => a.addr)).toEqual([list]);
  });

  it("Sender identifies the contact only where From is missing", async () => {
    const t = await mailTenant([{ id: "a1" }]);
    const raw = mail({ headers: { Sender: "Sec <sec@corp.example>" } }).replace(/^From: .*\r\n/m, "");
    const r = await t.receive(raw);
    const i = await interaction(t, r.interactionId);
    expect(i.contactId).not.toBeNull();
    const c = await t.call<{ identifiers: { kind: string; value: string }[] }>(`/api/v1/contacts/${i.contactId}`, { as: "a1" });
    expect(c.identifiers).toContainEqual(expect.objectContaining({ kind: "email", value: "sec@corp.example" }));
  });
});
