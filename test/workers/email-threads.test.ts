// Threading across rounds, client quirks, contact-scoped Message-IDs, replies to finished work
// offered to the previous agent first.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { flush, mail, mailTenant, mid, outbox, outboxRaw } from "../email-helpers.ts";
import { interaction, offerFor, post, ready, stateIs, until } from "../helpers.ts";
import PostalMime from "postal-mime";

/** The agent takes the offer, replies through Parley and sends; returns our reply's Message-ID. */
async function agentReplies(t: Awaited<ReturnType<typeof mailTenant>>, agent: string, id: string, text: string): Promise<{ replyId: string; messageId: string }> {
  await offerFor(t, agent, id);
  await post(t, `/api/v1/interactions/${id}/accept`, agent);
  const r = await t.call<{ id: string; emailId: string; state: string }>(`/api/v1/interactions/${id}/replies`, { method: "POST", as: agent, json: { text, send: true }, expect: 201 });
  expect(r.state).toBe("sending");
  const row = await env.SHARD_1.prepare("SELECT message_id FROM emails WHERE tenant_id = ? AND id = ?").bind(t.id, r.emailId).first<{ message_id: string }>();
  return { replyId: r.id, messageId: row!.message_id };
}

describe("threading", () => {
  it("follows a conversation over three rounds, including an Outlook reply without References and a tag-only reply", async () => {
    const t = await mailTenant([{ id: "a1", capacity: { email: 5 } }]);
    await ready(t, "a1");
    const m1 = mid("r1");
    const first = await t.receive(mail({ messageId: m1, subject: "Printer on fire" }));
    expect(first.thread).toBe("new");

    // Round 2: our reply, then the customer answers it with proper headers: same interaction (still open).
    const ours1 = await agentReplies(t, "a1", first.interactionId, "Please unplug it.");
    const r2 = await t.receive(mail({ messageId: mid("r2"), subject: "Re: Printer on fire", inReplyTo: ours1.messageId, references: [m1, ours1.messageId] }));
    expect(r2).toMatchObject({ threadId: first.threadId, thread: "in-reply-to", appended: true, interactionId: first.interactionId });

    // The agent finishes; round 3 is an Outlook reply: "AW:", In-Reply-To only, no References.
    await post(t, `/api/v1/interactions/${first.interactionId}/done`, "a1");
    await stateIs(t, first.interactionId, "done");
    const r3 = await t.receive(mail({ messageId: mid("r3"), subject: "AW: Printer on fire", inReplyTo: ours1.messageId, headers: { "Thread-Topic": "Printer on fire", "Thread-Index": "AdrXkYxH2Fs=" } }));
    expect(r3.threadId).toBe(first.threadId);
    expect(r3.appended).toBe(false);
    expect(r3.interactionId).not.toBe(first.interactionId);
    const i3 = await interaction(t, r3.interactionId);
    expect(i3.threadId).toBe(first.threadId);

    // A reply whose client dropped every header but kept our subject tag still joins.
    const tag = /\[#([A-Z0-9]{5})\]/.exec((await t.call<{ subject: string }>(`/api/v1/interactions/${first.interactionId}/compose`, { as: "a1" })).subject)![1]!;
    const r4 = await t.receive(mail({ messageId: mid("r4"), subject: `RE[2]: Printer on fire [#${tag}]` }));
    expect(r4).toMatchObject({ threadId: first.threadId, thread: "tag" });
  });

  it("keeps two contacts answering the same Message-ID in separate threads, each following its own", async () => {
    const t = await mailTenant([{ id: "a1" }]);
    const m0 = mid("news");
    // A message to the mailbox with two customers on it (a newsletter-style broadcast).
    const orig = await t.receive(mail({ messageId: m0, from: "Ann <ann@a.example>", cc: "bob@b.example", subject: "Our new prices" }));
    const ann = await t.receive(mail({ messageId: mid("ann"), from: "Ann <ann@a.example>", subject: "Re: Our new prices", inReplyTo: m0, references: [m0] }));
    expect(ann.threadId).toBe(orig.threadId);
    const bob = await t.receive(mail({ messageId: mid("bob"), from: "Bob <bob@b.example>", subject: "Re: Our new prices", inReplyTo: m0, references: [m0] }));
    expect(bob.threadId).not.toBe(orig.threadId);
    expect(bob.thread).toBe("new");
    // Bob's next reply, again only to the shared Message-ID, joins Bob's thread, not Ann's.
    const bob2 = await t.receive(mail({ messageId: mid("bob2"), from: "Bob <bob@b.example>", subject: "Re: Our new prices", inReplyTo: m0 }));
    expect(bob2.threadId).toBe(bob.threadId);
    const carol = await t.receive(mail({ messageId: mid("carol"), from: "carol@c.example", subject: "Re: Our new prices", references: [m0] }));
    expect(new Set([orig.threadId, bob.threadId, carol.threadId]).size).toBe(3);
  });

  it("matches the normalized subject from the same contact only where configured, and never across contacts", async () => {
    const off = await mailTenant([{ id: "a1" }]);
    const a = await off.receive(mail({ subject: "Invoice 42 wrong" }));
    const b = await off.receive(mail({ subject: "Re: Invoice 42 wrong" }));
    expect(b.threadId).not.toBe(a.threadId);

    const on = await mailTenant([{ id: "a1" }], { email: { threadBySubjectDays: 7 } });
    const c = await on.receive(mail({ subject: "Invoice 42 wrong" }));
    const d = await on.receive(mail({ subject: "SV: Fwd: RE: Invoice 42 wrong" }));
    expect(d).toMatchObject({ threadId: c.threadId, thread: "subject" });
    const other = await on.receive(mail({ from: "someone@else.example", subject: "Re: Invoice 42 wrong" }));
    expect(other.threadId).not.toBe(c.threadId);
  });

  it("offers a reply to finished work to the agent who handled it, then to anyone once the wait lapses", async () => {
    const t = await mailTenant([{ id: "a1", capacity: { email: 2 } }, { id: "a2", capacity: { email: 2 } }], { email: { previousAgentWaitSeconds: 1 } });
    await ready(t, "a1");
    const m1 = mid("p1");
    const first = await t.receive(mail({ messageId: m1 }));
    await offerFor(t, "a1", first.interactionId);
    await post(t, `/api/v1/interactions/${first.interactionId}/accept`, "a1");
    await post(t, `/api/v1/interactions/${first.interactionId}/done`, "a1");
    await stateIs(t, first.interactionId, "done");
    // a2 is ready and idle longer than a1 will be; the reply still goes to a1 first.
    await ready(t, "a2");
    const again = await t.receive(mail({ messageId: mid("p2"), inReplyTo: m1, subject: "Re: Help with my order" }));
    expect(again.threadId).toBe(first.threadId);
    await offerFor(t, "a1", again.interactionId);
    const i = await stateIs(t, again.interactionId, "offered");
    expect(i.history.find((h) => h.action === "queued")?.reason).toMatchObject({ preferredAgent: "a1" });

    // When a1 is away, the preference lapses after the wait and a2 gets the next reply.
    await post(t, `/api/v1/interactions/${again.interactionId}/accept`, "a1");
    await post(t, `/api/v1/interactions/${again.interactionId}/done`, "a1");
    await stateIs(t, again.interactionId, "done");
    await post(t, "/api/v1/me/logout", "a1");
    const third = await t.receive(mail({ messageId: mid("p3"), inReplyTo: m1, subject: "Re: Help with my order" }));
    expect(third.appended).toBe(false);
    await offerFor(t, "a2", third.interactionId);
    // The queue object writes its history to D1 through its outbox, a moment after the offer.
    const i3 = await until(async () => {
      const i = await interaction(t, third.interactionId);
      return i.history.some((h) => h.action === "preference_lapsed") ? i : null;
    }, "the lapse in the history");
    expect(i3.history.map((h) => h.action)).toContain("preference_lapsed");
  });
});

describe("agent replies", () => {
  it("builds the reply with mimetext: From the mailbox, our Message-ID, In-Reply-To, References, the tag, text and HTML, attachments, Cc and Bcc", async () => {
    const t = await mailTenant([{ id: "a1", capacity: { email: 5 } }]);
    await ready(t, "a1");
    const m1 = mid("orig");
    const first = await t.receive(mail({ messageId: m1, subject: "Où est ma commande ?", cc: "boss@customer.example", text: "Line one\nLine two" }));
    await offerFor(t, "a1", first.interactionId);
    await post(t, `/api/v1/interactions/${first.interactionId}/accept`, "a1");
    const compose = await t.call<{ to: { addr: string }[]; cc: { addr: string }[]; subject: string; quoted: string }>(`/api/v1/interactions/${first.interactionId}/compose`, { as: "a1" });
    expect(compose.to[0]!.addr).toBe("jane@customer.example");
    expect(compose.cc.map((c) => c.addr)).toEqual(["boss@customer.example"]);
    expect(compose.subject).toMatch(/^Re: Où est ma commande \? \[#[A-Z0-9]{5}\]$/);
    expect(compose.quoted).toContain("> Line two");

    const refund = await t.call<{ text: string }>(`/api/v1/responses/refund/render`, { method: "POST", as: "a1", json: { interactionId: first.interactionId } });
    expect(refund.text).toBe("Hi Jane, your refund is on its way. Agent a1");
    const d = await t.call<{ id: string; emailId: string }>(`/api/v1/interactions/${first.interactionId}/replies`, {
      method: "POST", as: "a1", expect: 201,
      json: { text: refund.text, html: `<p>${refund.text}</p><script>x()</script>`, bcc: [{ addr: "audit@t.parley.test" }] },
    });
    // Drafts can be saved and attachments added before sending.
    await t.call(`/api/v1/replies/${d.id}`, { method: "PUT", as: "a1", json: { text: `${refund.text}\n\nRegards\n\n${compose.quoted}`, html: `<p>${refund.text}</p><p>Regards</p>` } });
    const att = await t.api(`/api/v1/replies/${d.id}/attachments?name=label.pdf`, { method: "POST", as: "a1", headers: { "Content-Type": "application/pdf" }, body: new Uint8Array([37, 80, 68, 70, 45, 49]) });
    expect(att.status).toBe(201);
    const drafts = await t.call<{ replies: { id: string }[] }>("/api/v1/replies", { as: "a1" });
    expect(drafts.replies.map((r) => r.id)).toContain(d.id);
    const sent = await t.call<{ state: string }>(`/api/v1/replies/${d.id}/send`, { method: "POST", as: "a1", json: {} });
    expect(sent.state).toBe("sending");
    await flush(t.id);
    const box = await outbox(t);
    const msg = box.find((m) => m.interaction_id === d.id)!;
    expect(msg.delivered).toBe(false);
    expect(msg.rcpt_to.sort()).toEqual(["audit@t.parley.test", "boss@customer.example", "jane@customer.example"]);
    const parsed = await PostalMime.parse(await outboxRaw(t, msg.id));
    expect(parsed.from?.address).toBe(t.mailbox);
    expect(parsed.inReplyTo).toBe(`<${m1}>`);
    expect(parsed.references).toContain(`<${m1}>`);
    expect(parsed.subject).toBe(compose.subject);
    expect(parsed.text).toContain("Regards");
    expect(parsed.text).toContain("> Line two");
    expect(parsed.html).toContain("<p>Regards</p>");
    expect(parsed.html).not.toContain("<script");
    expect(parsed.attachments.map((a) => a.filename)).toEqual(["label.pdf"]);
    expect(parsed.headers.find((h) => h.key === "bcc")).toBeUndefined();
    await stateIs(t, d.id, "done");
    // The customer's answer to our reply threads back.
    const back = await t.receive(mail({ messageId: mid("back"), inReplyTo: parsed.messageId!.replace(/[<>]/g, ""), subject: `Re: ${parsed.subject}` }));
    expect(back.threadId).toBe(first.threadId);
  });

  it("forwards the customer's message with its attachments, and keeps internal notes", async () => {
    const t = await mailTenant([{ id: "a1" }]);
    await ready(t, "a1");
    const { pdfAttachment } = await import("../fixtures/email/corpus.ts");
    const first = await t.receive(pdfAttachment({ to: t.mailbox, messageId: () => mid("pdf") }).raw);
    await offerFor(t, "a1", first.interactionId);
    await post(t, `/api/v1/interactions/${first.interactionId}/accept`, "a1");
    await t.call(`/api/v1/interactions/${first.interactionId}/notes`, { method: "POST", as: "a1", json: { text: "Asked legal" }, expect: 201 });
    const f = await t.call<{ id: string; state: string }>(`/api/v1/interactions/${first.interactionId}/forward`, { method: "POST", as: "a1", json: { to: [{ addr: "legal@partner.example" }], text: "Can you check this?" }, expect: 201 });
    expect(f.state).toBe("sending");
    await flush(t.id);
    const msg = (await outbox(t)).find((m) => m.interaction_id === f.id)!;
    expect(msg.rcpt_to).toEqual(["legal@partner.example"]);
    const parsed = await PostalMime.parse(await outboxRaw(t, msg.id));
    expect(parsed.subject).toMatch(/^Fwd: /);
    expect(parsed.text).toContain("Forwarded message");
    expect(parsed.attachments.length).toBeGreaterThan(0);
    const i = await interaction(t, first.interactionId);
    expect((i as unknown as { notes: { text: string }[] }).notes[0]!.text).toBe("Asked legal");
  });

  it("refuses a reply from an agent who does not hold the work, and bad recipients", async () => {
    const t = await mailTenant([{ id: "a1" }, { id: "a2" }]);
    await ready(t, "a1");
    const first = await t.receive(mail({}));
    await offerFor(t, "a1", first.interactionId);
    await post(t, `/api/v1/interactions/${first.interactionId}/accept`, "a1");
    const res = await t.api(`/api/v1/interactions/${first.interactionId}/replies`, { method: "POST", as: "a2", json: { text: "hi" } });
    expect(res.status).toBe(403);
    const bad = await t.api(`/api/v1/interactions/${first.interactionId}/replies`, { method: "POST", as: "a1", json: { text: "hi", to: [{ addr: "not an address" }] } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^to\.0\.addr/);
  });
});

describe("review fixes: who the sender is, and whom we answer", () => {
  it("never finds a contact by display name: two addresses with one name are two contacts", async () => {
    const t = await mailTenant([{ id: "a1" }]);
    const a = await t.receive(mail({ from: "Jane Doe <jane@a.example>", subject: "one" }));
    const b = await t.receive(mail({ from: "Jane Doe <evil@b.example>", subject: "two" }));
    const ia = await interaction(t, a.interactionId);
    const ib = await interaction(t, b.interactionId);
    expect(ia.contactId).not.toBe(ib.contactId);
  });

  it("answers Reply-To, and leaves our own plus-addressed mailbox out of reply-all", async () => {
    const t = await mailTenant([{ id: "a1" }]);
    await ready(t, "a1");
    const plus = t.mailbox.replace("@", "+orders@");
    const r = await t.receive(mail({ from: "noreply@shop.example", to: plus, cc: "friend@x.example", headers: { "Reply-To": "Kim <kim@customer.example>" } }), plus);
    await offerFor(t, "a1", r.interactionId);
    await post(t, `/api/v1/interactions/${r.interactionId}/accept`, "a1");
    const c = await t.call<{ to: { addr: string }[]; cc: { addr: string }[] }>(`/api/v1/interactions/${r.interactionId}/compose`, { as: "a1" });
    expect(c.to.map((a) => a.addr)).toEqual(["kim@customer.example"]);
    expect(c.cc.map((a) => a.addr)).toEqual(["friend@x.example"]);
  });

  it("stores and acknowledges a message whose Message-ID and References have no '@'", async () => {
    const t = await mailTenant([{ id: "a1" }], { workflows: [{ name: "email", queue: "inbound", acknowledge: "ack" }] });
    const raw = mail({ messageId: `20240101.${Date.now()}`, references: ["12345"] });
    const r = await t.receive(raw);
    expect(r.duplicate).toBe(false);
    await flush(t.id);
    const box = await outbox(t);
    expect(box).toHaveLength(1);
    const parsed = await PostalMime.parse(await outboxRaw(t, box[0]!.id));
    expect(parsed.inReplyTo).toBeUndefined();
  });
});
