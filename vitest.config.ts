import { defineConfig } from "vitest/config";
import { cloudflareTest } from "@cloudflare/vitest-plugin";

// Two projects: pure code (raft, store, ring, simulator) runs in Node, where it is fastest;
// everything that needs the Workers runtime runs in workerd through the Cloudflare plugin.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: [
            "test/{raft,sim,store,ring,replica,router,api,client,flags,lint,miniflare}/**/*.test.ts",
          ],
          environment: "node",
        },
      },
      {
        // A real client against the store served as `npm start` serves it.
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/e2e/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            // The documented development token; wrangler.toml ships no ADMIN_TOKEN on purpose.
            miniflare: { bindings: { ADMIN_TOKEN: "dev-admin-token" } },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
          // Not vitest's 5 s: a test of 100 sequential writes takes 1 s idle and over 6 s on a
          // busy 2-core machine. A test that hangs still fails, at 30 s.
          testTimeout: 30_000,
        },
      },
      // The example of edgecfg/miniflare: a user's Worker tested with edgecfg beside it.
      "examples/flags-testing/vitest.config.ts",
    ],
  },
});
