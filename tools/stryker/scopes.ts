// The mutation scopes of `npm run mutate` (scripts/mutate.ts): which sources are mutated, and
// which tests guard them. Read by stryker.config.mjs (what to mutate) and by
// tools/stryker/vitest.config.ts (which tests run), both in Stryker's sandbox.
//
// `unit` runs in Node (vitest project "unit"); `workers` runs in workerd through the Cloudflare
// pool (project "workers"): the replica, router and API code is only exercised for real there.

export interface Scope {
  /** Stryker `mutate` globs. */
  mutate: string[];
  /** Test files of the vitest project "unit" (Node). */
  unit: string[];
  /** Test files of the vitest project "workers" (workerd). */
  workers: string[];
}

export const scopes: Record<string, Scope> = {
  raft: {
    mutate: ["src/raft/**/*.ts", "!src/raft/index.ts", "!src/raft/types.ts"],
    unit: ["test/raft/**/*.test.ts", "test/sim/**/*.test.ts"],
    workers: [],
  },
  store: {
    mutate: ["src/store/**/*.ts", "!src/store/index.ts", "!src/store/types.ts"],
    unit: ["test/store/**/*.test.ts"],
    workers: [],
  },
  replica: {
    mutate: ["src/replica/**/*.ts", "!src/replica/index.ts"],
    unit: ["test/replica/**/*.test.ts"],
    workers: ["test/workers/replica-*.test.ts"],
  },
  router: {
    mutate: ["src/router/**/*.ts", "!src/router/index.ts", "!src/router/*types.ts"],
    unit: ["test/router/**/*.test.ts"],
    // The txn coordinator and recovery are guarded by the cross-shard txn tests of the API.
    workers: ["test/workers/router-*.test.ts", "test/workers/api-txn-*.test.ts"],
  },
  // The API's authorization, tokens and preconditions (If-Match / If-None-Match, idempotency).
  api: {
    mutate: [
      "src/api/auth*.ts",
      "src/api/tokens-crypto.ts",
      "src/api/etag.ts",
      "src/api/idempotency.ts",
      "src/api/consistency.ts",
    ],
    unit: ["test/api/**/*.test.ts"],
    // Every API test passes auth.ts, but these are the ones that check it (and the
    // preconditions): loading all 20 API files per mutant in workerd would take hours.
    workers: [
      "test/workers/api-auth*.test.ts",
      "test/workers/api-kv.test.ts",
      "test/workers/api-errors.test.ts",
      "test/workers/api-consistency.test.ts",
    ],
  },
};

/**
 * The scope named by EDGECFG_MUTATE_SCOPE (set by scripts/mutate.ts); with
 * EDGECFG_MUTATE_UNIT_ONLY=1 (`--unit-only`), its workers tests are left out: minutes instead of
 * hours, a lower bound of the score, and its own reports (`<scope>-unit`).
 */
export function currentScope(): Scope & { name: string; out: string } {
  const name = process.env.EDGECFG_MUTATE_SCOPE ?? "";
  const scope = scopes[name];
  if (!scope) {
    throw new Error(`EDGECFG_MUTATE_SCOPE=${JSON.stringify(name)}: one of ${Object.keys(scopes)}`);
  }
  const unitOnly = process.env.EDGECFG_MUTATE_UNIT_ONLY === "1";
  return {
    name,
    ...scope,
    workers: unitOnly ? [] : scope.workers,
    out: `reports/mutation/${unitOnly ? `${name}-unit` : name}`,
  };
}
