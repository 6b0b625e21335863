// npm run bench [-- name ...]: runs the named benches (all by default) one after another and writes
// each one's figures to bench/results/<name>.json. Exits non-zero only when a bench itself broke;
// missed targets are figures, not failures.
import { mkdirSync, writeFileSync } from "node:fs";
import type { BenchModule } from "./lib/types.ts";

const benches: Record<string, () => Promise<BenchModule>> = {
  routing: () => import("./routing.ts"),
  email: () => import("./email.ts"),
  chat: () => import("./chat.ts"),
  sms: () => import("./sms.ts"),
  desktop: () => import("./desktop.ts"),
  hostile: () => import("./hostile.ts"),
  crash: () => import("./crash.ts"),
  classify: () => import("./classify.ts"),
  social: () => import("./social.ts"),
  events: () => import("./events.ts"),
  trips: () => import("./trips.ts"),
  scale: () => import("./scale.ts"),
  report: () => import("./report.ts"),
};

const resultsDir = new URL("./results/", import.meta.url).pathname;
const asked = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const unknown = asked.filter((a) => !(a in benches));
if (unknown.length) {
  console.error(`unknown bench: ${unknown.join(", ")} (have: ${Object.keys(benches).join(", ")})`);
  process.exit(2);
}

let broke = 0;
for (const name of asked.length ? asked : Object.keys(benches)) {
  const bench = await benches[name]!();
  console.log(`\n== bench ${bench.name}: ${bench.description}`);
  const t0 = performance.now();
  try {
    const { result, summary, file = bench.name } = await bench.run();
    mkdirSync(resultsDir, { recursive: true });
    // The report writes its page, not figures of its own.
    if (file) writeFileSync(`${resultsDir}${file}.json`, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\n-- ${bench.name} (${Math.round((performance.now() - t0) / 1000)} s)${file ? `, written to bench/results/${file}.json` : ""}`);
    for (const line of summary) console.log(`  ${line}`);
  } catch (err) {
    broke++;
    console.error(`\n!! bench ${name} broke:`, err instanceof Error ? (err.stack ?? err.message) : err);
  }
}
// Sockets and keep-alive connections may linger: leave now.
process.exit(broke ? 1 : 0);
