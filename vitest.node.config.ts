// Tests that need Node itself (the twilio package's helpers use Node's crypto): plain Node, not workerd.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: { environment: "node", include: ["test/node/**/*.test.ts"] },
});
