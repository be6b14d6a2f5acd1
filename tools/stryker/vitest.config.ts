// The vitest configuration Stryker runs (stryker.config.mjs, vitest.configFile): the projects of
// the root vitest.config.ts, narrowed to the tests that guard the scope being mutated
// (tools/stryker/scopes.ts). A project with no test files for the scope is left out.
import { statSync } from "node:fs";
import { dirname } from "node:path";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { currentScope } from "./scopes.ts";

/**
 * Per mutant, the fastest test files first (vitest's default runs the slowest first): with bail,
 * a mutant costs the time until its first failing test, and the simulator's files take a minute
 * where a scenario test that kills the same mutant takes milliseconds. A file that failed on the
 * last mutant still goes first. The order changes no result, only how long a killed mutant takes.
 */
class FastestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const cost = (spec: TestSpecification): [number, number] => {
      const result = this.ctx.cache.getTestSpecificationResult(spec);
      if (result === undefined) return [1, statSync(spec.moduleId).size];
      return [result.failed ? 0 : 1, result.duration];
    };
    return [...files].sort((a, b) => {
      // Projects run one after the other, as in BaseSequencer.
      if (a.project.name !== b.project.name) return a.project.name < b.project.name ? -1 : 1;
      const [fa, ca] = cost(a);
      const [fb, cb] = cost(b);
      return fa !== fb ? fa - fb : ca - cb;
    });
  }
}

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
    sequence: { sequencer: FastestFirst },
    projects: [...(scope.unit.length > 0 ? [unit] : []), ...(scope.workers.length > 0 ? [workers] : [])],
  },
});
