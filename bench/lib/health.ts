// GET /api/health polled open-loop from a worker thread: one request every `everyMs` whatever the
// answers (so a stalled Worker shows as many slow samples, not one), each timed in that thread, so the
// bench's own work (building a 25 MiB input) never delays a sample. Times are epoch ms.
import { Worker } from "node:worker_threads";

export interface HealthSample {
  /** When it was sent (epoch ms). */
  at: number;
  /** -1 (and status -1): a tick skipped because `maxInFlight` requests were still waiting. */
  ms: number;
  status: number;
}

const CODE = `
const http = require("node:http");
const { parentPort, workerData } = require("node:worker_threads");
const { url, everyMs, timeoutMs, maxInFlight } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: maxInFlight });
const now = () => performance.timeOrigin + performance.now();
let inFlight = 0, stopping = false;
function once() {
  if (stopping) return;
  // So many still waiting: the tick is noted as skipped (the Worker is stalled), not sent.
  if (inFlight >= maxInFlight) return parentPort.postMessage({ at: now(), ms: -1, status: -1 });
  inFlight++;
  const at = now();
  let done = false;
  const finish = (status) => { if (done) return; done = true; inFlight--; parentPort.postMessage({ at, ms: now() - at, status }); };
  const req = http.get(url, { agent, timeout: timeoutMs }, (res) => { res.resume(); res.on("end", () => finish(res.statusCode || 0)); res.on("error", () => finish(0)); });
  req.on("timeout", () => req.destroy(new Error("timeout")));
  req.on("error", () => finish(0));
}
const timer = setInterval(once, everyMs);
parentPort.on("message", (m) => {
  if (m !== "stop") return;
  stopping = true;
  clearInterval(timer);
  const wait = setInterval(() => { if (inFlight === 0) { clearInterval(wait); agent.destroy(); parentPort.close(); } }, 20);
});
`;

export interface HealthPoller {
  samples: HealthSample[];
  /** Samples sent within [from, to] (epoch ms). */
  between(from: number, to: number): HealthSample[];
  stop(): Promise<void>;
}

/** Starts polling `base`/api/health; only 127.0.0.1. */
export function pollHealth(base: string, everyMs = 100, timeoutMs = 60_000): HealthPoller {
  if (new URL(base).hostname !== "127.0.0.1") throw new Error("127.0.0.1 only");
  const samples: HealthSample[] = [];
  const w = new Worker(CODE, { eval: true, workerData: { url: `${base}/api/health`, everyMs, timeoutMs, maxInFlight: 200 } });
  w.on("message", (s: HealthSample) => samples.push(s));
  w.on("error", () => undefined);
  const exited = new Promise<void>((r) => w.once("exit", () => r()));
  return {
    samples,
    between: (from, to) => samples.filter((s) => s.at >= from && s.at <= to),
    stop: async () => {
      w.postMessage("stop");
      const t = setTimeout(() => void w.terminate(), timeoutMs + 2_000);
      await exited;
      clearTimeout(t);
    },
  };
}

export const nowMs = () => performance.timeOrigin + performance.now();
