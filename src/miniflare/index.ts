// edgecfg/miniflare: edgecfg inside a user's own tests. edgecfgWorker() returns the Miniflare
// `workers` entry of the prebuilt edgecfg Worker (dist/worker, npm run build:worker), to add
// beside the user's Worker with plain Miniflare or @cloudflare/vitest-plugin's cloudflareTest():
// the user's `env.EDGECFG` service binding then reaches it as it reaches edgecfg deployed. It
// imports nothing (not even miniflare): it returns plain options, in the shape wrangler and the
// Vitest plugin take (Miniflare 5's constructor takes them through convertV4MiniflareOptions), so
// it works with whichever Miniflare the user has. It opens no port: the Worker is reached through
// bindings and Miniflare's own dispatch only.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { readFixtures, type SeedBundle } from "./fixtures.ts";

export type { SeedBundle } from "./fixtures.ts";

export interface EdgecfgWorkerOptions {
  /** `edgecfg ns export` files (paths relative to `root`) or bundles, one namespace each. */
  seed?: string | SeedBundle | (string | SeedBundle)[];
  /** Shards of the ring; default 1 (namespaces spread over more only when a test wants it). */
  shards?: number;
  /** Raft replicas per shard: 1 (default) for speed, 3 as deployed, to test failover. */
  replicas?: number;
  /** The Worker's name, which the user's `[[services]] service` names; default "edgecfg". */
  name?: string;
  /** Admin token of its HTTP API; default "dev-admin-token" (the binding needs none). */
  adminToken?: string;
  /** More [vars] of the edgecfg Worker (wrangler.toml's), e.g. { READ_LEASE_MS: "0" }. */
  vars?: Record<string, string>;
  /** Where relative seed paths start; default the current directory. */
  root?: string;
}

/** A Miniflare worker entry (the options this helper sets); a type, so it fits open shapes. */
export type EdgecfgMiniflareWorker = {
  name: string;
  modulesRoot: string;
  modules: { type: "ESModule"; path: string }[];
  compatibilityDate: string;
  compatibilityFlags: string[];
  durableObjects: Record<string, { className: string; useSQLite?: boolean }>;
  bindings: Record<string, Json>;
};

/** What a Miniflare JSON binding holds (its options' type for `bindings`). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

interface Manifest {
  compatibilityDate: string;
  compatibilityFlags: string[];
  durableObjects: EdgecfgMiniflareWorker["durableObjects"];
  bindings: Record<string, string>;
}

// From src/miniflare/ and from dist/miniflare/ alike: the package's dist/worker.
const built = new URL("../../dist/worker/", import.meta.url);

function manifest(): Manifest {
  const path = fileURLToPath(new URL("edgecfg.json", built).href);
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Manifest;
  } catch (error) {
    throw new Error(
      `edgecfg/miniflare: no prebuilt Worker at ${path} (${(error as Error).message}); ` +
        "in a checkout of edgecfg run `npm run build:worker`",
    );
  }
}

function count(value: number | undefined, fallback: number, what: string): string {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 1) throw new Error(`edgecfgWorker: ${what} must be 1 or more`);
  return String(n);
}

export function edgecfgWorker(options: EdgecfgWorkerOptions = {}): EdgecfgMiniflareWorker {
  const m = manifest();
  const seed = options.seed === undefined ? [] : [options.seed].flat();
  return {
    name: options.name ?? "edgecfg",
    // Its own root: a runtime resolves module paths under it, and the user's root may not hold it.
    modulesRoot: fileURLToPath(built.href),
    modules: [{ type: "ESModule", path: fileURLToPath(new URL("edgecfg.js", built).href) }],
    compatibilityDate: m.compatibilityDate,
    compatibilityFlags: m.compatibilityFlags,
    durableObjects: m.durableObjects,
    bindings: {
      ...m.bindings,
      SHARDS: count(options.shards, 1, "shards"),
      REPLICAS_PER_SHARD: count(options.replicas, 1, "replicas"),
      ...options.vars,
      ADMIN_TOKEN: options.adminToken ?? "dev-admin-token",
      // Parsed from JSON files, or bundles whose values must be JSON to be written at all.
      EDGECFG_SEED: readFixtures(seed, options.root ?? process.cwd()) as unknown as Json,
    },
  };
}

/** The user's Worker's side, for plain Miniflare: `serviceBindings: edgecfgBinding()`. */
export function edgecfgBinding(binding = "EDGECFG", name = "edgecfg") {
  return { [binding]: { name, entrypoint: "EdgecfgEntrypoint" } };
}
