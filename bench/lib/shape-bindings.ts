// The binding shapes the same-shape baseline Workers (bench/shape-email, bench/shape-sms) use, declared
// by hand: bench/ is type-checked with Node's types, not the Workers types. Types only (erased at build).
export interface Statement {
  bind(...values: unknown[]): Statement;
  run(): Promise<unknown>;
}

export interface QueueStub {
  enqueue(id: string): Promise<number>;
}

export interface ShapeDb {
  prepare(sql: string): Statement;
  batch(statements: Statement[]): Promise<unknown[]>;
}
