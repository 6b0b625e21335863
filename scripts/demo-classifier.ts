// npm start: the demo tenant's classifier. Its example file is imported (idempotent), and a model is
// trained and activated the first time, through the same API an admin uses; later starts keep the
// active version. The demo works without it: a failure here is reported, not fatal.
import { readFileSync } from "node:fs";
import { root } from "./local.ts";

async function call<T>(base: string, token: string, method: string, path: string, body?: string, type = "application/json"): Promise<T> {
  const res = await fetch(`${base}${path}`, { method, headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { "Content-Type": type } : {}) }, body });
  const out = (await res.json()) as T & { error?: { message: string } };
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${out.error?.message ?? ""}`);
  return out;
}

export async function seedDemoClassifier(base: string): Promise<string> {
  const login = await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ tenant: "demo", login: "alex", password: "parley-demo" }) });
  if (!login.ok) throw new Error(`login as alex: ${login.status}`);
  const { token } = (await login.json()) as { token: string };
  const examples = readFileSync(`${root}demo/classifier-examples.jsonl`, "utf8");
  const imported = await call<{ added: number }>(base, token, "POST", "/api/v1/admin/classifier/examples", examples, "application/x-ndjson");
  const state = await call<{ settings: { activeVersion: number | null } }>(base, token, "GET", "/api/v1/admin/classifier");
  if (state.settings.activeVersion !== null && imported.added === 0) return `version ${state.settings.activeVersion} active`;
  const { version } = await call<{ version: number }>(base, token, "POST", "/api/v1/admin/classifier/train", "{}");
  for (let i = 0; i < 240; i++) {
    const v = await call<{ state: string; error: string | null }>(base, token, "GET", `/api/v1/admin/classifier/versions/${version}`);
    if (v.state === "failed") throw new Error(`training failed: ${v.error}`);
    if (v.state === "ready") {
      await call(base, token, "POST", "/api/v1/admin/classifier/activate", JSON.stringify({ version }));
      return `version ${version} trained and active`;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error("training did not finish within two minutes");
}
