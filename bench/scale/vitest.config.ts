// The scale bench's workerd half (bench/scale.ts runs it): the project's own vitest-pool-workers setup
// (same wrangler.toml, bindings and migrations), over test/scale/*.workerd.ts (type-checked with the
// Workers types there; the default config runs only *.test.ts) instead of the tests.
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import base from "../../vitest.config.ts";

const migrations = await readD1Migrations("./migrations");

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: { bindings: { AUTH_SECRET: "bench-secret-not-for-production", SECRETS_KEY: "5f0e9b3a7c21d48e6a90b1f3c7d25e84a6b9c0d1e2f3a4b5c6d7e8f90a1b2c3d", TEST_MIGRATIONS: migrations } },
    }),
  ],
  resolve: base.resolve,
  test: { server: base.test?.server, include: ["test/scale/**/*.workerd.ts"], setupFiles: ["./test/setup.ts"], testTimeout: 900_000, hookTimeout: 900_000 },
});
