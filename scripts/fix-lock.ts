// The npm registry reachable from our machines and CI serves workerd's Linux builds but not its
// macOS and Windows ones, so `npm install` leaves those optional packages out of package-lock.json,
// and `npm ci` then refuses the lock ("Missing: @cloudflare/workerd-darwin-64 from lock file").
// This records each missing platform package next to its Linux sibling, with its os and cpu, so
// `npm ci` accepts the lock and skips them on Linux (elsewhere npm fetches them as usual).
// Run after changing dependencies: `npm run fix-lock`.
import { readFileSync, writeFileSync } from "node:fs";

type Entry = { version?: string; optionalDependencies?: Record<string, string>; os?: string[]; cpu?: string[]; optional?: boolean; license?: string; engines?: unknown };
const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8")) as { packages: Record<string, Entry> };
const PLATFORM: Record<string, { os: string; cpu: string }> = {
  "darwin-64": { os: "darwin", cpu: "x64" },
  "darwin-arm64": { os: "darwin", cpu: "arm64" },
  "windows-64": { os: "win32", cpu: "x64" },
  "linux-64": { os: "linux", cpu: "x64" },
  "linux-arm64": { os: "linux", cpu: "arm64" },
};

/** Does `dep` resolve from the package at `from` (its own node_modules, then each ancestor's) to `version`? */
function resolves(from: string, dep: string, version: string): boolean {
  let dir = from;
  for (;;) {
    const hit = lock.packages[`${dir ? `${dir}/` : ""}node_modules/${dep}`];
    if (hit) return hit.version === version;
    if (dir === "") return false;
    const at = dir.lastIndexOf("/node_modules/");
    dir = at < 0 ? "" : dir.slice(0, at);
  }
}

let added = 0;
for (const [from, entry] of Object.entries(lock.packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const m = /^@cloudflare\/workerd-(.+)$/.exec(dep);
    if (!m || !PLATFORM[m[1]!] || resolves(from, dep, version)) continue;
    const sibling = Object.keys(lock.packages).find((k) => /@cloudflare\/workerd-linux-64$/.test(k) && lock.packages[k]!.version === version && k.startsWith(from.replace(/node_modules\/workerd$/, "")));
    const at = sibling ? sibling.replace(/workerd-linux-64$/, `workerd-${m[1]}`) : `${from ? `${from}/` : ""}node_modules/${dep}`;
    const base = sibling ? lock.packages[sibling]! : {};
    lock.packages[at] = { version, cpu: [PLATFORM[m[1]!]!.cpu], license: base.license, optional: true, os: [PLATFORM[m[1]!]!.os], engines: base.engines };
    added++;
  }
}
writeFileSync(path, JSON.stringify(lock, null, 2) + "\n");
console.log(`package-lock.json: recorded ${added} platform package(s) the registry does not serve`);
