// The code's shape (docs/architecture.md, "How the code is layered"), checked on the files
// themselves: each rule would fail the moment a change broke it.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const p = join(dir, name);
    return statSync(join(ROOT, p)).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}
const read = (f: string) => readFileSync(join(ROOT, f), "utf8");
/** The project files a file imports, as paths from the root. */
const importsOf = (f: string) =>
  [...read(f).matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((m) => relative(ROOT, resolve(ROOT, dirname(f), m[1]!)));

const objects = files("durable-objects");
const server = [...files("workers"), ...objects];

describe("the code's layers", () => {
  it("keeps every Durable Object file at 450 lines or fewer", () => {
    const long = objects.map((f) => [f, read(f).split("\n").length] as const).filter(([, n]) => n > 450);
    expect(long).toEqual([]);
  });

  it("keeps the kernel free of the project, and the HTTP layer out of objects and pure modules", () => {
    for (const f of files("workers/kernel")) expect(importsOf(f).filter((i) => !i.startsWith("workers/kernel/")), f).toEqual([]);
    const pure = [...objects, ...files("workers/routing"), ...files("workers/workflow"), ...files("workers/protocol"), ...files("workers/ucs"), ...server.filter((f) => /\bPure\b|, pure\b|pure:/i.test(read(f).slice(0, 600)))];
    expect(pure.length).toBeGreaterThan(40);
    for (const f of pure) expect(importsOf(f).filter((i) => i.startsWith("workers/http/")), f).toEqual([]);
  });

  it("keeps every D1 statement in workers/ucs/ (objects' own SQLite is theirs)", () => {
    expect(server.filter((f) => !f.startsWith("workers/ucs/") && read(f).includes(".prepare("))).toEqual([]);
  });

  it("writes interaction_events in one place", () => {
    const writers = server.filter((f) => /INSERT INTO interaction_events/.test(read(f)));
    expect(writers).toEqual(["workers/ucs/events.ts"]);
  });

  it("gives each socket's frames one home that both ends import", () => {
    for (const [protocol, readers] of [
      ["workers/protocol/desk.ts", ["durable-objects/agent-desk.ts", "web/desk/live-state.ts"]],
      ["workers/protocol/dashboard.ts", ["durable-objects/dashboard.ts", "web/console/dashboard/useDashboard.ts"]],
      ["workers/protocol/chat.ts", ["durable-objects/chat-core.ts", "widget/types.ts", "web/shared/types.ts"]],
    ] as const)
      for (const r of readers) expect(importsOf(r), `${r} imports ${protocol}`).toContain(protocol);
  });
});
