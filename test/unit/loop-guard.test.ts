import { describe, expect, it } from "vitest";
import { AUTO_REPLY_HEADERS, automaticReason } from "../../workers/email/loop-guard.ts";

const person = { headers: [["Subject", "Help"], ["Received", "from mx"]] as [string, string][], from: "Pat <pat@example.com>", returnPath: "<pat@example.com>" };
const withHeader = (name: string, value: string) => ({ ...person, headers: [...person.headers, [name, value]] as [string, string][] });

describe("automaticReason", () => {
  it("allows a reply to a person", () => {
    expect(automaticReason(person)).toBeNull();
    expect(automaticReason({ ...person, returnPath: undefined })).toBeNull();
    expect(automaticReason({ ...person, returnPath: null })).toBeNull();
    expect(automaticReason(withHeader("Auto-Submitted", "no"))).toBeNull();
    expect(automaticReason(withHeader("auto-submitted", " No (sent by a human)"))).toBeNull();
    expect(automaticReason(withHeader("Precedence", "first-class"))).toBeNull();
    expect(automaticReason(withHeader("X-Auto-Response-Suppress", "DR, RN, NRN"))).toBeNull();
  });
  it.each([
    ["Auto-Submitted", "auto-replied"],
    ["Auto-Submitted", "auto-generated"],
    ["AUTO-SUBMITTED", "Auto-Notified; owner-email=\"x@y\""],
    ["auto-submitted", "auto-replied (vacation)"],
    ["Precedence", "bulk"],
    ["precedence", "List"],
    ["Precedence", "junk"],
    ["List-Id", "Parley users <users.parley.example>"],
    ["list-id", ""],
    ["X-Auto-Response-Suppress", "All"],
    ["X-Auto-Response-Suppress", "DR, AutoReply"],
    ["x-auto-response-suppress", "oof"],
    ["X-Autoreply", "yes"],
    ["X-Autorespond", "vacation"],
    ["Return-Path", "<>"],
    ["Return-Path", "< >"],
  ])("refuses %s: %s", (name, value) => {
    expect(automaticReason(withHeader(name, value))).toEqual(expect.any(String));
  });
  it("names the reason", () => {
    expect(automaticReason(withHeader("Auto-Submitted", "auto-replied"))).toBe("Auto-Submitted: auto-replied");
    expect(automaticReason(withHeader("Precedence", "bulk"))).toBe("Precedence: bulk");
    expect(automaticReason(withHeader("List-Id", "<x.y>"))).toMatch(/List-Id/);
  });
  it("refuses an empty Return-Path given apart", () => {
    expect(automaticReason({ ...person, returnPath: "<>" })).toBe("empty Return-Path (<>)");
    expect(automaticReason({ ...person, returnPath: "" })).toBe("empty Return-Path (<>)");
  });
  it.each([
    ["MAILER-DAEMON@mx.example.com"],
    ["Mail Delivery System <mailer-daemon@googlemail.com>"],
    ["postmaster@example.com"],
    ["no-reply@shop.example"],
    ["NoReply@shop.example"],
    ["noreply+orders@shop.example"],
    ["do-not-reply@bank.example"],
    ["donotreply@bank.example"],
    ["owner-users@lists.example"],
    ["users-request@lists.example"],
  ])("refuses the robot sender %s", (from) => {
    expect(automaticReason({ ...person, from })).toMatch(/automatic sender/);
  });
  it("refuses a missing or unparseable From", () => {
    expect(automaticReason({ ...person, from: null })).toBe("missing or unparseable From");
    expect(automaticReason({ ...person, from: "" })).toBe("missing or unparseable From");
    expect(automaticReason({ ...person, from: "Pat Smith" })).toBe("missing or unparseable From");
  });
  it("does not mistake ordinary addresses for robots", () => {
    expect(automaticReason({ ...person, from: "replyguy@example.com" })).toBeNull();
    expect(automaticReason({ ...person, from: "noreen@example.com" })).toBeNull();
    expect(automaticReason({ ...person, from: "postmaster.general@example.com" })).toBeNull();
  });
});

describe("AUTO_REPLY_HEADERS", () => {
  it("marks replies as auto-replied, suppresses Outlook's answers, and sets no Precedence", () => {
    expect(AUTO_REPLY_HEADERS).toEqual({ "Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All" });
    // our own replies must trip our own guard (and any RFC 3834 responder's)
    expect(automaticReason({ ...person, headers: Object.entries(AUTO_REPLY_HEADERS) })).toMatch(/Auto-Submitted/);
    expect(Object.isFrozen(AUTO_REPLY_HEADERS)).toBe(true);
  });
});
