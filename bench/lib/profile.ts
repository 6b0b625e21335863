// Optional (BENCH_PROFILE=1): a V8 CPU profile of the Worker's isolate (the Worker and its Durable
// Objects; D1 runs elsewhere) over one phase, through wrangler dev's inspector, summarised by self time
// and mapped back to the sources through the bundle's source map.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { SourceMap, type SourceMapPayload, type SourceMapping } from "node:module";
import { join } from "node:path";
import { sleep } from "./pool.ts";

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number }; hitCount?: number; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** Share of sampled time the isolate was not idle. */
  busyPct: number;
  byFile: { file: string; selfMs: number; pct: number }[];
  byFunction: { fn: string; selfMs: number; pct: number }[];
  /** Self time with native frames (SQL, JSON, RPC…) folded into the nearest calling function of the bundle. */
  byCaller: { fn: string; selfMs: number; pct: number }[];
}

class Cdp {
  private readonly ws: WebSocket;
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.addEventListener("message", (ev) => {
      const m = JSON.parse(String(ev.data)) as { id?: number; result?: unknown; error?: { message: string } };
      const w = m.id === undefined ? undefined : this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id!);
      if (m.error) w.reject(new Error(m.error.message));
      else w.resolve(m.result);
    });
  }

  static async open(url: string, timeoutMs = 10_000): Promise<Cdp> {
    // wrangler's inspector proxy only takes connections from its DevTools origin; Node's WebSocket
    // (undici) accepts headers as a second argument, which the DOM typing does not know.
    const NodeWebSocket = WebSocket as unknown as new (url: string, init: { headers: Record<string, string> }) => WebSocket;
    const ws = new NodeWebSocket(url, { headers: { origin: "https://devtools.devprod.cloudflare.dev" } });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`inspector ${url}: no connection in ${timeoutMs} ms`)), timeoutMs);
      ws.addEventListener("open", () => (clearTimeout(t), resolve()));
      ws.addEventListener("error", () => (clearTimeout(t), reject(new Error(`inspector ${url}: connection failed`))));
    });
    return new Cdp(ws);
  }

  send<T>(method: string, params: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const id = this.next++;
    this.ws.send(JSON.stringify({ id, method, params }));
    return Promise.race([
      new Promise<T>((resolve, reject) => this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject })),
      sleep(timeoutMs).then(() => {
        throw new Error(`inspector: ${method} timed out`);
      }),
    ]);
  }

  close(): void {
    this.ws.close();
  }
}

/** Starts profiling; the returned function stops it and gives the raw profile. */
export async function startProfile(inspectorPort: number, samplingUs = 500): Promise<() => Promise<CpuProfile>> {
  const list = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`, { signal: AbortSignal.timeout(10_000) })).json()) as { webSocketDebuggerUrl: string }[];
  if (!list[0]) throw new Error(`inspector on ${inspectorPort} lists no target`);
  const cdp = await Cdp.open(list[0].webSocketDebuggerUrl);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: samplingUs });
  await cdp.send("Profiler.start");
  return async () => {
    try {
      return (await cdp.send<{ profile: CpuProfile }>("Profiler.stop")).profile;
    } finally {
      cdp.close();
    }
  };
}

const shortFile = (url: string) => {
  if (!url) return "(native/runtime)";
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return `node_modules/${m[1]}`;
  return url.replace(/^.*?\/(workers|durable-objects)\//, "$1/").replace(/^(\.\.\/)+/, "").replace(/^file:\/\//, "");
};

/** The newest bundle wrangler dev built in this snapshot, with its source map, to name the original sources. */
export function bundleMap(src: string): SourceMap | undefined {
  const tmp = join(src, ".wrangler", "tmp");
  if (!existsSync(tmp)) return undefined;
  const maps = readdirSync(tmp)
    .map((d) => join(tmp, d, "index.js.map"))
    .filter((f) => existsSync(f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return maps[0] ? new SourceMap(JSON.parse(readFileSync(maps[0], "utf8")) as SourceMapPayload) : undefined;
}

type Frame = CpuProfile["nodes"][number]["callFrame"] & { columnNumber?: number };

export function summarize(p: CpuProfile, map?: SourceMap, top = 25): ProfileSummary {
  const self = new Map<number, number>();
  const deltas = p.timeDeltas ?? [];
  (p.samples ?? []).forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0) / 1000));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const where = (f: Frame): { file: string; fn: string } => {
    const name = f.functionName || "(anonymous)";
    if (!f.url) return { file: name.startsWith("(") ? name : "(native/runtime)", fn: name };
    const e = map && f.url === "index.js" ? (map.findEntry(f.lineNumber, f.columnNumber ?? 0) as Partial<SourceMapping>) : {};
    if (e.originalSource) {
      const file = shortFile(e.originalSource);
      return { file, fn: `${name} ${file}:${(e.originalLine ?? 0) + 1}` };
    }
    return { file: shortFile(f.url), fn: `${name} ${shortFile(f.url)}:${f.lineNumber + 1}` };
  };
  const byFile = new Map<string, number>();
  const byFn = new Map<string, number>();
  const byJs = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const n of p.nodes) {
    const ms = self.get(n.id) ?? 0;
    if (!ms) continue;
    total += ms;
    if (n.callFrame.functionName === "(idle)") idle += ms;
    const w = where(n.callFrame);
    byFile.set(w.file, (byFile.get(w.file) ?? 0) + ms);
    byFn.set(w.fn, (byFn.get(w.fn) ?? 0) + ms);
    // Native work (SQL, JSON, crypto, RPC) counted in the nearest JS caller from the Worker's own code.
    let at: number | undefined = n.id;
    let name = n.callFrame.url ? w.fn : "";
    while (at !== undefined && !name) {
      const f: Frame = byId.get(at)!.callFrame;
      if (f.url === "index.js") name = where(f).fn;
      at = parent.get(at);
    }
    if (!name) name = n.callFrame.functionName || "(native)";
    byJs.set(name, (byJs.get(name) ?? 0) + ms);
  }
  const rows = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, ms]) => ({ k, selfMs: Math.round(ms), pct: total ? Math.round((1000 * ms) / total) / 10 : 0 }));
  return {
    totalMs: Math.round(total),
    busyPct: total ? Math.round((1000 * (total - idle)) / total) / 10 : 0,
    byFile: rows(byFile).map(({ k, ...r }) => ({ file: k, ...r })),
    byFunction: rows(byFn).map(({ k, ...r }) => ({ fn: k, ...r })),
    byCaller: rows(byJs).map(({ k, ...r }) => ({ fn: k, ...r })),
  };
}
