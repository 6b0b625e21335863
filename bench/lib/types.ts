// What bench/run.ts expects of each bench module.

export interface BenchResult {
  /** Written as bench/results/<file or name>.json. */
  result: Record<string, unknown>;
  /** Another file name (no extension), e.g. for runs whose figures are not comparable (profiled). */
  file?: string;
  /** A few lines for people, printed after the run. */
  summary: string[];
}

export interface BenchModule {
  name: string;
  description: string;
  run(): Promise<BenchResult>;
}
