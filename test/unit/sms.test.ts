// SMS's pure parts: encoding and segment counts, compliance keywords, TwiML.
import { describe, expect, it } from "vitest";
import { keywordOf } from "../../workers/sms/keywords.ts";
import { isGsm7, segmentInfo } from "../../workers/sms/segments.ts";
import { twiml } from "../../workers/sms/twiml.ts";

describe("SMS segments", () => {
  it("counts GSM-7 texts in 160, then 153 per part", () => {
    expect(segmentInfo("")).toMatchObject({ encoding: "GSM-7", segments: 0 });
    expect(segmentInfo("a".repeat(160))).toMatchObject({ encoding: "GSM-7", units: 160, segments: 1, remaining: 0 });
    expect(segmentInfo("a".repeat(161))).toMatchObject({ segments: 2, perSegment: 153, remaining: 145 });
    expect(segmentInfo("a".repeat(306))).toMatchObject({ segments: 2, remaining: 0 });
    expect(segmentInfo("a".repeat(307))).toMatchObject({ segments: 3 });
  });

  it("counts the extension table twice and never splits an escape", () => {
    expect(segmentInfo("€")).toMatchObject({ encoding: "GSM-7", units: 2 });
    expect(segmentInfo("[".repeat(80))).toMatchObject({ units: 160, segments: 1 });
    // 152 plain + one escape: 154 septets, but the escape moves whole to the second part.
    expect(segmentInfo(`${"a".repeat(152)}{${"a".repeat(10)}`)).toMatchObject({ units: 164, segments: 2, remaining: 153 - 12 });
  });

  it("falls back to UCS-2 for anything outside GSM 03.38, 70 then 67 units, emoji counting two", () => {
    expect(isGsm7("Grüße, señor! ÄÖÜ")).toBe(true);
    expect(isGsm7("Ça va? ç")).toBe(false);
    expect(segmentInfo("Привет")).toMatchObject({ encoding: "UCS-2", units: 6, segments: 1, perSegment: 70 });
    expect(segmentInfo("ж".repeat(70))).toMatchObject({ segments: 1 });
    expect(segmentInfo("ж".repeat(71))).toMatchObject({ segments: 2, perSegment: 67 });
    expect(segmentInfo("👍")).toMatchObject({ encoding: "UCS-2", units: 2, nonGsm: ["👍"] });
    // 66 units then an emoji: the pair goes whole into the second part.
    expect(segmentInfo(`${"ж".repeat(66)}👍${"ж".repeat(5)}`)).toMatchObject({ units: 73, segments: 2, remaining: 67 - 7 });
  });
});

describe("SMS keywords", () => {
  it("knows opt-out, opt-in and help as whole messages only", () => {
    for (const w of ["STOP", "stop", " Unsubscribe ", "cancel", "END", "quit", "Stop."]) expect(keywordOf(w), w).toBe("opt_out");
    for (const w of ["START", "unstop"]) expect(keywordOf(w), w).toBe("opt_in");
    expect(keywordOf("help")).toBe("help");
    expect(keywordOf("please stop the noise")).toBeNull();
    expect(keywordOf("yes")).toBeNull();
  });
});

describe("TwiML", () => {
  it("answers with messages, escaped", async () => {
    const r = twiml(["You're opted out <for good> & won't hear from us"]);
    expect(r.headers.get("Content-Type")).toBe("text/xml; charset=utf-8");
    expect(await r.text()).toBe(`<?xml version="1.0" encoding="UTF-8"?><Response><Message>You&apos;re opted out &lt;for good&gt; &amp; won&apos;t hear from us</Message></Response>`);
    expect(await twiml().text()).toBe(`<?xml version="1.0" encoding="UTF-8"?><Response></Response>`);
  });
});
