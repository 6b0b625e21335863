// Reading something again every few seconds while a screen shows it; a late answer from a screen
// that has moved on (another queue, unmounted) is dropped.
import { useEffect } from "preact/hooks";

export function usePolling<T>(read: () => Promise<T>, everyMs: number, deps: unknown[], on: { value: (v: T) => void; error: (e: unknown) => void }): void {
  useEffect(() => {
    let live = true;
    const load = () =>
      read().then(
        (v) => {
          if (live) on.value(v);
        },
        (e: unknown) => {
          if (live) on.error(e);
        },
      );
    void load();
    const t = setInterval(() => void load(), everyMs);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, deps);
}
