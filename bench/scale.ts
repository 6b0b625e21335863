// How routing cost grows (issue 17, item 3).
//   1. In workerd (test/scale/scale.workerd.ts through vitest-pool-workers): real InteractionQueue
//      objects holding 10 … 15,000 agent reports and 100 … 100,000 waiting items; the median µs of one
//      routing decision as the object makes it; and one queue object's routed/s with 40 real agents.
//      These are scale.json's figures.
//   2. Context, in Node: the sort-everything ranking (rankAgents) and the old order-every-row query
//      (SQLite through node:sqlite) at the same sizes: what the object's indexes replaced.
import { spawnSync } from "node:child_process";
import { DatabaseSync } from "node:sqlite";
import { cpus } from "node:os";
import type { AgentSnapshot } from "../workers/routing/agent-state.ts";
import { viewOrderSql } from "../workers/routing/order.ts";
import { rankAgents, type RoutableTarget } from "../workers/routing/select.ts";
import { parseSkillExpr } from "../workers/routing/skills.ts";
import { percentile, round } from "./lib/stats.ts";
import type { BenchResult } from "./lib/types.ts";

export const name = "scale";
export const description = "CPU per routing decision as a queue's agents (10 to 15,000) and waiting interactions (100 to 100,000) grow";

const AGENTS = [10, 100, 1000, 5000, 15000];
const WAITING = [100, 1000, 10_000, 100_000];
/** The queue's own scan: how many waiting items one dispatch pass reads (durable-objects/queue-core.ts). */
const SCAN = 200;
const AGING = { everySeconds: 60, step: 1, max: 100 };

function agents(n: number, now: number): AgentSnapshot[] {
  return Array.from({ length: n }, (_, i) => ({
    agentId: `a${i}`, version: 1, loggedIn: true, afterWork: false, ready: { email: true, chat: true }, reasons: {},
    load: { email: i % 3 }, capacity: { email: 5, chat: 2 }, idleSince: now - ((i * 7919) % 100_000), skills: { billing: i % 10, support: (i * 3) % 10 },
  }));
}

/** Median µs of `fn` over `runs` (after a warm-up), timed in batches so the clock's resolution does not round it away. */
function median(fn: () => void, runs: number): number {
  for (let i = 0; i < Math.min(50, runs); i++) fn();
  const per: number[] = [];
  const batch = 5;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (let b = 0; b < batch; b++) fn();
    per.push(((performance.now() - t0) * 1000) / batch);
  }
  return round(percentile(per.sort((a, b) => a - b), 50), 1);
}

export async function run(): Promise<BenchResult> {
  const now = Date.now();
  const target: RoutableTarget = { expr: parseSkillExpr("billing >= 3"), skills: "billing >= 3", pick: "longest_idle" };
  const byAgents: Record<string, number> = {};
  for (const n of AGENTS) {
    const hints = agents(n, now);
    byAgents[String(n)] = median(() => void rankAgents(hints, "email", target), n >= 5000 ? 60 : 300);
  }
  const byWaiting: Record<string, number> = {};
  const hints100 = agents(100, now);
  for (const m of WAITING) {
    const db = new DatabaseSync(":memory:");
    // The object's table and indexes (durable-objects/queue-core.ts).
    db.exec(`CREATE TABLE items (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, media TEXT NOT NULL, priority INTEGER NOT NULL, entered_at INTEGER NOT NULL, target_since INTEGER NOT NULL,
      target_idx INTEGER NOT NULL DEFAULT 0, boost INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, agent_id TEXT, offer_until INTEGER, pinned_agent TEXT, excluded TEXT NOT NULL DEFAULT '[]',
      excluded_at INTEGER, data TEXT NOT NULL, parked_by TEXT, pin_until INTEGER, due_at INTEGER);
      CREATE INDEX items_state ON items (state);`);
    const ins = db.prepare("INSERT INTO items (id, seq, media, priority, entered_at, target_since, state, data) VALUES (?, ?, 'email', ?, ?, ?, 'waiting', '{}')");
    db.exec("BEGIN");
    for (let i = 0; i < m; i++) ins.run(`i${i}`, i, i % 5, now - i * 1000, now - i * 1000);
    db.exec("COMMIT");
    const q = db.prepare(`SELECT * FROM items WHERE state = 'waiting' ORDER BY ${viewOrderSql(AGING)} LIMIT ${SCAN}`);
    byWaiting[String(m)] = median(() => {
      q.all(now);
      rankAgents(hints100, "email", target);
    }, m >= 10_000 ? 10 : 100);
    db.close();
  }
  const w = workerd();
  const ratioAgents = round(w.decision_us.agents["15000"]! / w.decision_us.agents["1000"]!, 2);
  const ratioWaiting = round(w.decision_us.waiting["100000"]! / w.decision_us.waiting["1000"]!, 2);
  const result = {
    decision_us: w.decision_us,
    queue_object_routed_per_s: w.queue_object_routed_per_s,
    detail: {
      bench: name,
      date: new Date().toISOString(),
      targets: {
        agents_15000_within_2x_1000: { ratio: ratioAgents, met: ratioAgents <= 2 },
        waiting_100000_within_2x_1000: { ratio: ratioWaiting, met: ratioWaiting <= 2 },
        queue_object_at_least_500_routed_per_s: { value: w.queue_object_routed_per_s, met: w.queue_object_routed_per_s >= 500 },
      },
      queue_object_submitted_per_s: w.queue_object_submitted_per_s,
      how: "workerd (vitest-pool-workers, test/scale/scale.workerd.ts): real InteractionQueue objects seeded with N agent reports (200 waiting) or M waiting items (100 agents, 5 priorities); a decision = the view-order read, the item's target and exclusions, the agent ranking and its explanation, as dispatchPass makes them; median of 11 batches of 400, µs. Throughput: 40 logged-in agents (capacity 50 email), 1,000 items submitted by RPC 50 in flight, until the last is offered.",
      design: "Agents: AgentIndex keeps, per (media, pick, skill), the agents who can take the media in routing order as their reports arrive; a decision walks from the best and stops. Waiting: an index (state, boost, priority, entered_at, seq, id); the (boost, priority) groups are found by skipping through it and merged in view order (aging never reorders within a group). Offers: one reserve at a time (8 in flight with a predicted load lengthened the routing bench's paced tail to 1.9 s p99); a full pass that offered runs again at once.",
      throughput_note: "One workerd thread here runs the queue, 40 agent objects, D1 and the bench's own submits; the queue object's own share is a part of it. On Cloudflare each agent object runs apart.",
      node_context: { decision_us_sort_all: { agents: byAgents, waiting: byWaiting }, how: "Node, before the indexes: rankAgents (sorts every hint) and the old query ordering every waiting row by the aging expression (node:sqlite), at the same sizes." },
      machine: { node: process.version, cpus: cpus().length, cpu_model: cpus()[0]?.model ?? "unknown" },
    },
  };
  const summary = [
    `µs per decision by agents (workerd): ${AGENTS.map((n) => `${n}: ${w.decision_us.agents[String(n)]}`).join(", ")} (15,000 ÷ 1,000 = ${ratioAgents}; target ≤ 2)`,
    `µs per decision by waiting (workerd): ${WAITING.map((m) => `${m}: ${w.decision_us.waiting[String(m)]}`).join(", ")} (100,000 ÷ 1,000 = ${ratioWaiting}; target ≤ 2)`,
    `one queue object: ${w.queue_object_routed_per_s} routed/s, ${w.queue_object_submitted_per_s} submitted/s (target ≥ 500 routed/s)`,
    `context, sort-everything code in Node: agents ${AGENTS.map((n) => `${n}: ${byAgents[String(n)]}`).join(", ")}; waiting ${WAITING.map((m) => `${m}: ${byWaiting[String(m)]}`).join(", ")} µs`,
  ];
  return { result, summary };
}

interface WorkerdFigures {
  decision_us: { agents: Record<string, number>; waiting: Record<string, number> };
  queue_object_routed_per_s: number;
  queue_object_submitted_per_s: number;
}

/** Runs the workerd half and reads its one line of figures. */
function workerd(): WorkerdFigures {
  const r = spawnSync("npx", ["vitest", "run", "-c", "bench/scale/vitest.config.ts"], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const line = `${r.stdout}\n${r.stderr}`.split("\n").find((l) => l.includes("SCALE_RESULT "));
  if (r.status !== 0 || !line) throw new Error(`the workerd half failed (exit ${r.status}):\n${(r.stdout + r.stderr).slice(-3000)}`);
  return JSON.parse(line.slice(line.indexOf("SCALE_RESULT ") + 13)) as WorkerdFigures;
}
