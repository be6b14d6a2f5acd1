// The line the architecture holds: src/base, src/raft, src/store and src/ring are deterministic
// and free of I/O, so the simulator can replay any run from a seed. Time arrives as ticks or
// inside commands, randomness from an injected seeded source.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const pureDirs = ["src/base", "src/raft", "src/store", "src/ring"];

const forbidden: Array<[RegExp, string]> = [
  [/\bDate\.now\s*\(/, "Date.now (time must arrive as ticks or inside commands)"],
  [/\bnew Date\s*\(/, "new Date (time must arrive as ticks or inside commands)"],
  [/\bperformance\.now\s*\(/, "performance.now"],
  [/\bMath\.random\s*\(/, "Math.random (use the injected seeded PRNG)"],
  [
    /\bcrypto\.(getRandomValues|randomUUID)\s*\(/,
    "crypto randomness (use the injected seeded PRNG)",
  ],
  [/\b(setTimeout|setInterval|setImmediate|queueMicrotask)\s*\(/, "timers"],
  [/\bfetch\s*\(/, "fetch (no I/O)"],
  [/from\s+["']cloudflare:/, "cloudflare:* imports"],
  [/from\s+["']hono/, "hono imports"],
  [/from\s+["']node:/, "node:* imports (the code must run in workerd too)"],
  [/from\s+["']\.\.\/(api|router|replica|client|cli|solo)\//, "imports from an upper layer"],
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** Drops comments so that prose about `Date.now` does not trip the rule. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/.*$/gm, "$1");
}

describe("pure layers stay pure", () => {
  for (const dir of pureDirs) {
    it(`${dir} uses no clocks, randomness, timers, I/O or platform imports`, () => {
      const files = sourceFiles(dir);
      expect(files.length).toBeGreaterThan(0);
      const violations = files.flatMap((file) => {
        const text = code(readFileSync(file, "utf8"));
        return forbidden.filter(([re]) => re.test(text)).map(([, what]) => `${file}: ${what}`);
      });
      expect(violations).toEqual([]);
    });
  }

  it("the rule itself catches a violation", () => {
    const sample = code("const t = Date.now(); // fine in a comment: Math.random()");
    expect(forbidden.filter(([re]) => re.test(sample)).map(([, w]) => w)).toEqual([
      "Date.now (time must arrive as ticks or inside commands)",
    ]);
  });
});
