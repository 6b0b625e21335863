// A bench's phases: each one's label printed as it starts, its time in seconds recorded when it ends.
export function phaseTimer(phases: Record<string, number>) {
  return async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
    process.stdout.write(`  ${label}… `);
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      phases[label] = Math.round((performance.now() - t0) / 100) / 10;
      console.log(`${phases[label]} s`);
    }
  };
}
