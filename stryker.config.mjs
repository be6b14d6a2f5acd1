// @ts-check
// StrykerJS, run by `npm run mutate -- <scope|folder|file>` (scripts/mutate.ts sets
// EDGECFG_MUTATE_SCOPE and loads TypeScript 5 for the checker, tools/stryker/typescript-5.mjs).
// Not part of CI: a full scope takes from minutes (store) to hours (replica, in workerd).
import { currentScope } from "./tools/stryker/scopes.ts";

const scope = currentScope();
const out = scope.out;

// Equivalent mutants: no test can tell them apart, so they stay in the reports as survivors
// (Stryker ignores a single mutant only by a comment in the source, which src/ does not carry):
// - auth.ts authorizedNow, `op === "read" ||` made true/false/negated: an admin principal exists
//   only when ADMIN_TOKEN is configured, so the second operand decides alone.
// - auth.ts callerOf, `header.trim()` dropped: the Headers API already strips the value's
//   leading and trailing whitespace.
// - auth.ts principalNow, `if (known)` made false: the caller is worked out again, to the same
//   principal (the lookup itself is remembered); it costs a SHA-256, not a wrong answer.
// - auth-lookups.ts forgetLookups, `generation += 1` made `-= 1`: the generation is only compared
//   for equality with the one a lookup started at; going down, it never repeats either.
// - consistency.ts readOptions, `min.trim()` made `min`: the Headers API strips the value's
//   leading and trailing whitespace, and every reader of minToken parses it with trim() again.
// - idempotency.ts idempotencyKey, `key.length === 0 ||` made false: the printable-ASCII regex
//   (`+`, one or more) refuses the empty key with the same 400.
// - tokens-crypto.ts base64url, `/=+$/` made `/=$/` or `/=+/`: 32 bytes in base64 end in exactly
//   one "=", the only one in the string.
// - moves-ring.ts ringRedirect, the `records.size > 0` early return made false: servesNamespace
//   asks the same first; the early return only spares a served namespace the placement hash.
// - txn-recovery.ts decideFrom and settledOf, `o.branch === undefined` / `r.branch === undefined`
//   made false (`branch: undefined` in a Settled): every command built from it drops an unset
//   branch (settleCommand, resolveAll), and no reader tells an unset branch from an absent one.
// - txn-recovery.ts recoverIntent, `settled.decision === "abort"` made false: an abort always has
//   a part whose probe names no namespaces (the settle's own entry resolves the record shard's
//   part aborted, and an aborted tombstone is never pinned), so the second operand decides.
// - txn-recovery.ts decideFrom, `p.part === "aborted"` made false in `missing`: no part is
//   aborted while its record is STAGING (every abort resolve follows the record's abort, or an
//   absent record past the deadline, which no prepare can stage any more).
// - txn-recovery.ts absentRecord, `probes.some((p) => p.part === "prepared")` made every/false:
//   the record shard's commit is forgotten (its tombstone unpinned) only after every participant
//   resolved, so no part is prepared when that branch is reached.
// - txn-keyed.ts keyedIdempotency, `txn.fence === undefined` made false (`fence: undefined`):
//   the fingerprint is of encodeCommand's bytes, which carry an optional field only when set.
// - txn-keyed.ts isKeyedReplay, `o.deduplicated === true` made true: a prepare answers a txn or
//   txnKeyed outcome only as keyedRefusal's replay of the first one, always deduplicated.
// - txn-coordinator.ts runCrossShardTxn, `.catch(() => false)` after a refusal's recoverIntent
//   made `() => undefined` / `() => true`: the value is discarded, recovery runs for its effect.
// - txn-coordinator.ts runCrossShardTxn, `o.resolved === undefined` made false: a commit's
//   txnDecision always carries `resolved` (resolveAsDecided, and the forgotten-record answer).
// - txn-coordinator.ts settledOf, `o.branch === undefined` made false: `branch: undefined` in a
//   Settled is dropped by resolveAll's command, and the abort path's tests read `=== undefined`.
// - txn-coordinator.ts oneShard, `o.deduplicated === true` made true: a shardTxn answers
//   txnKeyed only as lookupIdempotency's replay, always deduplicated.
// - txn-coordinator.ts replay, `commit` (`o.type === "txnProbed"`, its record-absent operand, any
//   of its comparisons) and `!commit || branch === undefined` made true/false/`&&`: a probe
//   names a branch (record or pinned tombstone) exactly when its record says commit (a settled
//   commit names its branch; the record shard's tombstone is pinned only while its record is
//   kept: forgetTxn unpins it and marks the record done together), so `branch` alone decides.
// - txn-coordinator.ts answerFirst, `""` made "Stryker was here!": replayParts is null only for
//   a txnKeyed first outcome (a single-shard txn's outcome always has its parts).
// - txn-forgets.ts takeForgets and flushForget, `if (ids.size === 0) queued.delete(namespace)`
//   made false: an empty set left in the map answers as no set does; it only costs memory.
// - raft/quorum.ts committedIndex, the `voters.length === 0` early return made false: for no
//   voters the majority's position (`matches[0]`) is undefined, and the `?? 0` answers 0 as well.
// - raft/transfer.ts handleTransferLeader, `r.leadTransferee !== ""` made true, or its "" made
//   "Stryker was here!" (always true): with no transfer under way the block compares "" with a
//   voter's id (never empty) and sets "" to "" again.

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "tools/stryker/vitest.config.ts", related: false },
  checkers: ["typescript"],
  tsconfigFile: "tsconfig.json",
  // One check per group of mutants; a group with an error is split and rechecked.
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: scope.mutate,
  // Each mutant runs only the tests that reached it in the dry run.
  coverageAnalysis: "perTest",
  // A static mutant (a module-level constant) would need every test of the scope, with a fresh
  // module graph, per mutant: hours in workerd. They are reported as ignored, not as killed.
  ignoreStatic: true,
  // Reruns reuse the results of unchanged mutants and unchanged tests (reports/ is gitignored:
  // the file is per machine and would conflict on every merge; a fresh clone runs in full).
  incremental: true,
  incrementalFile: `${out}/stryker-incremental.json`,
  reporters: ["html", "json", "clear-text", "progress"],
  htmlReporter: { fileName: `${out}/index.html` },
  jsonReporter: { fileName: `${out}/mutation.json` },
  // The machine is shared: two test processes at most (override with --concurrency).
  concurrency: 2,
  // Raft tests wait on ticks: a mutant that stops progress must time out, not hang the run.
  timeoutMS: 20_000,
  timeoutFactor: 2,
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
  ignorePatterns: ["dist", "reports", "bench/results", "chaos/results", ".wrangler", "tmp"],
};
