// The SDK runs in Node, Workers and browsers: its core uses Web APIs only. Node helpers live in
// src/client/node.ts ("edgecfg/client/node"), which the core never imports.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";

const dir = "src/client";
const nodeOnly = new Set(["node.ts"]);
const forbidden: Array<[RegExp, string]> = [
  [/from\s+["']node:/, "node:* imports"],
  [/from\s+["']\.\/node\.ts["']/, "the Node-only helpers"],
  [/\bprocess\./, "process"],
  [/\bBuffer\b/, "Buffer"],
  [/from\s+["'](cloudflare:|hono|\.\.\/)/, "platform or server imports"],
];

it("src/client (but node.ts) uses Web APIs only", () => {
  const problems: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts") && !nodeOnly.has(f))) {
    const text = readFileSync(join(dir, file), "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/(^|[^:])\/\/.*$/gm, "$1");
    for (const [pattern, what] of forbidden)
      if (pattern.test(text)) problems.push(`${file}: ${what}`);
  }
  expect(problems).toEqual([]);
});
