// The shape the tree keeps, checked on every `.ts` file under src/ (the checkers are in tidy.ts):
//
// 1. A function (declaration, method, getter or setter, arrow function, function expression) is
//    at most 70 lines, from the line it starts on to the line of its closing brace. A nested
//    function counts on its own (and inside its parent's lines); a class body is not a function.
//    Longer ones are hard to read whole and hide the steps that want a name.
// 2. A line is at most 100 columns: Biome formats the tree at 100 (biome.json), so what is left
//    over is long strings and comments, which Biome does not break.
// 3. Imports point down the layers (docs/ARCHITECTURE.md, Layers). A file imports only from its
//    own layer or from a layer of strictly lower rank:
//      5  src/index.ts, src/env.ts (the Worker entry and its Env type)
//      4  src/api/
//      3  src/router/
//      2  src/replica/, src/solo/, src/cli/
//      1  src/store/, src/raft/, src/ring/, src/client/
//      0  src/base/ (what every pure layer shares; the rule holds while it does not exist yet)
//    Layers of one rank do not import each other (store not raft, replica not solo). And the
//    client side, src/client/ and src/cli/, imports only the client side and base: the SDK and
//    the CLI ship to users (dist/) without the server, so cli may import client but nothing of
//    api, router, replica, solo, store, raft or ring. A file in no layer fails too: a new folder
//    joins the table in tidy.ts first. `import type`, `export … from`, `import("…")` and
//    `typeof import("…")` count like any import: a type import still ties the layers together.
// 4. No import circles between files under src/, type imports included: a circle makes the files
//    on it one unit that cannot be read, tested or moved apart, and runtime circles break
//    module initialization order. Each circle is printed as `a → b → … → a`. One exemption, with
//    its reason beside it in tidy.ts (circleExempt): the consensus core's step functions take
//    the `Raft` they act on by a type-only import of src/raft/raft.ts (etcd-io/raft's shape).
// 5. An import from one layer into another layer's folder names that folder's index.ts
//    (`../store/index.ts`, never `../store/types.ts`); src/index.ts and src/env.ts too. The index
//    is the layer's public surface: what it does not export stays free to change. Imports within
//    one layer folder, its subfolders included (src/api/routes/, src/cli/commands/), are free.
// 6. Rules 1 and 2 have a ratchet, tidy-ratchet.json: what was over when the rule came in. A test
//    fails when something new is over (not listed, or longer, or more long lines, than listed),
//    and fails as well when a listed entry is no longer over or is less over: then the list must
//    shrink, so it can only ever shrink. After shortening code, or to accept a change on purpose,
//    rewrite the list from the tree and review its diff:
//      TIDY_RATCHET=write npx vitest run --project unit test/lint/tidy.test.ts
//    Rules 3, 4 and 5 have no ratchet: they hold for the whole tree.
//
// Each checker is a pure function over `{ path, text }` records; the last tests plant a violation
// of each rule in a few sample lines and show the checker reports exactly that one.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import {
  flatten,
  importCycles,
  innerImports,
  layerViolations,
  longFunctions,
  longLines,
  ratchetDiff,
  ratchetOf,
  readSources,
  type Ratchet,
  type Source,
} from "./tidy.ts";

const maxFunctionLines = 70;
const maxColumns = 100;

const root = fileURLToPath(new URL("../../", import.meta.url).href);
const ratchetFile = fileURLToPath(new URL("./tidy-ratchet.json", import.meta.url).href);
const regenerate = "TIDY_RATCHET=write npx vitest run --project unit test/lint/tidy.test.ts";

function readRatchet(): Ratchet {
  const { functions, longLines } = JSON.parse(readFileSync(ratchetFile, "utf8")) as Ratchet;
  return { functions, longLines };
}

function writeRatchet(ratchet: Ratchet): void {
  const note = `Over rules 1 and 2 of tidy.test.ts; may only shrink. Written by ${regenerate}`;
  writeFileSync(ratchetFile, `${JSON.stringify({ "//": note, ...ratchet }, null, 2)}\n`);
}

/** Fails with both lists: what got worse, and what got better and must leave the list. */
function expectRatchetHolds(
  current: Record<string, number>,
  listed: Record<string, number>,
  unit: string,
): void {
  const { worse, better } = ratchetDiff(current, listed, unit);
  expect
    .soft(worse, "new violations: shorten the code (or, on purpose, rewrite the list)")
    .toEqual([]);
  expect.soft(better, `fixed: shrink tidy-ratchet.json to match (${regenerate})`).toEqual([]);
}

describe("the tree stays tidy", () => {
  let sources: Source[] = [];
  beforeAll(() => {
    sources = readSources(root);
    if (process.env.TIDY_RATCHET === "write") {
      writeRatchet(
        ratchetOf(longFunctions(sources, maxFunctionLines), longLines(sources, maxColumns)),
      );
    }
  });

  it("reads the tree", () => {
    expect(sources.length).toBeGreaterThan(100);
    expect(sources.map((s) => s.path)).toContain("src/index.ts");
  });

  it(`functions are at most ${maxFunctionLines} lines (or as tidy-ratchet.json lists)`, () => {
    const current = ratchetOf(longFunctions(sources, maxFunctionLines), []).functions;
    expectRatchetHolds(flatten(current), flatten(readRatchet().functions), "lines");
  });

  it(`lines are at most ${maxColumns} columns (or as tidy-ratchet.json lists)`, () => {
    const current = ratchetOf([], longLines(sources, maxColumns)).longLines;
    expectRatchetHolds(current, readRatchet().longLines, "lines over");
  });

  it("imports point down the layers; the client side imports only the client side and base", () => {
    expect(layerViolations(sources)).toEqual([]);
  });

  it("there are no import circles", () => {
    expect(importCycles(sources).map((c) => [...c, c[0]].join(" → "))).toEqual([]);
  });

  it("an import into another layer names that layer's index.ts", () => {
    expect(innerImports(sources)).toEqual([]);
  });
});

describe("each rule catches a planted violation", () => {
  const file = (path: string, ...lines: string[]): Source => ({ path, text: lines.join("\n") });
  const body = (n: number) =>
    Array.from({ length: n }, (_, i) => `  const x${i} = ${i};`).join("\n");

  it("rule 1: functions over 70 lines, nested, a callback or a getter, and nothing else", () => {
    const sample = file(
      "src/store/sample.ts",
      "export function short() {", // 3 lines: fine
      "  return 1;",
      "}",
      "export function outer(items: number[]) {", // 73 lines, its callback's among them
      "  return items.map((n) => {", // 71 lines, counted on their own too
      body(69),
      "  });",
      "}",
      "export class Box {", // 145 lines, but a class is not a function: its getter is 73
      "  get size(): number {",
      body(71),
      "  }",
      "  exact(): number {", // exactly 70 lines: fine
      body(68),
      "  }",
      "}",
      "export function overloaded(a: string): void;", // a signature only: no body to measure
      "export const holder = { ok: () => 1 };",
    );
    expect(longFunctions([sample], 70)).toEqual([
      { path: "src/store/sample.ts", name: "outer", lines: 73 },
      { path: "src/store/sample.ts", name: "outer > items.map(…) callback", lines: 71 },
      { path: "src/store/sample.ts", name: "Box.get size", lines: 73 },
    ]);
  });

  it("rule 2: a line over 100 columns, counted in characters, not bytes", () => {
    const sample: Source = {
      path: "src/ring/sample.ts",
      text: ["// é".padEnd(100, "é"), `const s = "${"x".repeat(95)}";`, "ok"].join("\n"),
    };
    expect(longLines([sample], 100)).toEqual([{ path: "src/ring/sample.ts", count: 1 }]);
  });

  it("rule 3: imports up, across one rank, and from the client side into the server", () => {
    const sample: Source[] = [
      file("src/index.ts", 'import { app } from "./api/index.ts";'),
      file("src/api/index.ts", 'export { r } from "../router/index.ts";'),
      file("src/router/index.ts", 'const m = import("../api/index.ts");'), // up, dynamic
      file("src/solo/index.ts", 'import type { Env } from "../env.ts";'), // up
      file("src/replica/index.ts", 'export * from "../solo/index.ts";'), // same rank
      file("src/cli/index.ts", 'import { c } from "../client/index.ts";', 'import "../base/x.ts";'),
      file("src/client/index.ts", 'import type { K } from "../store/index.ts";'), // the server
      file(
        "src/store/index.ts",
        'import { a } from "../base/index.ts";',
        'import { z } from "zod";',
      ),
      file("src/env.ts", "export interface Env {}"),
      file("src/stray.ts"), // in no layer
    ];
    expect(layerViolations(sample)).toEqual([
      "src/stray.ts: in no layer (add its folder to the layer table in tidy.ts)",
      "src/router/index.ts → src/api/index.ts: router (rank 3) may not import api (rank 4)",
      "src/solo/index.ts → src/env.ts: solo (rank 2) may not import entry (rank 5)",
      "src/replica/index.ts → src/solo/index.ts: replica may not import solo: both rank 2",
      "src/client/index.ts → src/store/index.ts: client is client side: only cli, client, flags, base",
    ]);
  });

  it("rule 4: a circle of three files, type imports included, and not a mere diamond", () => {
    const sample: Source[] = [
      { path: "src/api/a.ts", text: 'import { b } from "./b.ts";\nimport { d } from "./d.ts";' },
      {
        path: "src/api/b.ts",
        text: 'import type { C } from "./c.ts";\nimport { d } from "./d.ts";',
      },
      { path: "src/api/c.ts", text: 'export type { A } from "./a.ts";' },
      { path: "src/api/d.ts", text: "export const d = 1;" },
    ];
    expect(importCycles(sample)).toEqual([["src/api/a.ts", "src/api/b.ts", "src/api/c.ts"]]);
  });

  it("rule 4: core step functions may take the Raft by type; a value import of it still counts", () => {
    const sample: Source[] = [
      {
        path: "src/raft/raft.ts",
        text: 'import { elect } from "./election.ts";\nimport { h } from "./h.ts";',
      },
      { path: "src/raft/election.ts", text: 'import type { Raft } from "./raft.ts";' }, // exempt
      { path: "src/raft/h.ts", text: 'import { Raft } from "./raft.ts";' }, // a value import
      { path: "src/api/auth.ts", text: 'import type { Ctx } from "./context.ts";' },
      { path: "src/api/context.ts", text: 'import type { Principal } from "./auth.ts";' },
    ];
    expect(importCycles(sample)).toEqual([
      ["src/api/auth.ts", "src/api/context.ts"],
      ["src/raft/h.ts", "src/raft/raft.ts"],
    ]);
  });

  it("rule 5: an import of another layer's inner file, not one within the layer", () => {
    const sample: Source[] = [
      { path: "src/index.ts", text: 'import { app } from "./api/app.ts";' }, // inner
      { path: "src/api/app.ts", text: 'import { r } from "./routes/kv.ts";' }, // within: free
      { path: "src/api/routes/kv.ts", text: 'import { s } from "../../store/index.ts";' },
      { path: "src/store/index.ts", text: 'export * from "./types.ts";' },
      { path: "src/store/types.ts", text: "export type T = 1;" },
    ];
    expect(innerImports(sample)).toEqual([
      "src/index.ts → src/api/app.ts: import src/api/index.ts instead",
    ]);
  });

  it("rule 6: the ratchet fails on anything new or grown, and on anything that shrank", () => {
    const listed = { "f: kept": 80, "f: grew": 80, "f: shrank": 80, "f: fixed": 80 };
    const current = { "f: kept": 80, "f: grew": 81, "f: shrank": 79, "f: new": 71 };
    expect(ratchetDiff(current, listed, "lines")).toEqual({
      worse: ["f: grew: 81 lines, listed at 80", "f: new: 71 lines, not in the list"],
      better: ["f: shrank: 79 lines, listed at 80", "f: fixed: no longer over, listed at 80 lines"],
    });
  });
});
