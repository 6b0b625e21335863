import { describe, expect, it } from "vitest";
import { seededRandom } from "../../workers/analyzer/random.ts";
import type { Media } from "../../workers/config/schema.ts";
import type { AgentSnapshot } from "../../workers/routing/agent-state.ts";
import { AgentIndex } from "../../workers/routing/agent-index.ts";
import { compareViewOrder, mergeViewOrder, type OrderKey } from "../../workers/routing/order.ts";
import { rankAgents, type Pick, type RoutableTarget } from "../../workers/routing/select.ts";
import { parseSkillExpr } from "../../workers/routing/skills.ts";

const rng = seededRandom;
const int = (r: () => number, n: number) => Math.floor(r() * n);

function randomSnapshot(r: () => number, id: string, version: number): AgentSnapshot {
  return {
    agentId: id, version, loggedIn: r() > 0.1, afterWork: r() < 0.1, reasons: {},
    ready: { email: r() > 0.2, chat: r() > 0.3 },
    load: { email: int(r, 3), chat: int(r, 2) },
    capacity: { email: 2, chat: 2 },
    maxTotal: r() < 0.2 ? 2 : undefined,
    idleSince: int(r, 50), // few values, so ties fall to the agent id
    skills: { billing: int(r, 10), support: int(r, 10) },
  };
}

const target = (skills: string, pick: Pick): RoutableTarget => ({ expr: parseSkillExpr(skills), skills, pick });

describe("AgentIndex", () => {
  const targets = [target("billing >= 3", "longest_idle"), target("support >= 5 | billing >= 8", "least_occupied"), target("billing >= 1", "highest_skill"), target("support >= 0", "highest_skill")];

  it("ranks exactly as rankAgents sorts, through thousands of reports, removals and exclusions", () => {
    const r = rng(17);
    const index = new AgentIndex();
    const truth = new Map<string, AgentSnapshot>();
    for (let step = 0; step < 3000; step++) {
      const id = `a${int(r, 60)}`;
      if (r() < 0.1) {
        index.delete(id);
        truth.delete(id);
      } else {
        const s = randomSnapshot(r, id, step);
        index.set(s);
        truth.set(id, s);
      }
      if (step % 7 !== 0) continue;
      const media: Media = r() < 0.5 ? "email" : "chat";
      const t = targets[int(r, targets.length)]!;
      const exclude = new Set(Array.from({ length: int(r, 4) }, () => `a${int(r, 60)}`));
      const want = 1 + int(r, 12);
      const expected = rankAgents(truth.values(), media, t, exclude).ranked;
      const got = index.rank(media, t, exclude, want);
      expect(got.ranked).toEqual(expected.slice(0, want));
      expect(got.complete).toBe(expected.length <= want);
      expect(got.considered).toBe(truth.size);
      expect(index.anyFree([media])).toBe([...truth.values()].some((s) => rankAgents([s], media, target("support >= 0", "longest_idle")).ranked.length > 0));
    }
  });

  it("stops walking once it has the agents it wants, and says more may match", () => {
    const index = new AgentIndex();
    for (let i = 0; i < 50; i++) index.set(randomSnapshot(rng(i), `b${i}`, 1));
    const t = target("support >= 0", "longest_idle");
    const few = index.rank("email", t, new Set(), 3);
    expect(few.ranked).toHaveLength(3);
    expect(few.complete).toBe(false);
  });
});

describe("mergeViewOrder", () => {
  it("gives the view order of a full sort, from one arrival-ordered stream per (boost, priority)", () => {
    const r = rng(5);
    const aging = { everySeconds: 60, step: 2, max: 7 };
    const now = 10_000_000;
    const items: (OrderKey & { id: string })[] = Array.from({ length: 2000 }, (_, i) => ({
      id: `i${i}`, seq: i, boost: r() < 0.1 ? 1 : 0, priority: int(r, 6), entered_at: now - int(r, 900_000),
    }));
    const groups = new Map<string, (OrderKey & { id: string })[]>();
    for (const it of items) groups.set(`${it.boost}/${it.priority}`, [...(groups.get(`${it.boost}/${it.priority}`) ?? []), it]);
    const streams = [...groups.values()].map((g) => g.sort((a, b) => a.entered_at - b.entered_at || a.seq - b.seq)[Symbol.iterator]());
    const full = [...items].sort((a, b) => compareViewOrder(a, b, now, aging)).map((i) => i.id);
    expect(mergeViewOrder(streams, now, aging, 200).map((i) => i.id)).toEqual(full.slice(0, 200));
  });

  it("reads only what it returns, plus one head per group", () => {
    let reads = 0;
    const stream = (n: number, priority: number): Iterator<OrderKey> => {
      let i = 0;
      return { next: () => (i < n ? (reads++, { done: false, value: { boost: 0, priority, entered_at: i, seq: i++ } }) : { done: true, value: undefined }) };
    };
    const out = mergeViewOrder([stream(100_000, 1), stream(100_000, 2), stream(100_000, 3)], 0, { everySeconds: 60, step: 1, max: 10 }, 200);
    expect(out).toHaveLength(200);
    expect(reads).toBeLessThanOrEqual(203);
  });
});
