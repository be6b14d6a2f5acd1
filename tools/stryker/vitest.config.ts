// The vitest configuration Stryker runs (stryker.config.mjs, vitest.configFile): the projects of
// the root vitest.config.ts, narrowed to the tests that guard the scope being mutated
// (tools/stryker/scopes.ts). A project with no test files for the scope is left out.
import { dirname } from "node:path";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { currentScope } from "./scopes.ts";

const root = dirname(dirname(import.meta.dirname));
const scope = currentScope();

const unit = {
  // Instrumented code on a busy machine: a property test of 100 runs can pass 5 s.
  test: { name: "unit", root, include: scope.unit, environment: "node" as const, testTimeout: 30_000 },
};
const workers = {
  plugins: [
    cloudflareTest({
      wrangler: { configPath: `${root}/wrangler.toml` },
      miniflare: { bindings: { ADMIN_TOKEN: "dev-admin-token" } },
    }),
  ],
  test: { name: "workers", root, include: scope.workers, testTimeout: 30_000 },
};

export default defineConfig({
  test: {
    root,
    projects: [...(scope.unit.length > 0 ? [unit] : []), ...(scope.workers.length > 0 ? [workers] : [])],
  },
});
