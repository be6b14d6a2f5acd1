// Fixture files in the `edgecfg ns export` format ({namespace, revision, entries, meta}), read and
// checked here in Node so a broken file fails the test run's configuration with its path, before
// any runtime starts. The values themselves are checked by the store when it seeds (the API's
// own rules: key grammar, flagd schema), which names the file too.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

/** One namespace as `edgecfg ns export` writes it (revision and meta's versions are ignored). */
export interface SeedBundle {
  namespace: string;
  entries: Record<string, unknown>;
  meta?: Record<string, { contentType?: string }>;
}

/** What the seeded Worker receives: the bundle and where it came from. */
export interface Fixture extends SeedBundle {
  source: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checked(doc: unknown, source: string): Fixture {
  const expected = 'expected `edgecfg ns export` output: {"namespace", "entries": {name: value}}';
  if (!isObject(doc)) throw new Error(`edgecfg seed ${source}: not an object; ${expected}`);
  if (typeof doc.namespace !== "string" || doc.namespace === "")
    throw new Error(`edgecfg seed ${source}: no "namespace" string; ${expected}`);
  if (!isObject(doc.entries))
    throw new Error(`edgecfg seed ${source}: no "entries" object; ${expected}`);
  const meta = isObject(doc.meta) ? (doc.meta as SeedBundle["meta"]) : undefined;
  return { namespace: doc.namespace, entries: doc.entries, ...(meta ? { meta } : {}), source };
}

function readFixture(path: string, root: string): Fixture {
  const file = resolve(root, path);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(`edgecfg seed ${path}: cannot read ${file} (${(error as Error).message})`);
  }
  try {
    return checked(JSON.parse(text), path);
  } catch (error) {
    if (error instanceof SyntaxError)
      throw new Error(`edgecfg seed ${path}: not JSON (${error.message})`);
    throw error;
  }
}

/** Files (relative to `root`) and inline bundles, one namespace each; a namespace only once. */
export function readFixtures(seed: (string | SeedBundle)[], root: string): Fixture[] {
  const fixtures = seed.map((s, i) =>
    typeof s === "string" ? readFixture(s, root) : checked(s, `seed[${i}]`),
  );
  const seen = new Map<string, string>();
  for (const f of fixtures) {
    const first = seen.get(f.namespace);
    if (first !== undefined)
      throw new Error(`edgecfg seed: namespace ${f.namespace} is in both ${first} and ${f.source}`);
    seen.set(f.namespace, f.source);
  }
  return fixtures;
}
