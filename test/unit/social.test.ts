// The social channels' pure core: each provider's envelope into events, sends into request bodies,
// the customer-service window, and the settings' cross-checks.
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../workers/config/schema.ts";
import { metaEvents, metaSend, OUR_METADATA } from "../../workers/social/meta.ts";
import { telegramEvents, telegramSend } from "../../workers/social/telegram.ts";
import { automaticPlan, freeTextRefusal, HUMAN_AGENT_MS, windowOf, WINDOW_MS } from "../../workers/social/window.ts";
import { whatsappEvents, whatsappSend } from "../../workers/social/whatsapp.ts";

const wa = (messages: unknown[], statuses: unknown[] = []) => ({ entry: [{ changes: [{ value: { metadata: { phone_number_id: "123" }, contacts: [{ wa_id: "14155550142", profile: { name: "Kerry" } }], messages, statuses } }] }] });

describe("WhatsApp envelope", () => {
  it("maps every message type, with media refs, names, map links and reactions", () => {
    const { events } = whatsappEvents(
      wa([
        { from: "14155550142", id: "w1", timestamp: "1700000000", type: "text", text: { body: "hi" } },
        { from: "14155550142", id: "w2", timestamp: "1700000001", type: "document", document: { id: "M1", mime_type: "application/pdf", filename: "invoice.pdf", caption: "see" } },
        { from: "14155550142", id: "w3", timestamp: "1700000002", type: "location", location: { latitude: 1.5, longitude: 2.25 } },
        { from: "14155550142", id: "w4", timestamp: "1700000003", type: "reaction", reaction: { message_id: "w1", emoji: "❤" } },
        { from: "14155550142", id: "w5", timestamp: "1700000004", type: "interactive", interactive: { type: "button_reply", button_reply: { id: "b", title: "Yes please" } } },
        { from: "14155550142", id: "w6", timestamp: "1700000005", type: "unsupported", errors: [{ code: 131051 }] },
      ]),
    );
    expect(events.map((e) => (e.type === "message" ? [e.kind, e.text] : e.type))).toEqual([
      ["text", "hi"], ["document", "see"], ["location", expect.stringContaining("mlat=1.500000")], ["reaction", "reacted ❤"], ["interactive", "Yes please"], ["unknown", expect.stringContaining("unsupported")],
    ]);
    const doc = events[1]!;
    expect(doc).toMatchObject({ user: "+14155550142", userName: "Kerry", at: 1_700_000_001_000, media: [{ ref: "M1", contentType: "application/pdf", name: "invoice.pdf" }] });
    expect(events[3]).toMatchObject({ about: "w1" });
    expect(events[5]).toMatchObject({ flagged: expect.stringMatching(/unsupported/), raw: expect.stringContaining("131051") });
  });

  it("reads statuses with their errors, and names the first malformed field", () => {
    const { events } = whatsappEvents(wa([], [{ id: "out1", status: "failed", timestamp: "1700000000", recipient_id: "14155550142", errors: [{ code: 131047, title: "Re-engagement message" }] }]));
    expect(events[0]).toMatchObject({ type: "status", status: "failed", providerId: "out1", error: "131047 Re-engagement message" });
    expect(() => whatsappEvents({ entry: [{ changes: [{ value: { metadata: {} } }] }] })).toThrow(/phone_number_id: required/);
    expect(() => whatsappEvents({ entry: {} })).toThrow(/entry: expected an array/);
  });

  it("builds text, media and template sends", () => {
    expect(whatsappSend("+14155550142", { kind: "text", text: "hello" })).toMatchObject({ to: "14155550142", type: "text", text: { body: "hello" } });
    expect(whatsappSend("+1", { kind: "media", url: "https://x/y", contentType: "application/pdf", name: "a.pdf" })).toMatchObject({ type: "document", document: { link: "https://x/y", filename: "a.pdf" } });
    expect(whatsappSend("+1", { kind: "template", name: "t", language: "en_US", params: ["Kim"] })).toMatchObject({ template: { name: "t", language: { code: "en_US" }, components: [{ parameters: [{ type: "text", text: "Kim" }] }] } });
  });
});

describe("Messenger and Instagram envelope", () => {
  const ev = (x: Record<string, unknown>, object = "page") => metaEvents({ object, entry: [{ id: "900", messaging: [{ sender: { id: "55" }, recipient: { id: "900" }, timestamp: 1700000000000, ...x }] }] });

  it("skips the echo of our own send, keeps an inbox echo, and reads reactions, edits and watermarks", () => {
    expect(metaEvents({ object: "page", entry: [{ id: "900", messaging: [{ sender: { id: "900" }, recipient: { id: "55" }, timestamp: 1, message: { mid: "m", is_echo: true, metadata: `${OUR_METADATA}:so_1` } }] }] })).toEqual([]);
    expect(metaEvents({ object: "page", entry: [{ id: "900", messaging: [{ sender: { id: "900" }, recipient: { id: "55" }, timestamp: 1, message: { mid: "m", is_echo: true, text: "from inbox" } }] }] })[0]).toMatchObject({ type: "echo", user: "55", text: "from inbox" });
    expect(ev({ reaction: { mid: "m1", action: "react", emoji: "😮" } })[0]).toMatchObject({ kind: "reaction", about: "m1", text: "reacted 😮" });
    expect(ev({ message_edit: { mid: "m1", text: "fixed", num_edit: 2 } })[0]).toMatchObject({ kind: "edit", about: "m1", providerId: "edit:m1:2" });
    expect(ev({ read: { watermark: 1700000000500 } })[0]).toMatchObject({ type: "status", status: "read", upTo: 1700000000500 });
    expect(ev({ message: { mid: "i1", text: "hey" } }, "instagram")[0]).toMatchObject({ channel: "instagram" });
    expect(() => metaEvents({ object: "user", entry: [] })).toThrow(/object/);
  });

  it("tags a late human reply HUMAN_AGENT and marks every send as ours", () => {
    expect(metaSend("55", { kind: "text", text: "hi", tag: "HUMAN_AGENT" }, "so_9")).toEqual({ recipient: { id: "55" }, messaging_type: "MESSAGE_TAG", tag: "HUMAN_AGENT", message: { text: "hi", metadata: `${OUR_METADATA}:so_9` } });
  });
});

describe("Telegram update", () => {
  it("keys on bot and update_id, takes the largest photo, and flags what it cannot show", () => {
    const [m] = telegramEvents({ update_id: 9, message: { message_id: 3, chat: { id: 77 }, from: { id: 77, first_name: "Mira" }, date: 1700000000, photo: [{ file_id: "s" }, { file_id: "L" }], caption: "pic" } }, "42");
    expect(m).toMatchObject({ providerId: "42:9", user: "77", userName: "Mira", kind: "image", text: "pic", media: [{ ref: "L" }] });
    expect(telegramEvents({ update_id: 10, chat_member: {} }, "42")[0]).toMatchObject({ kind: "unknown", user: "0", flagged: expect.stringContaining("chat_member") });
    expect(() => telegramEvents({ message: {} }, "42")).toThrow(/update_id/);
    expect(telegramSend("77", { kind: "media", url: "https://u", contentType: "image/png", name: "p.png", caption: "c" })).toEqual({ method: "sendPhoto", body: { chat_id: "77", photo: "https://u", caption: "c" } });
  });
});

describe("the customer-service window", () => {
  const now = 1_800_000_000_000;
  it("is free for 24 hours, then templates on WhatsApp, HUMAN_AGENT to 7 days on Messenger, never closed on Telegram", () => {
    expect(windowOf("whatsapp", now - 1000, now)).toEqual({ mode: "free", closesAt: now - 1000 + WINDOW_MS });
    expect(windowOf("whatsapp", now - WINDOW_MS, now).mode).toBe("templates");
    expect(windowOf("messenger", now - 2 * WINDOW_MS, now)).toEqual({ mode: "human_agent", closesAt: now - 2 * WINDOW_MS + HUMAN_AGENT_MS });
    expect(windowOf("instagram", now - HUMAN_AGENT_MS, now).mode).toBe("closed");
    expect(windowOf("telegram", null, now)).toEqual({ mode: "free", closesAt: null });
    expect(freeTextRefusal("whatsapp", { mode: "templates", closesAt: null })).toMatch(/templates/);
    expect(freeTextRefusal("messenger", { mode: "human_agent", closesAt: 1 })).toBeNull();
  });

  it("sends an automatic message as text inside, as the fallback template outside, or skips it with why", () => {
    expect(automaticPlan("whatsapp", { mode: "free", closesAt: 1 }, undefined)).toEqual({ send: "text" });
    expect(automaticPlan("whatsapp", { mode: "templates", closesAt: null }, "follow_up")).toEqual({ send: "template", template: "follow_up" });
    expect(automaticPlan("whatsapp", { mode: "templates", closesAt: null }, undefined)).toMatchObject({ skip: expect.stringContaining("fallback") });
    // HUMAN_AGENT covers people, not automatic messages.
    expect(automaticPlan("messenger", { mode: "human_agent", closesAt: 1 }, "follow_up")).toMatchObject({ skip: expect.any(String) });
  });
});

describe("social settings", () => {
  const base = { tenant: { id: "t", name: "T" }, agents: [], queues: [{ name: "q", media: ["chat"], steps: [{ type: "route", targets: [{ skills: "*" }] }] }], workflows: [{ name: "w", queue: "q" }] };
  it("names each problem: an unknown workflow, a twice-configured id, a placeholder without its parameter, a bad field code", () => {
    const account = { phoneNumberId: "1", number: "+15550001111", workflow: "nope", appSecret: "a", verifyToken: "b", token: "c" };
    try {
      parseConfig({ ...base, social: { whatsapp: [account, { ...account, workflow: "w" }], templates: [{ name: "t1", language: "en", text: "Hi {{1}} {{2}}", params: ["<$ Contact.Nope $>"] }] } });
      throw new Error("accepted");
    } catch (e) {
      const msg = String(e);
      expect(msg).toMatch(/social\.whatsapp\[0\]\.workflow: unknown workflow 'nope'/);
      expect(msg).toMatch(/social\.whatsapp\[1\]\.phoneNumberId: '1' is configured twice/);
      expect(msg).toMatch(/social\.templates\[0\]\.params: the text has 2 placeholder/);
      expect(msg).toMatch(/social\.templates\[0\]\.params\[0\]/);
    }
  });
});
