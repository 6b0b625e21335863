import { describe, expect, it } from "vitest";
import { backoffSeconds, IP_THROTTLE, LOGIN_THROTTLE } from "../../workers/auth/throttle.ts";
import { weakPasswordReason } from "../../workers/auth/strength.ts";

describe("login backoff", () => {
  it("is free for the first attempts, then doubles from 1 s up to 15 min", () => {
    expect([1, 5, 6, 7, 8, 15, 16, 100].map((n) => backoffSeconds(n, LOGIN_THROTTLE))).toEqual([0, 0, 1, 2, 4, 512, 900, 900]);
    expect(backoffSeconds(20, IP_THROTTLE)).toBe(0);
    expect(backoffSeconds(21, IP_THROTTLE)).toBe(1);
  });
});

describe("password strength", () => {
  it("refuses common, short, keyboard and name-based passwords", () => {
    for (const p of ["12345678", "password123", "qwertyuiop", "p4ssw0rd!", "short"]) expect(weakPasswordReason(p), p).not.toBeNull();
    expect(weakPasswordReason("anagarcia1", ["ana", "García"])).not.toBeNull();
  });
  it("accepts passphrases, the demo's included", () => {
    for (const p of ["parley-demo", "Lamp-Harbor-Violet-93", "correct horse battery staple", "bench-password-shared"]) expect(weakPasswordReason(p, ["ana"]), p).toBeNull();
  });
});

describe("the demo tenant meets the password rule", () => {
  it("every demo login's password ('parley-demo') is accepted, so npm start still loads it", async () => {
    const demo = (await import("../../demo/tenant.json")).default as { agents: { id: string; login: string; fullName: string; password?: string }[] };
    for (const a of demo.agents) expect(weakPasswordReason(a.password ?? "", [a.login, a.id, ...a.fullName.split(/\s+/)]), a.login).toBeNull();
  });
});
