// The checkers behind tidy.test.ts. Each is a pure function over `{ path, text }` records (paths
// relative to the repository, with forward slashes: "src/api/app.ts"), so a test can feed it the
// real tree or a few planted lines alike. Sources are parsed with oxc-parser (TypeScript 7's
// package has no in-process parser: its JS API talks to the native compiler over a pipe).
import { readdirSync, readFileSync } from "node:fs";
import { posix } from "node:path";
import { parseSync } from "oxc-parser";

export interface Source {
  path: string;
  text: string;
}

/** Every `.ts` file under `dir` (a path relative to `root`), sorted. */
export function readSources(root: string, dir = "src"): Source[] {
  const walk = (rel: string): string[] =>
    readdirSync(posix.join(root, rel), { withFileTypes: true }).flatMap((e) => {
      const path = posix.join(rel, e.name);
      if (e.isDirectory()) return walk(path);
      return path.endsWith(".ts") ? [path] : [];
    });
  return walk(dir)
    .sort()
    .map((path) => ({ path, text: readFileSync(posix.join(root, path), "utf8") }));
}

// ---------------------------------------------------------------------------------------------
// Parsing: one pass per source (remembered per record) collects its functions and its imports.

/** An AST node as oxc-parser gives it (ESTree / TS-ESTree), with UTF-16 offsets. */
interface Node {
  type: string;
  start: number;
  end: number;
  [key: string]: unknown;
}

interface FunctionInfo {
  name: string;
  startLine: number;
  endLine: number;
}

interface Parsed {
  functions: FunctionInfo[];
  /** The specifiers, as written, and whether the import is of types only (erased when compiled). */
  imports: { specifier: string; typeOnly: boolean }[];
}

const parsed = new WeakMap<Source, Parsed>();

function parse(source: Source): Parsed {
  const known = parsed.get(source);
  if (known) return known;
  const result = parseSync(source.path, source.text, { lang: "ts", preserveParens: false });
  if (result.errors.length > 0) {
    throw new Error(`${source.path}: ${result.errors.map((e) => e.message).join("; ")}`);
  }
  const lines = lineStarts(source.text);
  const lineOf = (offset: number) => lineAt(lines, offset);
  const out: Parsed = { functions: [], imports: [] };
  const names = new Map<string, number>();
  // `scope` names what encloses a node: "outer > inner" for functions, "Class." for a class.
  const visit = (node: Node, parents: Node[], scope: string): void => {
    let inner = scope;
    const fn = functionOf(node, parents);
    if (fn) {
      inner = uniqueName(names, scope + nameOf(fn, source.text));
      const [startLine, endLine] = [lineOf(fn.head.start), lineOf(node.end - 1)];
      out.functions.push({ name: inner, startLine, endLine });
      inner += " > ";
    } else if (isClass(node)) {
      inner = `${scope}${className(node, parents, source.text)}.`;
    }
    const specifier = importedSpecifier(node);
    if (specifier !== undefined) out.imports.push({ specifier, typeOnly: isTypeOnly(node) });
    parents.push(node);
    for (const child of children(node)) visit(child, parents, inner);
    parents.pop();
  };
  visit(result.program as unknown as Node, [], "");
  parsed.set(source, out);
  return out;
}

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && typeof (value as Node).type === "string";
}

function children(node: Node): Node[] {
  const out: Node[] = [];
  for (const key in node) {
    const value = node[key];
    if (Array.isArray(value)) {
      for (const v of value) if (isNode(v)) out.push(v);
    } else if (isNode(value)) {
      out.push(value);
    }
  }
  return out;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

/** The 1-based line holding `offset`. */
function lineAt(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

// ---------------------------------------------------------------------------------------------
// Functions and their names.

const functionTypes = new Set([
  "FunctionDeclaration",
  "FunctionExpression",
  "ArrowFunctionExpression",
]);

/** Nodes that only wrap an expression: `(f)`, `f as T`, `f satisfies T`, `f!`. */
const wrappers = new Set([
  "ParenthesizedExpression",
  "TSAsExpression",
  "TSSatisfiesExpression",
  "TSNonNullExpression",
  "TSTypeAssertion",
]);

interface Fn {
  node: Node;
  /** What holds the function: a method, a property, a variable, a call... */
  holder: Node | undefined;
  /** Where the function starts: a method's or property's first token, else its own. */
  head: Node;
}

/** The function `node` is, if it is one with a body (overload signatures have none). */
function functionOf(node: Node, parents: Node[]): Fn | undefined {
  if (!functionTypes.has(node.type) || node.body === null) return undefined;
  let i = parents.length - 1;
  while (i >= 0 && wrappers.has(parents[i]?.type ?? "")) i--;
  const holder = parents[i];
  const isMember =
    holder?.type === "MethodDefinition" ||
    holder?.type === "PropertyDefinition" ||
    (holder?.type === "Property" && (holder.method === true || holder.kind !== "init"));
  return { node, holder, head: isMember && holder ? holder : node };
}

function isClass(node: Node): boolean {
  return node.type === "ClassDeclaration" || node.type === "ClassExpression";
}

function className(node: Node, parents: Node[], text: string): string {
  const id = node.id as Node | null;
  if (id) return slice(text, id);
  const holder = parents.at(-1);
  if (holder?.type === "VariableDeclarator") return slice(text, holder.id as Node);
  return "<class>";
}

function slice(text: string, node: Node): string {
  const s = text.slice(node.start, node.end).replace(/\s+/g, " ");
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
}

function keyName(holder: Node, text: string): string {
  const key = holder.key as Node;
  const name = holder.computed === true ? `[${slice(text, key)}]` : slice(text, key);
  const kind = holder.kind;
  return kind === "get" || kind === "set" ? `${kind} ${name}` : name;
}

/** A name that stays put while the code around it changes: no line numbers. */
function nameOf(fn: Fn, text: string): string {
  const id = fn.node.id as Node | null | undefined;
  const { holder } = fn;
  if (id) return slice(text, id);
  switch (holder?.type) {
    case "MethodDefinition":
    case "PropertyDefinition":
    case "Property":
      return keyName(holder, text);
    case "VariableDeclarator":
      return slice(text, holder.id as Node);
    case "AssignmentExpression":
      return slice(text, holder.left as Node);
    case "CallExpression":
      return `${calleeName(holder.callee as Node)}(…) callback`;
    case "NewExpression":
      return `new ${calleeName(holder.callee as Node)}(…) callback`;
    case "ReturnStatement":
    case "ArrowFunctionExpression":
      return "returned function";
    case "ExportDefaultDeclaration":
      return "default export";
    default:
      return "<anonymous>";
  }
}

/** `f`, `this.x.f`, `a.b(…).f`: the callee's names, with `…` for anything else. */
function calleeName(node: Node): string {
  switch (node.type) {
    case "Identifier":
    case "PrivateIdentifier":
      return node.type === "PrivateIdentifier" ? `#${node.name as string}` : (node.name as string);
    case "ThisExpression":
      return "this";
    case "Super":
      return "super";
    case "MemberExpression": {
      const property = node.computed ? "[…]" : calleeName(node.property as Node);
      return `${calleeName(node.object as Node)}.${property}`;
    }
    case "CallExpression":
      return `${calleeName(node.callee as Node)}(…)`;
    default:
      return wrappers.has(node.type) ? calleeName(node.expression as Node) : "…";
  }
}

/** The name, or `name #2`, `name #3`... for the second and later functions of one name. */
function uniqueName(seen: Map<string, number>, name: string): string {
  const n = (seen.get(name) ?? 0) + 1;
  seen.set(name, n);
  return n === 1 ? name : `${name} #${n}`;
}

// ---------------------------------------------------------------------------------------------
// Imports: `import` (type or not), `export … from`, `import("…")` and `typeof import("…")`.

function literal(node: unknown): string | undefined {
  return isNode(node) && node.type === "Literal" && typeof node.value === "string"
    ? node.value
    : undefined;
}

function importedSpecifier(node: Node): string | undefined {
  switch (node.type) {
    case "ImportDeclaration":
    case "ExportNamedDeclaration":
    case "ExportAllDeclaration":
    case "ImportExpression":
    case "TSImportType":
      return literal(node.source);
    case "TSExternalModuleReference":
      return literal(node.expression);
    default:
      return undefined;
  }
}

/** `import type …` / `export type … from`, or an import whose every name is `type X`. */
function isTypeOnly(node: Node): boolean {
  if (node.importKind === "type" || node.exportKind === "type") return true;
  const names = node.specifiers;
  return (
    Array.isArray(names) &&
    names.length > 0 &&
    names.every((n: Node) => n.importKind === "type" || n.exportKind === "type")
  );
}

export interface Import {
  from: string;
  specifier: string;
  typeOnly: boolean;
  /** The file it names, for a relative specifier ("src/store/index.ts"); else undefined. */
  target: string | undefined;
}

/**
 * Every import of every source. A relative specifier resolves as the bundler does: the path
 * itself if it is one of the sources, else with `.ts` or `/index.ts` added; a path that is none
 * of them is kept as written (normalized), so a missing file still shows where it points.
 */
export function imports(sources: Source[]): Import[] {
  const paths = new Set(sources.map((s) => s.path));
  return sources.flatMap((source) =>
    parse(source).imports.map(({ specifier, typeOnly }) => {
      if (!specifier.startsWith("."))
        return { from: source.path, specifier, typeOnly, target: undefined };
      const base = posix.join(posix.dirname(source.path), specifier);
      const target = [base, `${base}.ts`, `${base}/index.ts`].find((p) => paths.has(p)) ?? base;
      return { from: source.path, specifier, typeOnly, target };
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Rule 1: functions of at most `max` lines.

export interface LongFunction {
  path: string;
  name: string;
  lines: number;
}

export function longFunctions(sources: Source[], max: number): LongFunction[] {
  return sources.flatMap((source) =>
    parse(source)
      .functions.map((f) => ({
        path: source.path,
        name: f.name,
        lines: f.endLine - f.startLine + 1,
      }))
      .filter((f) => f.lines > max),
  );
}

// ---------------------------------------------------------------------------------------------
// Rule 2: lines of at most `max` columns (counted in code points, as an editor shows them).

export interface LongLines {
  path: string;
  count: number;
}

export function longLines(sources: Source[], max: number): LongLines[] {
  return sources.flatMap((source) => {
    const count = source.text
      .split(/\r?\n/)
      .filter((line) => line.length > max && [...line].length > max).length;
    return count > 0 ? [{ path: source.path, count }] : [];
  });
}

// ---------------------------------------------------------------------------------------------
// Rules 3 and 5: layers.

export interface Layer {
  name: string;
  rank: number;
  /** The folder ("src/api"), or the single files of a layer that has none. */
  dir?: string;
  files?: string[];
  /** Client-side layers import only client-side layers and base. */
  clientSide?: boolean;
}

export const layers: Layer[] = [
  // The test build of the Worker (edgecfg/miniflare starts it): the entry, seeded from fixtures.
  { name: "testing", rank: 6, dir: "src/testing" },
  { name: "entry", rank: 5, files: ["src/index.ts", "src/env.ts"] },
  { name: "api", rank: 4, dir: "src/api" },
  { name: "router", rank: 3, dir: "src/router" },
  { name: "replica", rank: 2, dir: "src/replica" },
  { name: "solo", rank: 2, dir: "src/solo" },
  { name: "cli", rank: 2, dir: "src/cli", clientSide: true },
  { name: "store", rank: 1, dir: "src/store" },
  { name: "raft", rank: 1, dir: "src/raft" },
  { name: "ring", rank: 1, dir: "src/ring" },
  { name: "client", rank: 1, dir: "src/client", clientSide: true },
  // edgecfg/miniflare, Node-side options for Miniflare: it ships without the server, and rank 1
  // leaves it only base and flags below, both client side.
  { name: "miniflare", rank: 1, dir: "src/miniflare" },
  { name: "base", rank: 0, dir: "src/base" },
  // Flag evaluation (flagd-core, no I/O): client side, so the SDK's providers evaluate with it.
  { name: "flags", rank: 0, dir: "src/flags", clientSide: true },
];

export function layerOf(path: string, table: Layer[] = layers): Layer | undefined {
  return table.find(
    (l) => l.files?.includes(path) || (l.dir !== undefined && path.startsWith(`${l.dir}/`)),
  );
}

function inSrc(path: string | undefined): path is string {
  return path !== undefined && path.startsWith("src/");
}

function clientSideNames(): string {
  return layers
    .filter((l) => l.clientSide)
    .map((l) => l.name)
    .sort()
    .join(", ");
}

/** Why `from` may not import `to`, or undefined if it may. */
function layerRefusal(from: Layer, to: Layer): string | undefined {
  if (from === to) return undefined;
  if (from.clientSide && !to.clientSide && to.name !== "base") {
    return `${from.name} is client side: only ${clientSideNames()}, base`;
  }
  if (to.rank === from.rank) return `${from.name} may not import ${to.name}: both rank ${to.rank}`;
  if (to.rank > from.rank) {
    return `${from.name} (rank ${from.rank}) may not import ${to.name} (rank ${to.rank})`;
  }
  return undefined;
}

/** Rule 3: each file is in a layer and imports only its own layer or a lower one. */
export function layerViolations(sources: Source[], table: Layer[] = layers): string[] {
  const homeless = sources
    .filter((s) => layerOf(s.path, table) === undefined)
    .map((s) => `${s.path}: in no layer (add its folder to the layer table in tidy.ts)`);
  const refused = imports(sources).flatMap(({ from, target }) => {
    const fromLayer = layerOf(from, table);
    if (!fromLayer || !inSrc(target)) return [];
    const toLayer = layerOf(target, table);
    if (!toLayer) return [`${from} → ${target}: ${target} is in no layer`];
    const why = layerRefusal(fromLayer, toLayer);
    return why ? [`${from} → ${target}: ${why}`] : [];
  });
  return [...homeless, ...refused];
}

/** Rule 5: an import into another layer's folder names that folder's index.ts. */
export function innerImports(sources: Source[], table: Layer[] = layers): string[] {
  return imports(sources).flatMap(({ from, target }) => {
    const fromLayer = layerOf(from, table);
    const toLayer = inSrc(target) ? layerOf(target, table) : undefined;
    if (!fromLayer || !toLayer?.dir || fromLayer === toLayer) return [];
    const index = `${toLayer.dir}/index.ts`;
    return target === index ? [] : [`${from} → ${target}: import ${index} instead`];
  });
}

// ---------------------------------------------------------------------------------------------
// Rule 4: no import circles.

/**
 * The import circles among the sources: for each file on one, the shortest circle through it
 * (each circle once, starting at its first file in sort order), as the files in import order;
 * the first file imports the second... and the last imports the first.
 */
export function importCycles(sources: Source[]): string[][] {
  const graph = new Map<string, Set<string>>(sources.map((s) => [s.path, new Set()]));
  for (const edge of imports(sources)) {
    const { from, target } = edge;
    if (target === undefined || target === from || !graph.has(target) || circleExempt(edge))
      continue;
    graph.get(from)?.add(target);
  }
  const cycles = new Map<string, string[]>();
  for (const component of stronglyConnected(graph)) {
    if (component.length < 2) continue;
    const inside = new Set(component);
    for (const start of component) {
      const cycle = shortestCycle(graph, inside, start);
      if (!cycle) continue;
      const first = cycle.indexOf([...cycle].sort()[0] ?? start);
      const rotated = [...cycle.slice(first), ...cycle.slice(0, first)];
      cycles.set(rotated.join("\n"), rotated);
    }
  }
  return [...cycles.values()].sort((a, b) => a.join("\n").localeCompare(b.join("\n")));
}

/**
 * The one exemption: the consensus core's step functions (election.ts, leader.ts, commit.ts, …)
 * each take the `Raft` they act on, a type-only import of src/raft/raft.ts, while raft.ts calls
 * them: etcd-io/raft's shape (functions over *raft in one package). The type import is erased
 * when compiled, so it orders no module loading; giving those files an interface of their own
 * instead would restate the class's thirty fields. Any value import still counts, and so does
 * every type-only import elsewhere (the api/auth ↔ api/context circle was one).
 */
function circleExempt(edge: Import): boolean {
  return edge.typeOnly && edge.target === "src/raft/raft.ts" && edge.from.startsWith("src/raft/");
}

/** Tarjan's strongly connected components, each sorted. */
function stronglyConnected(graph: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v) ?? 0);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop(); w !== undefined; w = w === v ? undefined : stack.pop()) {
      onStack.delete(w);
      component.push(w);
    }
    out.push(component.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) connect(v);
  return out;
}

/** Breadth first from `start` back to it, within `inside`. */
function shortestCycle(
  graph: Map<string, Set<string>>,
  inside: Set<string>,
  start: string,
): string[] | undefined {
  const previous = new Map<string, string>();
  let frontier = [start];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const v of frontier) {
      for (const w of [...(graph.get(v) ?? [])].sort()) {
        if (!inside.has(w)) continue;
        if (w === start) {
          const path = [v];
          for (let p = previous.get(v); p !== undefined; p = previous.get(p)) path.push(p);
          return path.reverse();
        }
        if (previous.has(w)) continue;
        previous.set(w, v);
        next.push(w);
      }
    }
    frontier = next;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Rule 6: the ratchet for rules 1 and 2.

export interface Ratchet {
  /** File → function name → its length in lines, for each function over the limit. */
  functions: Record<string, Record<string, number>>;
  /** File → how many of its lines are over the limit. */
  longLines: Record<string, number>;
}

export function ratchetOf(functions: LongFunction[], lines: LongLines[]): Ratchet {
  const out: Ratchet = { functions: {}, longLines: {} };
  for (const f of [...functions].sort(
    (a, b) => compare(a.path, b.path) || compare(a.name, b.name),
  )) {
    out.functions[f.path] ??= {};
    (out.functions[f.path] as Record<string, number>)[f.name] = f.lines;
  }
  for (const l of [...lines].sort((a, b) => compare(a.path, b.path)))
    out.longLines[l.path] = l.count;
  return out;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface RatchetDiff {
  /** What is over and not listed, or more over than listed. */
  worse: string[];
  /** What is listed but is no longer over, or less over than listed: the list must shrink. */
  better: string[];
}

/** Compares two flat lists "what → how much" (lines of a function, long lines of a file). */
export function ratchetDiff(
  current: Record<string, number>,
  listed: Record<string, number>,
  unit: string,
): RatchetDiff {
  const worse: string[] = [];
  const better: string[] = [];
  for (const [what, n] of Object.entries(current)) {
    const was = listed[what];
    if (was === undefined) worse.push(`${what}: ${n} ${unit}, not in the list`);
    else if (n > was) worse.push(`${what}: ${n} ${unit}, listed at ${was}`);
    else if (n < was) better.push(`${what}: ${n} ${unit}, listed at ${was}`);
  }
  for (const [what, was] of Object.entries(listed)) {
    if (!(what in current)) better.push(`${what}: no longer over, listed at ${was} ${unit}`);
  }
  return { worse, better };
}

/** `{ file: { name: n } }` as `{ "file: name": n }`, the shape ratchetDiff compares. */
export function flatten(nested: Record<string, Record<string, number>>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(nested).flatMap(([path, names]) =>
      Object.entries(names).map(([name, n]) => [`${path}: ${name}`, n]),
    ),
  );
}
