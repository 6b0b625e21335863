// The chat's pure parts: frames, opening hours, the wait estimate, session tokens, signed file URLs.
import { describe, expect, it } from "vitest";
import { MAX_FRAME_BYTES, parseFrame } from "../../workers/chat/frames.ts";
import { isOpen } from "../../workers/chat/hours.ts";
import { checkSignature, signPath } from "../../workers/chat/signed-url.ts";
import { issueChatToken, verifyChatToken } from "../../workers/chat/token.ts";
import { estimateWaitSeconds } from "../../workers/chat/wait.ts";
import { issueToken } from "../../workers/auth/tokens.ts";
import { ChatSettings, parseConfig, type ConfigError } from "../../workers/config/schema.ts";

describe("chat frames", () => {
  it("accepts each kind of frame and names what is wrong with the others", () => {
    expect(parseFrame('{"type":"msg","clientId":"a","text":"hi"}')).toEqual({ ok: true, frame: { type: "msg", clientId: "a", text: "hi" } });
    expect(parseFrame('{"type":"typing","on":true}').ok).toBe(true);
    expect(parseFrame('{"type":"read","seq":3}').ok).toBe(true);
    expect(parseFrame('{"type":"resume","after":0}').ok).toBe(true);
    expect(parseFrame('{"type":"end"}').ok).toBe(true);
    const bad = (raw: string | ArrayBuffer) => (parseFrame(raw) as { ok: false; error: { code: string; message: string } }).error;
    expect(bad("nope").code).toBe("malformed_frame");
    expect(bad("null").code).toBe("malformed_frame");
    expect(bad(new ArrayBuffer(2)).code).toBe("malformed_frame");
    expect(bad('{"type":"dance"}').code).toBe("unknown_frame");
    expect(bad('{"type":"read","seq":-1}')).toMatchObject({ code: "invalid_frame", message: expect.stringMatching(/^seq:/) });
    expect(bad('{"type":"msg","clientId":"c9","text":5}')).toMatchObject({ code: "invalid_frame", clientId: "c9" });
    // Bytes, not characters: 6,000 three-byte characters are over the limit.
    expect(bad(JSON.stringify({ type: "msg", clientId: "x", text: "€".repeat(6000) })).code).toBe("frame_too_large");
    expect(bad(" ".repeat(MAX_FRAME_BYTES + 1)).code).toBe("frame_too_large");
  });
});

describe("opening hours", () => {
  const hours = ChatSettings.shape.hours.unwrap().parse({ timezone: "Europe/Paris", days: { mon: ["09:00", "17:30"], sat: ["22:00", "02:00"] } });
  it("reads the time in the tenant's zone", () => {
    // Monday 07:59 UTC is 08:59 in Paris (winter): closed; 08:00 UTC is 09:00: open.
    expect(isOpen(hours, new Date("2026-11-23T07:59:00Z"))).toBe(false);
    expect(isOpen(hours, new Date("2026-11-23T08:00:00Z"))).toBe(true);
    expect(isOpen(hours, new Date("2026-11-23T16:30:00Z"))).toBe(false);
    // Tuesday has no hours.
    expect(isOpen(hours, new Date("2026-11-24T10:00:00Z"))).toBe(false);
    // A span past midnight: Saturday 23:00 and 01:00 (still Saturday's span on the clock) are open.
    expect(isOpen(hours, new Date("2026-11-28T22:00:00Z"))).toBe(true);
    expect(isOpen(undefined, new Date())).toBe(true);
  });
});

describe("estimated wait", () => {
  it("shares the work ahead among the agents, and gives no estimate without agents", () => {
    expect(estimateWaitSeconds({ position: 1, agents: 1, avgHandleMs: 120_000 })).toBe(60);
    expect(estimateWaitSeconds({ position: 5, agents: 2, avgHandleMs: 120_000 })).toBe(300);
    expect(estimateWaitSeconds({ position: 3, agents: 1, avgHandleMs: null })).toBe(450);
    expect(estimateWaitSeconds({ position: 1, agents: 10, avgHandleMs: 1000 })).toBe(15);
    expect(estimateWaitSeconds({ position: 2, agents: 0, avgHandleMs: 60_000 })).toBeNull();
  });
});

describe("chat session tokens and file links", () => {
  it("tells a chat token from an agent token, and refuses a forged one", async () => {
    const { token } = await issueChatToken("s3cret", { tenant: "t1", chat: "i_1", participant: "customer" }, 60);
    expect(await verifyChatToken("s3cret", token)).toEqual({ tenant: "t1", chat: "i_1", participant: "customer" });
    await expect(verifyChatToken("other", token)).rejects.toMatchObject({ status: 401, code: "invalid_token" });
    const agent = await issueToken("s3cret", { tenant: "t1", agentId: "ana", role: "agent" }, 60);
    expect(await verifyChatToken("s3cret", agent.token)).toBeNull();
    const old = await issueChatToken("s3cret", { tenant: "t1", chat: "i_1", participant: "customer" }, 60, Date.now() - 3600_000);
    await expect(verifyChatToken("s3cret", old.token)).rejects.toMatchObject({ code: "token_expired" });
  });

  it("signs a file path for a while, for that path only", async () => {
    const url = await signPath("k", "/api/v1/chat/files/t/i/f1");
    const q = new URLSearchParams(url.split("?")[1]);
    expect(await checkSignature("k", "/api/v1/chat/files/t/i/f1", q.get("exp"), q.get("sig"))).toBe("ok");
    expect(await checkSignature("k", "/api/v1/chat/files/t/i/f2", q.get("exp"), q.get("sig"))).toBe("invalid");
    expect(await checkSignature("k2", "/api/v1/chat/files/t/i/f1", q.get("exp"), q.get("sig"))).toBe("invalid");
    expect(await checkSignature("k", "/api/v1/chat/files/t/i/f1", q.get("exp"), null)).toBe("invalid");
    expect(await checkSignature("k", "/api/v1/chat/files/t/i/f1", q.get("exp"), q.get("sig"), Date.now() + 3600_000)).toBe("expired");
  });
});

describe("chat settings", () => {
  const base = {
    tenant: { id: "t", name: "T" },
    agents: [],
    queues: [{ name: "mail", media: ["email"] }, { name: "talk", media: ["chat"] }],
    workflows: [{ name: "w-mail", queue: "mail" }, { name: "w-chat", queue: "talk" }],
    forms: [{ name: "contact", workflow: "w-mail" }],
  };
  const issues = (chat: unknown) => {
    try {
      parseConfig({ ...base, chat });
      return [];
    } catch (e) {
      return (e as ConfigError).issues.map((i) => i.path);
    }
  };
  it("names the bad field", () => {
    expect(issues({ workflow: "w-chat", offlineForm: "contact", hours: { timezone: "Europe/Paris", days: { mon: ["09:00", "17:00"] } } })).toEqual([]);
    expect(issues({ workflow: "nope" })).toEqual(["chat.workflow"]);
    expect(issues({ workflow: "w-mail" })).toEqual(["chat.workflow"]);
    expect(issues({ workflow: "w-chat", offlineForm: "nope" })).toEqual(["chat.offlineForm"]);
    expect(issues({ workflow: "w-chat", hours: { timezone: "Mars/Olympus", days: {} } })).toEqual(["chat.hours.timezone"]);
    expect(issues({ workflow: "w-chat", hours: { timezone: "UTC", days: { mon: ["9am", "17:00"] } } })).toEqual(["chat.hours.days.mon[0]"]);
    expect(issues({ workflow: "w-chat", allowedOrigins: ["not a url"] })).toEqual(["chat.allowedOrigins[0]"]);
  });
});
