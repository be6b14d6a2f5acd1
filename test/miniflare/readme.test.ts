// README "Testing your Worker with edgecfg", run as written: its wrangler.toml, vitest.config.ts
// and test file in a new project folder (inside this package, so `edgecfg/miniflare` resolves to
// the package itself as it would from node_modules), with the example's Worker and fixture, then
// its `npx vitest run`. The `ns export` line only names where a fixture comes from: it needs a
// store that holds one, so the example's fixture stands in for its output.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const example = join(root, "examples/flags-testing");
const dir = mkdtempSync(join(root, "examples", ".readme-testing-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function section(): string {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const start = readme.indexOf("\n## Testing your Worker with edgecfg\n");
  expect(start).toBeGreaterThan(0);
  return readme.slice(start + 1, readme.indexOf("\n## ", start + 1));
}

it("the section's project passes its tests as written", { timeout: 120_000 }, () => {
  const blocks = [...section().matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => m[2]!);
  expect(blocks).toHaveLength(4); // wrangler.toml, vitest.config.ts, the test, the commands
  const [toml, config, test, commands] = blocks as [string, string, string, string];
  writeFileSync(join(dir, "wrangler.toml"), toml);
  writeFileSync(join(dir, "vitest.config.ts"), config);
  mkdirSync(join(dir, "test"));
  writeFileSync(join(dir, "test/checkout.test.ts"), test);
  mkdirSync(join(dir, "src"));
  copyFileSync(join(example, "src/worker.ts"), join(dir, "src/worker.ts"));
  const [exportLine, ...rest] = commands.trim().split("\n");
  expect(exportLine).toMatch(/^npx edgecfg ns export shop -o fixtures\/shop\.json /);
  mkdirSync(join(dir, "fixtures"));
  copyFileSync(join(example, "fixtures/shop.json"), join(dir, "fixtures/shop.json"));
  const bin = `${dirname(process.execPath)}:${join(root, "node_modules/.bin")}`;
  const out = execFileSync("bash", ["-euo", "pipefail", "-c", rest.join("\n")], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: "1", CI: "1" },
  });
  expect(out).toMatch(/Tests\s+2 passed \(2\)/);
});
