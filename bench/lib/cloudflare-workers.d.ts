// The slice of the `cloudflare:workers` module the same-shape baseline Workers use (bench/shape-*):
// bench/ is type-checked with Node's types (scripts/tsconfig.json), not the Workers types, so the
// Durable Object base class (needed for RPC between objects) is declared here. At run time wrangler
// leaves the import to workerd. An ambient declaration: this file must stay free of imports and exports.
declare module "cloudflare:workers" {
  export interface BenchDurableObjectState {
    acceptWebSocket(ws: WebSocket, tags?: string[]): void;
    getWebSockets(tag?: string): WebSocket[];
  }

  export abstract class DurableObject<Env = unknown> {
    protected ctx: BenchDurableObjectState;
    protected env: Env;
    constructor(ctx: BenchDurableObjectState, env: Env);
  }
}
