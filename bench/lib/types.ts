// What bench/run.ts expects of each bench module.

export interface BenchResult {
  /** Written as bench/results/<name>.json. */
  result: Record<string, unknown>;
  /** A few lines for people, printed after the run. */
  summary: string[];
}

export interface BenchModule {
  name: string;
  description: string;
  run(): Promise<BenchResult>;
}
