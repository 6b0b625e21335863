// Bench flags: `npm run bench -- hostile --size=0.2` (always `--name=value`: a bare word is a bench
// name to bench/run.ts), else the environment variable given, else the default.
export function numFlag(name: string, env: string, def: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const raw = arg ? arg.slice(name.length + 3) : process.env[env];
  if (raw === undefined || raw === "") return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} (${env}) must be a positive number, not '${raw}'`);
  return n;
}

export function listFlag(name: string, env: string): string[] {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const raw = arg ? arg.slice(name.length + 3) : (process.env[env] ?? "");
  return raw.split(",").map((s) => s.trim()).filter(Boolean);
}
