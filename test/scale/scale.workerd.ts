// The scale bench's workerd half (issue 17, item 3), run by bench/scale.ts through
// bench/scale/vitest.config.ts. It drives real InteractionQueue and Agent objects in workerd:
//   1. Agents: one queue object per size (10 … 15,000) holding that many agent reports, 200 waiting;
//      a decision is what a dispatch pass does per item (the view-order read, the item's target, its
//      exclusions, the agent ranking and the explanation), timed inside the object.
//   2. Waiting: one queue per size (100 … 100,000 waiting, in 5 priorities), 100 agents; the same decision.
//   3. Throughput: 40 logged-in agents (capacity 50 email each) and 1,000 interactions submitted to one
//      queue object by RPC, 50 in flight: submitted and offered per second until the last offer.
// The objects' clocks advance inside workerd's test pool (checked: performance.now moves in a busy loop).
// Figures go to stdout on one line, SCALE_RESULT {...}, for bench/scale.ts to write.
import { runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import type { InteractionQueue } from "../../durable-objects/interaction-queue.ts";
import { queueStub } from "../../durable-objects/names.ts";
import type { AgentSnapshot } from "../../workers/routing/agent-state.ts";
import type { AgentIndex } from "../../workers/routing/agent-index.ts";
import { explain, type RoutableTarget } from "../../workers/routing/select.ts";
import { tenv, makeTenant, post } from "../helpers.ts";

const AGENTS = [10, 100, 1000, 5000, 15000];
const WAITING = [100, 1000, 10_000, 100_000];

function snapshot(i: number, now: number): AgentSnapshot {
  return {
    agentId: `s${i}`, version: 1, loggedIn: true, afterWork: false, ready: { email: true }, reasons: {},
    load: { email: i % 3 }, capacity: { email: 5 }, idleSince: now - ((i * 7919) % 100_000), skills: { billing: i % 10 },
  };
}

/** The object's internals this bench reaches (protected in the class; runInDurableObject hands over the instance). */
interface Inside {
  sql: SqlStorage;
  hints: Pick<AgentIndex, "set" | "rank">;
  compiled(): Promise<{ targets?: unknown[]; config: { aging: { everySeconds: number; step: number; max: number } } }>;
  waitingInOrder(cq: unknown, now: number, limit: number): string[];
  row(id: string): Record<string, unknown> & { id: string; media: "email" };
  targetOf(it: unknown, targets: unknown[], now: number): { index: number; target: unknown };
  withNeeds(it: unknown, target: unknown): RoutableTarget;
  exclusions(it: unknown, target: unknown, now: number): Set<string>;
}

async function seed(name: string, tenant: string, agents: number, waiting: number): Promise<void> {
  // Wake the object and let its start-up dispatch pass (over nothing) finish first: a pass that saw the
  // seeded reports would offer to agents that do not exist, and drop them.
  await queueStub(await tenv(tenant), tenant, name).holds("none");
  await new Promise((r) => setTimeout(r, 300));
  await runInDurableObject(queueStub(await tenv(tenant), tenant, name), (q: InteractionQueue) => {
    const o = q as unknown as Inside;
    const now = Date.now();
    for (let i = 0; i < agents; i++) o.hints.set(snapshot(i, now));
    const data = JSON.stringify({ id: "x", media: "email", priority: 0, subject: null, contactId: null, categories: [], attributes: {} });
    for (let i = 0; i < waiting; i++)
      o.sql.exec("INSERT INTO items (id, seq, media, priority, entered_at, target_since, state, data) VALUES (?, ?, 'email', ?, ?, ?, 'waiting', ?)", `w${i}`, i + 1, i % 5, now - i * 10, now - i * 10, data);
  });
}

/** Median µs of one routing decision, as dispatchPass makes it, without offering (so the state stays put). */
async function decisionUs(name: string, tenant: string, runs: number): Promise<number> {
  return runInDurableObject(queueStub(await tenv(tenant), tenant, name), async (q: InteractionQueue) => {
    const o = q as unknown as Inside;
    const cq = await o.compiled();
    const decide = () => {
      const now = Date.now();
      const id = o.waitingInOrder(cq, now, 200)[0]!;
      const it = o.row(id);
      const at = o.targetOf(it, cq.targets!, now);
      const target = o.withNeeds(it, at.target);
      const r = o.hints.rank(it.media, target, o.exclusions(it, target, now));
      return explain(at.index, target, r.ranked, r.ranked[0]!, now, r.considered, r.excluded, r.complete).agentId;
    };
    for (let i = 0; i < 50; i++) decide();
    // workerd's clock moves in whole milliseconds: each sample is a batch long enough to make that small.
    const per: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      for (let b = 0; b < 400; b++) decide();
      per.push(((performance.now() - t0) * 1000) / 400);
    }
    per.sort((a, b) => a - b);
    return Math.round(per[Math.floor(per.length / 2)]! * 10) / 10;
  });
}

it("measures routing cost as agents and waiting grow, and one queue object's routed/s", async () => {
  const queues = [...AGENTS.map((n) => `a${n}`), ...WAITING.map((m) => `w${m}`)].map((name) => ({
    name, media: ["email" as const], steps: [{ type: "route" as const, targets: [{ skills: "billing >= 3", pick: "longest_idle" as const }] }],
  }));
  const t = await makeTenant([{ id: "nobody" }], queues);

  const agents: Record<string, number> = {};
  for (const n of AGENTS) {
    await seed(`a${n}`, t.id, n, 200);
    agents[String(n)] = await decisionUs(`a${n}`, t.id, 11);
  }
  const waiting: Record<string, number> = {};
  for (const m of WAITING) {
    await seed(`w${m}`, t.id, 100, m);
    waiting[String(m)] = await decisionUs(`w${m}`, t.id, 11);
  }

  // Throughput: real agents, real offers (each an RPC to the agent's object and an outbox entry).
  // A tenant of its own, so the agents' reports reach only this queue.
  const live = Array.from({ length: 40 }, (_, i) => ({ id: `r${i}`, capacity: { email: 50 }, maxTotal: 50 }));
  const tt = await makeTenant(live, [{ name: "thru", media: ["email"], steps: [{ type: "route", targets: [{ skills: "*" }] }] }]);
  await Promise.all(live.map((a) => post(tt, "/api/v1/me/login", a.id, { ready: true })));
  const q = queueStub(await tenv(tt.id), tt.id, "thru");
  const K = 1000;
  const t0 = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: 50 }, async () => {
    while (next < K) {
      const i = next++;
      await q.submit({ id: `thru-${i}`, media: "email", priority: 0, subject: null, contactId: null, categories: [], attributes: {} }, { actor: "bench" });
    }
  }));
  const submittedMs = Date.now() - t0;
  let offered = 0;
  for (const end = Date.now() + 120_000; Date.now() < end; ) {
    offered = await runInDurableObject(q, (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM items WHERE state = 'offered'").one().n);
    if (offered >= K) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const routedMs = Date.now() - t0;
  expect(offered).toBe(K);
  const result = {
    decision_us: { agents, waiting },
    queue_object_routed_per_s: Math.round((K / routedMs) * 1000),
    queue_object_submitted_per_s: Math.round((K / submittedMs) * 1000),
  };
  console.log(`SCALE_RESULT ${JSON.stringify(result)}`);
});
