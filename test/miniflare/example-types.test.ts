// The example a user copies type-checks as written, against the package's published types
// (dist/miniflare/*.d.ts, which `npm test` builds first): edgecfgWorker()'s entry must fit the
// Vitest plugin's `miniflare.workers` type, not only work at run time.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";

it("examples/flags-testing type-checks with its own tsconfig", () => {
  const tsc = join(process.cwd(), "node_modules/.bin/tsc");
  const run = () =>
    execFileSync(tsc, ["-p", "examples/flags-testing/tsconfig.json"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  expect(run).not.toThrow();
});
