// One alarm per object serves all its timers (offer expiry, overflow, after-work, outbox retries).
// The time it is set for is remembered, so arming on the hot path costs no storage read.
export class Alarm {
  private at: number | null | undefined; // undefined: not read yet
  private readonly storage: DurableObjectStorage;

  constructor(storage: DurableObjectStorage) {
    this.storage = storage;
  }

  /** Sets the alarm for `at` unless one is already due at or before then (it will run; fired() clears it). */
  async arm(at: number): Promise<void> {
    if (this.at === undefined) this.at = await this.storage.getAlarm();
    if (this.at !== null && this.at <= at) return;
    this.at = at;
    await this.storage.setAlarm(at);
  }

  /** Call at the start of the object's alarm(): nothing is set any more. */
  fired(): void {
    this.at = null;
  }
}
