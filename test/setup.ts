import { applyD1Migrations, type D1Migration } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Idempotent: applyD1Migrations skips what is applied already. Every shard gets the contact-history
// migrations, the control database its own.
const m = env as unknown as { TEST_MIGRATIONS: D1Migration[]; TEST_CONTROL_MIGRATIONS: D1Migration[] };
await applyD1Migrations(env.CONTROL, m.TEST_CONTROL_MIGRATIONS);
await Promise.all([applyD1Migrations(env.SHARD_0, m.TEST_MIGRATIONS), applyD1Migrations(env.SHARD_1, m.TEST_MIGRATIONS)]);
