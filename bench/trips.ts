// D1 round trips per operation (issue 17), every operation at once: the figures the routing, email and
// SMS benches each report for the operations they exercise (bench/lib/trips.ts), measured together on
// the doors tenant through wrangler dev with BENCH=1. trips.json: { d1_round_trips: { op: n }, … }.
import { cpus } from "node:os";
import { root } from "../scripts/local.ts";
import { envInt } from "./lib/env.ts";
import { phaseTimer } from "./lib/phase.ts";
import { tripsFor, TRIP_TARGETS, type TripOp } from "./lib/trips.ts";
import type { BenchResult } from "./lib/types.ts";

export const name = "trips";
export const description = "D1 round trips per operation (ingest doors, chat, offer, accept, done, reply send), counted in bench mode";

const OPS: TripOp[] = ["generic_ingest", "offer", "accept", "done", "email_inbound", "email_routing", "form", "sms_webhook", "chat_start", "chat_message", "reply_send"];
const port = envInt("BENCH_PORT", 8801);
const samples = envInt("BENCH_TRIPS_SAMPLES", 5);

export async function run(): Promise<BenchResult> {
  const phases: Record<string, number> = {};
  const phase = phaseTimer(phases);
  const t = await phase(`${OPS.length} operations, ${samples} times each, one at a time`, () => tripsFor(OPS, port, `${root}bench/results/trips-wrangler.log`, samples));
  const result = { d1_round_trips: t.d1_round_trips, detail: { bench: name, date: new Date().toISOString(), targets: TRIP_TARGETS, targets_met: t.targets_met, by_place: t.by_place, trail: t.trail, samples, phases_s: phases, machine: { cpus: cpus().length, through: "wrangler dev (local workerd); a batch() is one round trip" } } };
  return { result, summary: tripsSummary(OPS, t) };
}

export function tripsSummary(ops: TripOp[], t: Awaited<ReturnType<typeof tripsFor>>): string[] {
  return ops.map((op) => {
    const target = TRIP_TARGETS[op];
    const places = Object.entries(t.by_place[op]?.sync ?? {}).map(([p, n]) => `${p} ${n}`).join(", ");
    const behind = Object.entries(t.by_place[op]?.behind ?? {}).map(([p, n]) => `${p} ${n}`).join(", ");
    return `${op.padEnd(15)} ${String(t.d1_round_trips[op]).padStart(3)} D1 round trip(s)${target === undefined ? "" : ` (target ≤ ${target}: ${t.targets_met[op] ? "met" : "MISSED"})`}  [${places || "none"}]${behind ? `  behind: ${behind}` : ""}`;
  });
}
