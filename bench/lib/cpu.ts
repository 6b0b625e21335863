// Who used the CPU during a phase (Linux /proc): the bench client, wrangler dev's workerd and Node
// processes, and everything else on the machine (another test run skews the figures). Empty elsewhere.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

interface Proc {
  comm: string;
  pgrp: number;
  ticks: number;
}

interface Thread {
  pid: number;
  name: string;
  ticks: number;
}

const TICK = (() => {
  const r = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

function snapshot(): Map<number, Proc> {
  const out = new Map<number, Proc>();
  let pids: string[] = [];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const s = readFileSync(`/proc/${pid}/stat`, "utf8");
      const close = s.lastIndexOf(")");
      const comm = s.slice(s.indexOf("(") + 1, close);
      const f = s.slice(close + 2).split(" ");
      // After "pid (comm) ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
      out.set(Number(pid), { comm, pgrp: Number(f[2]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Per-thread ticks of the given processes (/proc/<pid>/task/<tid>/stat). */
function threads(pids: number[]): Map<number, Thread> {
  const out = new Map<number, Thread>();
  for (const pid of pids) {
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const s = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
        const close = s.lastIndexOf(")");
        const f = s.slice(close + 2).split(" ");
        out.set(Number(tid), { pid, name: s.slice(s.indexOf("(") + 1, close), ticks: Number(f[11]) + Number(f[12]) });
      } catch {
        // gone meanwhile
      }
    }
  }
  return out;
}

/** What a process of wrangler dev is, from its command line: wrangler 4 runs two workerd, one for
 *  the user's Worker with D1, R2, KV, Queues and the Durable Objects (isolates of one process, each
 *  on the inspector given by --inspector-addr), one for the proxy in front of it (the --port entry
 *  and the --inspector-port proxy). */
function role(pid: number, comm: string): string {
  let args = "";
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return comm;
  }
  if (comm.startsWith("workerd")) return args.includes("--inspector-addr") ? "workerd runtime (Worker, DOs, D1, R2…)" : "workerd proxy (entry, inspector proxy)";
  if (/wrangler-dist\/cli\.js/.test(args)) return "node wrangler (cli)";
  if (/\.bin\/wrangler\b/.test(args)) return "node wrangler (launcher)";
  if (comm === "esbuild") return "esbuild";
  return comm;
}

export interface ProcessUse {
  pid: number;
  role: string;
  cpu_s: number;
  cores: number;
  /** CPU seconds by thread name (summed over threads of the same name), workerd only. */
  threads?: Record<string, number>;
}

export interface CpuUse {
  wall_s: number;
  /** CPU seconds per group, and in cores (CPU seconds / wall seconds). */
  bench_client: number;
  workerd: number;
  wrangler_node: number;
  other: number;
  cores_used: { bench_client: number; workerd: number; wrangler_node: number; other: number };
  /** wrangler dev's processes one by one (busiest first), with workerd's threads. */
  by_process: ProcessUse[];
}

/** Starts measuring; call the returned function at the end of the phase. `devGroup` is wrangler dev's process group. */
export function cpuMeter(devGroup: number | undefined): () => CpuUse {
  const t0 = performance.now();
  const before = snapshot();
  const inGroup = (m: Map<number, Proc>) => [...m].filter(([, p]) => devGroup !== undefined && p.pgrp === devGroup && p.comm.startsWith("workerd")).map(([pid]) => pid);
  const threadsBefore = threads(inGroup(before));
  const self0 = process.cpuUsage();
  return () => {
    const after = snapshot();
    const threadsAfter = threads(inGroup(after));
    const self = process.cpuUsage(self0);
    const wall = (performance.now() - t0) / 1000;
    let workerd = 0;
    let node = 0;
    let other = 0;
    const r2 = (x: number) => Math.round(x * 100) / 100;
    const byProcess: ProcessUse[] = [];
    for (const [pid, p] of after) {
      if (pid === process.pid) continue;
      const d = (p.ticks - (before.get(pid)?.ticks ?? 0)) / TICK;
      if (d <= 0) continue;
      if (devGroup !== undefined && p.pgrp === devGroup) {
        if (p.comm.startsWith("workerd")) workerd += d;
        else node += d;
        const use: ProcessUse = { pid, role: role(pid, p.comm), cpu_s: r2(d), cores: r2(d / wall) };
        if (p.comm.startsWith("workerd")) {
          const t: Record<string, number> = {};
          for (const [tid, th] of threadsAfter) {
            if (th.pid !== pid) continue;
            const dt = (th.ticks - (threadsBefore.get(tid)?.ticks ?? 0)) / TICK;
            if (dt > 0) t[th.name] = r2((t[th.name] ?? 0) + dt);
          }
          use.threads = t;
        }
        byProcess.push(use);
      } else other += d;
    }
    byProcess.sort((a, b) => b.cpu_s - a.cpu_s);
    const client = (self.user + self.system) / 1e6;
    return {
      wall_s: r2(wall),
      bench_client: r2(client),
      workerd: r2(workerd),
      wrangler_node: r2(node),
      other: r2(other),
      cores_used: { bench_client: r2(client / wall), workerd: r2(workerd / wall), wrangler_node: r2(node / wall), other: r2(other / wall) },
      by_process: byProcess,
    };
  };
}

/** Waits until wrangler dev's processes are quiet (under `cores` for `quietS` seconds in a row), at least
 *  `minS` and at most `maxS` seconds. Returns the seconds waited. */
export async function settle(devGroup: number | undefined, o: { minS: number; maxS: number; quietS?: number; cores?: number }): Promise<number> {
  const { minS, maxS, quietS = 3, cores = 0.05 } = o;
  const t0 = performance.now();
  let quiet = 0;
  for (let s = 0; s < maxS; s++) {
    const m = cpuMeter(devGroup);
    await new Promise((r) => setTimeout(r, 1_000));
    const u = m();
    quiet = u.cores_used.workerd + u.cores_used.wrangler_node < cores ? quiet + 1 : 0;
    if (s + 1 >= minS && quiet >= quietS) break;
  }
  return Math.round((performance.now() - t0) / 100) / 10;
}
