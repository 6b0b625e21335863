import { describe, expect, it } from "vitest";
import { canTake, occupancy, presenceOf, type AgentSnapshot } from "../../workers/routing/agent-state.ts";
import { currentTarget, effectivePriority } from "../../workers/routing/order.ts";
import { explain, rankAgents, type RoutableTarget } from "../../workers/routing/select.ts";
import { parseSkillExpr } from "../../workers/routing/skills.ts";

const snap = (id: string, over: Partial<AgentSnapshot> = {}): AgentSnapshot => ({
  agentId: id, version: 1, loggedIn: true, afterWork: false, ready: { email: true }, reasons: {}, load: {}, capacity: { email: 2 }, idleSince: 1000, skills: {}, ...over,
});
const target = (skills: string, pick: RoutableTarget["pick"] = "longest_idle"): RoutableTarget => ({ expr: parseSkillExpr(skills), skills, pick });

describe("capacity rules", () => {
  it("needs login, readiness, no after-work, and room on the media and overall", () => {
    expect(canTake(snap("a"), "email")).toBe(true);
    expect(canTake(snap("a", { loggedIn: false }), "email")).toBe(false);
    expect(canTake(snap("a", { afterWork: true }), "email")).toBe(false);
    expect(canTake(snap("a", { ready: { email: false } }), "email")).toBe(false);
    expect(canTake(snap("a"), "chat")).toBe(false);
    expect(canTake(snap("a", { load: { email: 2 } }), "email")).toBe(false);
    expect(canTake(snap("a", { capacity: { email: 5, chat: 3 }, ready: { email: true, chat: true }, load: { chat: 2 }, maxTotal: 2 }), "email")).toBe(false);
  });
  it("reports occupancy and presence", () => {
    expect(occupancy(snap("a", { load: { email: 1 } }))).toBe(0.5);
    expect(presenceOf(snap("a"))).toBe("ready");
    expect(presenceOf(snap("a", { load: { email: 2 } }))).toBe("busy");
    expect(presenceOf(snap("a", { ready: {} }))).toBe("not_ready");
    expect(presenceOf(snap("a", { loggedIn: false }))).toBe("logged_out");
    expect(presenceOf(snap("a", { afterWork: true }))).toBe("after_work");
  });
});

describe("agent selection", () => {
  const agents = [
    snap("low", { skills: { billing: 3 }, idleSince: 100 }),
    snap("mid", { skills: { billing: 6 }, idleSince: 300, load: { email: 1 } }),
    snap("high", { skills: { billing: 9 }, idleSince: 200 }),
    snap("busy", { skills: { billing: 10 }, idleSince: 50, load: { email: 2 } }),
  ];
  it("keeps only agents who match the skill expression and can take the media", () => {
    const { ranked } = rankAgents(agents, "email", target("billing >= 5"));
    expect(ranked.map((c) => c.agentId)).toEqual(["high", "mid"]);
  });
  it("longest idle first", () => {
    expect(rankAgents(agents, "email", target("billing >= 1")).ranked.map((c) => c.agentId)).toEqual(["low", "high", "mid"]);
  });
  it("longest idle puts agents free of work before busy ones, however long ago they were idle", () => {
    const early = snap("early", { skills: { billing: 5 }, idleSince: 1, load: { email: 1 } });
    const r = rankAgents([...agents, early], "email", target("billing >= 1")).ranked.map((c) => c.agentId);
    expect(r).toEqual(["low", "high", "early", "mid"]);
  });
  it("least occupied first", () => {
    expect(rankAgents(agents, "email", target("billing >= 1", "least_occupied")).ranked.map((c) => c.agentId)).toEqual(["low", "high", "mid"]);
  });
  it("highest skill first, on the first skill the expression names", () => {
    expect(rankAgents(agents, "email", target("billing >= 1", "highest_skill")).ranked.map((c) => c.agentId)).toEqual(["high", "mid", "low"]);
  });
  it("skips agents excluded in this cycle and says how many", () => {
    const r = rankAgents(agents, "email", target("billing >= 1"), new Set(["low"]));
    expect(r.ranked.map((c) => c.agentId)).toEqual(["high", "mid"]);
    expect(r.excluded).toBe(1);
    expect(r.considered).toBe(4);
  });
  it("explains the choice", () => {
    const t = target("billing >= 1");
    const { ranked } = rankAgents(agents, "email", t);
    const c = explain(0, t, ranked, ranked[0]!, 10_100, 4, 0);
    expect(c.agentId).toBe("low");
    expect(c.reason.why).toMatch(/longest idle \(10 s\) among 3 matching 'billing >= 1'/);
    expect(c.reason.competing).toHaveLength(3);
  });
});

describe("view order and strategy timing", () => {
  const aging = { everySeconds: 60, step: 2, max: 5 };
  it("ages priority by waiting time, up to a cap", () => {
    expect(effectivePriority(1, 0, 59_999, aging)).toBe(1);
    expect(effectivePriority(1, 0, 60_000, aging)).toBe(3);
    expect(effectivePriority(1, 0, 180_000, aging)).toBe(6);
    expect(effectivePriority(1, 0, 10_000_000, aging)).toBe(6);
  });
  it("overflows to the next target when a target's timeout passes", () => {
    const ts = [{ timeoutSeconds: 10 }, { timeoutSeconds: 20 }, {}];
    expect(currentTarget(ts, 0, 0)).toMatchObject({ index: 0, overflowAt: 10_000 });
    expect(currentTarget(ts, 0, 9_999).index).toBe(0);
    expect(currentTarget(ts, 0, 10_000)).toMatchObject({ index: 1, overflowAt: 30_000 });
    expect(currentTarget(ts, 0, 30_000)).toMatchObject({ index: 2, overflowAt: undefined });
  });
});
