// The chat's pure policies (issue 12): the customer's message bucket, when a known clientId may
// resume a chat, and where a transcript may be mailed.
import { describe, expect, it } from "vitest";
import { take, type Bucket } from "../../workers/chat/rate.ts";
import { mayResume, RESUME_WINDOW_MS } from "../../workers/chat/resume.ts";
import { transcriptAddress } from "../../workers/chat/transcript-address.ts";

describe("the customer's message bucket", () => {
  const rate = { max: 3, perSeconds: 3 };
  it("allows a burst of max, then refuses with the wait until the next token", () => {
    let b: Bucket | undefined;
    const out: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      const r = take(b, rate, 1000);
      b = r.bucket;
      out.push(r.ok);
      if (!r.ok) expect(r.retryAfterSeconds).toBe(1);
    }
    expect(out).toEqual([true, true, true, false]);
  });
  it("refills at max per perSeconds, never above max", () => {
    let b: Bucket = { tokens: 0, at: 0 };
    expect(take(b, rate, 500).ok).toBe(false);
    b = take(b, rate, 1000).bucket;
    expect(b.tokens).toBeCloseTo(0);
    expect(take({ tokens: 0, at: 0 }, rate, 3_600_000).bucket.tokens).toBe(2);
  });
  it("does not refill from a clock that went back", () => {
    expect(take({ tokens: 0, at: 5000 }, rate, 1000).ok).toBe(false);
  });
});

describe("resuming a chat by its clientId", () => {
  const at = 1_000_000;
  it("never resumes an ended chat, token or not", () => {
    expect(mayResume({ status: "ended", startedAt: at, now: at + 1, heldToken: true })).toEqual({ ok: false, reason: "ended" });
  });
  it("resumes a live chat within the window, or later only with its token", () => {
    expect(mayResume({ status: "waiting", startedAt: at, now: at + RESUME_WINDOW_MS, heldToken: false }).ok).toBe(true);
    expect(mayResume({ status: "active", startedAt: at, now: at + RESUME_WINDOW_MS + 1, heldToken: false })).toEqual({ ok: false, reason: "window_passed" });
    expect(mayResume({ status: "active", startedAt: at, now: at + 86_400_000, heldToken: true }).ok).toBe(true);
  });
});

describe("the transcript's address", () => {
  it("is the pre-chat address, named again in any case or not at all", () => {
    expect(transcriptAddress("kim@example.com", null)).toEqual({ ok: true, to: "kim@example.com" });
    expect(transcriptAddress("kim@example.com", "KIM@example.com ")).toEqual({ ok: true, to: "kim@example.com" });
  });
  it("is never another address, nor any address when none was given before the chat", () => {
    expect(transcriptAddress("kim@example.com", "victim@example.net")).toMatchObject({ ok: false, code: "transcript_address" });
    expect(transcriptAddress(null, "victim@example.net")).toMatchObject({ ok: false, code: "transcript_address" });
    expect(transcriptAddress(null, null)).toMatchObject({ ok: false, code: "no_transcript_address" });
  });
});
