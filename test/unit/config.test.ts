import { describe, expect, it } from "vitest";
import demo from "../../demo/tenant.json";
import { CompiledConfig } from "../../workers/config/compiled.ts";
import { ConfigError, parseConfig, withoutSecrets } from "../../workers/config/schema.ts";
import { runSteps } from "../../workers/workflow/steps.ts";

const base = () => JSON.parse(JSON.stringify(demo)) as Record<string, any>;
const errorOf = (cfg: unknown): string => {
  try {
    parseConfig(cfg);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("expected a config error");
};

describe("tenant config", () => {
  it("accepts the demo tenant: 3+ agents with different skills, a supervisor, an admin, 4+ queues", () => {
    const cfg = parseConfig(demo);
    const roles = cfg.agents.map((a) => a.role);
    expect(roles.filter((r) => r === "agent").length).toBeGreaterThanOrEqual(3);
    expect(roles).toContain("supervisor");
    expect(roles).toContain("admin");
    expect(cfg.queues.length).toBeGreaterThanOrEqual(4);
    expect(new Set(cfg.agents.map((a) => JSON.stringify(a.skills))).size).toBe(cfg.agents.length);
  });
  it("names the bad field", () => {
    const c1 = base();
    c1.agents[1].skills.plumbing = 3;
    expect(errorOf(c1)).toMatch(/agents\[1\]\.skills\.plumbing: unknown skill 'plumbing'/);
    const c2 = base();
    c2.queues[1].steps[0].targets[1].skills = "tech >= ";
    expect(errorOf(c2)).toMatch(/queues\[1\]\.steps\[0\]\.targets\[1\]\.skills: expected a level/);
    const c3 = base();
    c3.agents[2].login = "ANA";
    expect(errorOf(c3)).toMatch(/agents\[2\]\.login: duplicate login 'ana'/);
    const c4 = base();
    c4.queues[0].steps[1].queue = "nowhere";
    expect(errorOf(c4)).toMatch(/queues\[0\]\.steps\[1\]\.queue: unknown queue 'nowhere'/);
    const c5 = base();
    delete c5.queues[1].steps[0].targets[0].timeoutSeconds;
    expect(errorOf(c5)).toMatch(/queues\[1\]\.steps\[0\]\.targets\[0\]\.timeoutSeconds: required/);
    const c6 = base();
    c6.agents[0].skills.billing = 11;
    expect(errorOf(c6)).toMatch(/agents\.0\.skills\.billing|agents\[0\]\.skills\.billing/);
    const c7 = base();
    c7.workflows[0].queue = "ghost";
    expect(errorOf(c7)).toMatch(/workflows\[0\]\.queue: unknown queue 'ghost'/);
    const c8 = base();
    c8.queues[3].steps = [{ type: "route", targets: [{ skills: "*" }] }, { type: "setPriority", priority: 1 }];
    expect(errorOf(c8)).toMatch(/queues\[3\]\.steps\[0\]: 'route' must be the last step/);
    const c9 = base();
    c9.numbers[0].number = "555-0100";
    expect(errorOf(c9)).toMatch(/numbers\[0\]\.number: use E\.164/);
  });
  it("never keeps passwords in the stored form", () => {
    const stored = withoutSecrets(parseConfig(demo));
    expect(JSON.stringify(stored)).not.toContain("parley-demo");
  });
  it("knows which queues each agent can serve", () => {
    const c = new CompiledConfig(parseConfig(demo), 1);
    expect(c.eligibleQueues(c.agents.get("ben")!).sort()).toEqual(["billing", "callbacks", "support"]);
    expect(c.eligibleQueues(c.agents.get("ana")!).sort()).toEqual(["billing", "callbacks", "spanish"]);
    expect(c.eligibleQueues(c.agents.get("dev")!).sort()).toEqual(["billing", "support"]);
    expect(c.eligibleQueues(c.agents.get("alex")!)).toEqual([]);
  });
});

describe("workflow steps", () => {
  it("apply in order and stop at the terminal step", () => {
    const r = runSteps(
      [{ type: "setPriority", priority: 4 }, { type: "setAttributes", attributes: { vip: true } }, { type: "addCategory", category: "refund" }, { type: "forward", queue: "billing" }],
      { priority: 0, attributes: { lang: "en" }, categories: [] },
    );
    expect(r).toMatchObject({ priority: 4, attributes: { lang: "en", vip: true }, categories: ["refund"], outcome: { kind: "forward", queue: "billing" } });
    expect(r.trace).toHaveLength(4);
  });
  it("hold when no step routes, forwards or stops", () => {
    expect(runSteps([], { priority: 1, attributes: {}, categories: [] }).outcome).toEqual({ kind: "hold" });
  });
  it("compile route targets", () => {
    const r = runSteps([{ type: "route", targets: [{ skills: "tech >= 3", pick: "least_occupied", timeoutSeconds: 5 }, { skills: "*", pick: "longest_idle" }] }], { priority: 0, attributes: {}, categories: [] });
    expect(r.outcome.kind).toBe("route");
    if (r.outcome.kind === "route") expect(r.outcome.targets.map((t) => t.pick)).toEqual(["least_occupied", "longest_idle"]);
  });
});
