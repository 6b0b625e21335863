// D1 round trips per operation (issue 17), every operation at once: the figures the routing, email and
// SMS benches each report for the operations they exercise (bench/lib/trips.ts), measured together on
// the doors tenant through wrangler dev with BENCH=1. trips.json: { d1_round_trips: { op: n }, … }.
import { cpus } from "node:os";
import { root } from "../scripts/local.ts";
import { applyMigrationsIn, ensurePortsFree, removeWorkdir, startDev, waitUpOrBuildError, workdir, type Dev } from "./lib/dev.ts";
import { envInt } from "./lib/env.ts";
import { phaseTimer } from "./lib/phase.ts";
import { measureTrips, prepareTrips, TRIP_TARGETS, type TripOp } from "./lib/trips.ts";
import type { BenchResult } from "./lib/types.ts";

export const name = "trips";
export const description = "D1 round trips per operation (ingest doors, chat, offer, accept, done, reply send), counted in bench mode";

const OPS: TripOp[] = ["generic_ingest", "offer", "accept", "done", "email_inbound", "email_routing", "form", "sms_webhook", "chat_start", "chat_message", "reply_send"];
const port = envInt("BENCH_PORT", 8801);
const samples = envInt("BENCH_TRIPS_SAMPLES", 5);

export async function run(): Promise<BenchResult> {
  const phases: Record<string, number> = {};
  const phase = phaseTimer(phases);
  const w = workdir();
  let dev: Dev | undefined;
  try {
    await ensurePortsFree(port, port + 1000);
    await phase("D1 migrations and the doors tenant", async () => {
      applyMigrationsIn(w);
      await prepareTrips(w);
    });
    dev = startDev(port, w, { logPath: `${root}bench/results/trips-wrangler.log`, inspectorPort: port + 1000, vars: { BENCH: "1" } });
    const d = dev;
    await phase(`wrangler dev on :${port}`, () => waitUpOrBuildError(d));
    const t = await phase(`${OPS.length} operations, ${samples} times each, one at a time`, () => measureTrips(d.base, w, OPS, samples));
    const result = { d1_round_trips: t.d1_round_trips, detail: { bench: name, date: new Date().toISOString(), targets: TRIP_TARGETS, targets_met: t.targets_met, by_place: t.by_place, samples, phases_s: phases, code: w.code, machine: { cpus: cpus().length, through: "wrangler dev (local workerd); a batch() is one round trip" } } };
    const summary = OPS.map((op) => {
      const target = TRIP_TARGETS[op];
      const places = Object.entries(t.by_place[op]?.sync ?? {}).map(([p, n]) => `${p} ${n}`).join(", ");
      const behind = Object.entries(t.by_place[op]?.behind ?? {}).map(([p, n]) => `${p} ${n}`).join(", ");
      return `${op.padEnd(15)} ${String(t.d1_round_trips[op]).padStart(3)} round trip(s)${target === undefined ? "" : ` (target ≤ ${target}: ${t.targets_met[op] ? "met" : "MISSED"})`}  [${places || "none"}]${behind ? `  behind: ${behind}` : ""}`;
    });
    return { result, summary };
  } finally {
    if (dev) await dev.stop();
    removeWorkdir(w);
  }
}
