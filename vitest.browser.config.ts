// The real-browser tests: the chat widget in Debian's chromium (playwright-core) against a real
// `wrangler dev` that test/browser/global-setup.ts starts on a free port with a fresh local state.
// Plain Node, not the workerd pool: `vitest run -c vitest.browser.config.ts`.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "node",
    include: ["test/browser/**/*.test.ts"],
    globalSetup: ["test/browser/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
