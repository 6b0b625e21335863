import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { configDefaults, defineConfig } from "vitest/config";

const migrations = await readD1Migrations("./migrations");
const controlMigrations = await readD1Migrations("./migrations/control");
// The same module aliases as wrangler.toml's [alias], so tests run the code that is deployed.
const alias = {
  "@babel/runtime-corejs3/helpers/esm/defineProperty": new URL("./workers/shims/define-property.ts", import.meta.url).pathname,
  "@babel/runtime-corejs3/core-js/instance/trim": new URL("./workers/shims/instance-trim.ts", import.meta.url).pathname,
  "./html-entities.js": new URL("./workers/shims/html-entities.ts", import.meta.url).pathname,
};

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: { AUTH_SECRET: "test-secret-not-for-production", SECRETS_KEY: "5f0e9b3a7c21d48e6a90b1f3c7d25e84a6b9c0d1e2f3a4b5c6d7e8f90a1b2c3d", TEST_MIGRATIONS: migrations, TEST_CONTROL_MIGRATIONS: controlMigrations, PLATFORM_SECRET: "test-platform-secret-0123456789abcdef0123456789" },
      },
    }),
  ],
  resolve: { alias },
  test: {
    // mimetext must go through Vite for the aliases above to reach its imports.
    server: { deps: { inline: ["mimetext"] } },
    include: ["test/**/*.test.ts"],
    // The real-browser tests run in Node against wrangler dev: vitest.browser.config.ts.
    exclude: [...configDefaults.exclude, "test/browser/**", "test/node/**"],
    setupFiles: ["./test/setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
