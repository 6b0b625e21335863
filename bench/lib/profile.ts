// Optional (BENCH_PROFILE=1): a V8 CPU profile of the Worker's isolate (the Worker and its Durable
// Objects; D1 runs elsewhere) over one phase, through wrangler dev's inspector, summarised by self time
// and mapped back to the sources through the bundle's source map. The other isolates of the same
// workerd (D1, R2, miniflare's entry) can be profiled too, on that workerd's own inspector
// (runtimeInspector): wrangler's inspector proxy only shows the Worker.
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
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
  /** Sum of the samples' time deltas (each at most clampUs): without a clamp, the profile's wall time. */
  totalMs: number;
  /** Samples taken, and those not idle: workerd samples an isolate only while it holds its lock, so
   *  with several isolates on one thread the deltas may span time other isolates used. */
  samples: number;
  busySamples: number;
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
  return startProfileAt(list[0].webSocketDebuggerUrl, samplingUs);
}

/** workerd's own inspector (the runtime process of wrangler dev's group, started with
 *  --inspector-addr=127.0.0.1:0): its port, found from the process's listening sockets, and the
 *  isolates it lists (core:user:<name> is the Worker, d1:db, r2:bucket, core:entry…). Linux only. */
export async function runtimeInspector(devGroup: number | undefined): Promise<{ port: number; targets: { id: string; url: string }[] } | undefined> {
  if (devGroup === undefined) return undefined;
  const listening = new Map<string, number>(); // socket inode -> port
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(f, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c[3] === "0A" && c[1] && c[9]) listening.set(c[9], parseInt(c[1].split(":")[1]!, 16));
    }
  }
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[2]) !== devGroup || !stat.includes("(workerd)")) continue;
      if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("--inspector-addr")) continue;
      const ports = new Set<number>();
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        try {
          const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
          const port = m ? listening.get(m[1]!) : undefined;
          if (port) ports.add(port);
        } catch {
          // closed meanwhile
        }
      }
      for (const port of ports) {
        const list = await fetch(`http://127.0.0.1:${port}/json`, { signal: AbortSignal.timeout(3_000) }).then(
          (r) => (r.ok ? (r.json() as Promise<{ id?: string; webSocketDebuggerUrl?: string }[]>) : null),
          () => null,
        ).catch(() => null);
        if (Array.isArray(list) && list.some((t) => t.id?.startsWith("core:user:")))
          return { port, targets: list.filter((t) => t.id && t.webSocketDebuggerUrl).map((t) => ({ id: t.id!, url: `ws://127.0.0.1:${port}/${t.id}` })) };
      }
    } catch {
      // not ours, or gone
    }
  }
  return undefined;
}

/** Starts profiling the isolate behind an inspector WebSocket URL. */
export async function startProfileAt(wsUrl: string, samplingUs = 500): Promise<() => Promise<CpuProfile>> {
  const cdp = await Cdp.open(wsUrl);
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

/** `clampUs`: count a sample for at most this long. workerd samples an isolate only while it is
 *  entered, so when several isolates share its thread the time between two samples may be another
 *  isolate's (or workerd's own): clamping at about the sampling interval counts the isolate's own time. */
export function summarize(p: CpuProfile, map?: SourceMap, top = 25, clampUs = Infinity): ProfileSummary {
  const self = new Map<number, number>();
  const deltas = p.timeDeltas ?? [];
  (p.samples ?? []).forEach((id, i) => self.set(id, (self.get(id) ?? 0) + Math.min(deltas[i] ?? 0, clampUs) / 1000));
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
  const idleIds = new Set(p.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
  return {
    totalMs: Math.round(total),
    samples: (p.samples ?? []).length,
    busySamples: (p.samples ?? []).filter((id) => !idleIds.has(id)).length,
    busyPct: total ? Math.round((1000 * (total - idle)) / total) / 10 : 0,
    byFile: rows(byFile).map(({ k, ...r }) => ({ file: k, ...r })),
    byFunction: rows(byFn).map(({ k, ...r }) => ({ fn: k, ...r })),
    byCaller: rows(byJs).map(({ k, ...r }) => ({ fn: k, ...r })),
  };
}
