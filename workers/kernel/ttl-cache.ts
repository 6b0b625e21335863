// A small per-isolate cache with a time to live, for lookups a door makes on every request and that
// change rarely (a number's tenant, a signing secret). Bounded: past `max` entries it starts over.
export class TtlCache<V> {
  private readonly map = new Map<string, { at: number; v: V }>();
  private readonly ttlMs: number;
  private readonly max: number;

  constructor(ttlMs: number, max = 1000) {
    this.ttlMs = ttlMs;
    this.max = max;
  }

  get(key: string, now = Date.now()): V | undefined {
    const hit = this.map.get(key);
    if (!hit) return undefined;
    if (now - hit.at < this.ttlMs) return hit.v;
    this.map.delete(key);
    return undefined;
  }

  set(key: string, v: V, now = Date.now()): void {
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(key, { at: now, v });
  }

  clear(): void {
    this.map.clear();
  }
}
