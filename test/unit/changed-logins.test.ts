// Which logins an admin's config save revokes (workers/auth/changed-logins.ts).
import { describe, expect, it } from "vitest";
import { changedLogins } from "../../workers/auth/changed-logins.ts";

const a = (id: string, extra: Partial<{ login: string; role: string; password: string }> = {}) => ({ id, login: id, role: "agent", ...extra });

describe("changedLogins", () => {
  it("revokes removed, renamed, re-roled and re-passworded logins, and nothing else", () => {
    const before = [a("ana"), a("ben"), a("cy"), a("dee"), a("eve")];
    const after = [a("ben", { login: "BEN" }), a("cy", { role: "supervisor" }), a("dee", { password: "a new one" }), a("eve", { login: "eve2" }), a("new", { password: "x" })];
    expect(changedLogins(before, after).sort()).toEqual(["ana", "cy", "dee", "eve"]);
  });

  it("revokes nothing on a save that changes no login", () => {
    expect(changedLogins([a("ana"), a("ben")], [a("ben"), a("ana")])).toEqual([]);
  });
});
