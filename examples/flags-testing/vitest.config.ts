// The Worker's tests run in workerd (@cloudflare/vitest-plugin) with edgecfg beside it: the
// prebuilt edgecfg Worker from edgecfg/miniflare, seeded from fixtures/shop.json (`edgecfg ns
// export shop` output). Each test file gets its own runtime, so its own store; a test that
// writes resets it (test/checkout.test.ts).
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { edgecfgWorker } from "edgecfg/miniflare";
import { defineConfig } from "vitest/config";

const root = new URL(".", import.meta.url).pathname;

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: `${root}wrangler.toml` },
      miniflare: { workers: [edgecfgWorker({ seed: "fixtures/shop.json", root })] },
    }),
  ],
  test: { name: "example-flags-testing", root, include: ["test/**/*.test.ts"] },
});
