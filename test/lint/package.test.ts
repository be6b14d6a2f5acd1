// The published package is the SDK and the CLI: it ships their READMEs, and its dependencies are
// exactly the packages they import at run time. The Worker's libraries (hono, zod, …) are
// devDependencies, bundled into the Worker by wrangler, so a fetch-only client pulls none of them.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";

const pkg = JSON.parse(readFileSync("package.json", "utf8")) as {
  dependencies: Record<string, string>;
  /** The OpenFeature SDKs: an app that uses edgecfg's providers brings its own (optional). */
  peerDependencies?: Record<string, string>;
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith(".ts")
        ? [join(dir, e.name)]
        : [],
  );
}

/** Packages a file imports at run time (not `import type`), by package name. */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^import\s+(?!type\s)[^;]*?from\s+["']([^"'.][^"']*)["']/gm)]
    .map((m) => m[1]!)
    .filter((name) => !name.startsWith("node:"))
    .map((name) =>
      name.startsWith("@") ? name.split("/").slice(0, 2).join("/") : name.split("/")[0]!,
    );
}

it("dependencies are what the published code imports at run time, and no server library", () => {
  const imported = new Set(
    ["src/client", "src/cli", "src/flags", "src/miniflare"]
      .flatMap(sources)
      .flatMap(runtimeImports),
  );
  const peers = new Set(Object.keys(pkg.peerDependencies ?? {}));
  expect([...imported].filter((name) => !peers.has(name)).sort()).toEqual(
    Object.keys(pkg.dependencies).sort(),
  );
  for (const server of ["hono", "zod", "@hono/zod-openapi"])
    expect(Object.keys(pkg.dependencies)).not.toContain(server);
});

it("the package ships the SDK's and the CLI's READMEs", () => {
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  const files = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map(
    (f) => f.path,
  );
  expect(files).toContain("src/client/README.md");
  expect(files).toContain("src/cli/README.md");
  expect(files.some((f) => f.startsWith("src/api/"))).toBe(false);
});

it("npm install on the system Node 20 prints no wall of engine warnings (.npmrc)", () => {
  // Every npm script runs on the project's own Node 24; npm itself may run on Node 20 and would
  // warn (EBADENGINE) once per dependency that wants Node 22+.
  const npmrc = readFileSync(".npmrc", "utf8");
  expect(npmrc).toMatch(/^loglevel=error$/m);
});
