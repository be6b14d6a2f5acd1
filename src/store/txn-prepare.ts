// Two-phase commit across shards, on one participant (http-api.md "Transactions across
// namespaces"; architecture.md "Across shards"). Every participant is a Raft group, so none
// fail-stops: the protocol only has to survive a coordinator that vanishes.
//
// Design decision: prepare checks everything applyTxn checks (validation, fence, schemas and quota
// of BOTH branches, since which one runs depends on the other shards' compares) and then holds an
// intent on every key the part compares, reads or writes (intents.ts). A compared key is held
// too: that is what keeps the compare true until the commit, so committed txns serialize in
// commit order (strict two-phase locking, as Spanner's participants do). Conflicts never wait in
// the state machine: a prepare meeting another txn's intent answers `intent` at once, so there is
// no waits-for cycle and no deadlock; the coordinator aborts and the client retries.
// Resolve applies a commit's writes at ONE new revision of this shard (watch shows them there,
// in order) or drops the intents; a tombstone (ResolvedTxn) remembers it until the store clock
// reaches the deadline, after which every prepare is refused anyway: a duplicate or delayed
// prepare can never bring an intent back. A parallel commit's commit tombstone is also pinned
// until its forget (txn-staged.ts: recovery's probe may still need it).
import { namespaceOf, validateNamespace } from "./keys.ts";
import { storeLimits } from "./limits.ts";
import { addDeleteDelta, addPutDelta, emptyDelta, type UsageDelta } from "./quota.ts";
import { checkSchemas, type ValueWrite } from "./schemas.ts";
import type { PreparedTxn, ResolvedTxn, StoreState } from "./state.ts";
import { liveVersion } from "./state.ts";
import { checkFence } from "./locks.ts";
import { addIntents, dropIntents, intentKeys, intentOutcome } from "./intents.ts";
import { checkBranch, checkCompare, holds, runOp } from "./txn.ts";
import { keyedRefusal, keyedStarted } from "./txn-keyed.ts";
import type * as t from "./types.ts";
import { checkKey, invalid } from "./validate.ts";

export function applyTxnPrepare(state: StoreState, c: t.TxnPrepareCommand): t.WriteOutcome {
  const forgets = c.forgets ?? [];
  if (forgets.length > storeLimits.txnForgetsMax)
    return invalid(state, "txn", `a prepare carries at most ${storeLimits.txnForgetsMax} forgets`);
  for (const txnId of forgets) forgetTxn(state, txnId);
  pruneResolved(state);
  const bad = checkPrepare(state, c);
  if (bad !== null) return bad;
  if (state.resolved.has(c.txnId))
    return {
      type: "txnPrepareRefused",
      revision: state.revision,
      txnId: c.txnId,
      reason: "resolved",
    };
  const again = state.prepared.get(c.txnId);
  if (again !== undefined) return prepared(state, again);
  const stagesRecord = c.staging === true && namespacesOf(c).includes(c.recordNamespace);
  const keyed = stagesRecord ? keyedRefusal(state, c) : null;
  if (keyed !== null) return keyed;
  if (state.clockMs >= c.deadlineMs)
    return {
      type: "txnPrepareRefused",
      revision: state.revision,
      txnId: c.txnId,
      reason: "expired",
    };
  const refused = prepareRefusal(state, c);
  if (refused !== null) return refused;
  const p: PreparedTxn = {
    txnId: c.txnId,
    compare: c.compare,
    success: c.success,
    failure: c.failure,
    recordNamespace: c.recordNamespace,
    participants: [...c.participants],
    deadlineMs: c.deadlineMs,
    held: c.compare.every((cmp) => holds(state, cmp)),
    audit: c.audit,
    ...(c.staging === true ? { staged: true as const } : {}),
  };
  addIntents(state, p);
  if (stagesRecord) {
    stageRecord(state, c);
    keyedStarted(state, c);
  }
  return prepared(state, p);
}

/**
 * A parallel commit's record, written by the prepare of the record namespace's part in the same
 * entry (txn-staged.ts): STAGING, with the participants recovery must probe.
 */
function stageRecord(state: StoreState, c: t.TxnPrepareCommand): void {
  state.txnRecords.set(c.txnId, {
    txnId: c.txnId,
    decision: "staging",
    branch: undefined,
    deadlineMs: c.deadlineMs,
    done: false,
    recordNamespace: c.recordNamespace,
    participants: [...c.participants],
    ...(c.idempotency === undefined ? {} : { idempotencyKey: c.idempotency.key }),
  });
}

function prepared(state: StoreState, p: PreparedTxn): t.TxnPreparedOutcome {
  return { type: "txnPrepared", revision: state.revision, txnId: p.txnId, held: p.held };
}

/** Another txn's intent, the fence, a schema or a quota: why the part cannot be prepared. */
function prepareRefusal(state: StoreState, c: t.TxnPrepareCommand): t.WriteOutcome | null {
  for (const key of intentKeys(c).keys()) {
    const held = intentOutcome(state, key, false, c.txnId);
    if (held !== null) return held;
  }
  if (c.fence !== undefined && namespacesOf(c).includes(namespaceOf(c.fence.lock))) {
    const fenced = checkFence(state, c.fence, namespaceOf(c.fence.lock));
    if (fenced !== null) return fenced;
  }
  for (const branch of [c.success, c.failure]) {
    const refused = branchSchemas(state, branch) ?? branchQuota(state, branch);
    if (refused !== null) return refused;
  }
  return null;
}

/** The schemas of each namespace a branch writes, judged for its puts there. */
export function branchSchemas(state: StoreState, branch: t.TxnOp[]): t.WriteOutcome | null {
  const puts = branch.filter((op): op is ValueWrite & t.TxnOp => op.type === "put");
  for (const namespace of new Set(puts.map((op) => namespaceOf(op.key)))) {
    const refused = checkSchemas(
      state,
      puts.filter((op) => namespaceOf(op.key) === namespace),
    );
    if (refused !== null) return refused;
  }
  return null;
}

function namespacesOf(c: Pick<t.TxnPrepareCommand, "compare" | "success" | "failure">): string[] {
  return [...new Set([...c.compare, ...c.success, ...c.failure].map((x) => namespaceOf(x.key)))];
}

/** Quota of a branch over several namespaces: the shard's bytes summed, keys per namespace. */
export function branchQuota(state: StoreState, ops: t.TxnOp[]): t.TooLargeOutcome | null {
  const deltas = new Map<string, UsageDelta>();
  for (const op of ops) {
    const namespace = namespaceOf(op.key);
    const delta = deltas.get(namespace) ?? emptyDelta(namespace);
    deltas.set(namespace, delta);
    if (op.type === "put") addPutDelta(state, delta, op.key, op.value.length);
    if (op.type === "delete") addDeleteDelta(state, delta, op.key);
  }
  let bytes = 0;
  for (const delta of deltas.values()) bytes += delta.bytes;
  const shardBytes = state.liveBytes + bytes;
  if (bytes > 0 && shardBytes > state.options.shardBytesMax) {
    const max = state.options.shardBytesMax;
    return {
      type: "tooLarge",
      revision: state.revision,
      limit: "shardBytesMax",
      max,
      wouldBe: shardBytes,
    };
  }
  for (const delta of deltas.values()) {
    const keys = (state.namespaces.get(delta.namespace)?.liveKeys ?? 0) + delta.liveKeys;
    const max = state.options.namespaceKeysMax;
    if (delta.liveKeys > 0 && keys > max)
      return {
        type: "tooLarge",
        revision: state.revision,
        limit: "namespaceKeysMax",
        max,
        wouldBe: keys,
      };
  }
  return null;
}

function checkPrepare(state: StoreState, c: t.TxnPrepareCommand): t.InvalidOutcome | null {
  const count = c.compare.length + c.success.length + c.failure.length;
  if (count === 0) return invalid(state, "txn", "a prepared part has no compare or op");
  if (count > storeLimits.txnOpsMax)
    return invalid(
      state,
      "txnTooLarge",
      `a prepared part has 1 to ${storeLimits.txnOpsMax} compares and operations, got ${count}`,
    );
  const header = checkTxnHeader(state, c);
  if (header !== null) return header;
  if (!validNamespaces([c.recordNamespace, ...c.participants]) || c.participants.length === 0)
    return invalid(state, "txn", "a prepare names its record's namespace and its participants");
  return checkParts(state, c);
}

/** Keys, compares and branches of a txn over any namespaces (not their count). */
export function checkParts(
  state: StoreState,
  c: Pick<t.TxnPrepareCommand, "compare" | "success" | "failure">,
): t.InvalidOutcome | null {
  for (const key of [...c.compare, ...c.success, ...c.failure].map((x) => x.key)) {
    const bad = checkKey(state, key);
    if (bad !== null) return bad;
  }
  for (const cmp of c.compare) {
    const bad = checkCompare(state, cmp);
    if (bad !== null) return bad;
  }
  return checkBranch(state, c.success, "success") ?? checkBranch(state, c.failure, "failure");
}

function validNamespaces(namespaces: string[]): boolean {
  return namespaces.every((n) => validateNamespace(n) === null);
}

/** The fields every protocol command carries: a txn id and a deadline. */
export function checkTxnHeader(
  state: StoreState,
  c: { txnId: string; deadlineMs: number },
): t.InvalidOutcome | null {
  if (
    c.txnId.length === 0 ||
    c.txnId.length > storeLimits.txnIdBytesMax ||
    !/^[\x21-\x7e]+$/.test(c.txnId)
  )
    return invalid(
      state,
      "txn",
      `a txn id is 1 to ${storeLimits.txnIdBytesMax} printable ASCII characters`,
    );
  if (!Number.isSafeInteger(c.deadlineMs) || c.deadlineMs < 0)
    return invalid(state, "txn", "a txn deadline is a non-negative integer of milliseconds");
  return null;
}

export function applyTxnResolve(state: StoreState, c: t.TxnResolveCommand): t.WriteOutcome {
  pruneResolved(state);
  const bad = checkTxnHeader(state, c);
  if (bad !== null) return bad;
  if (c.decision === "commit" && c.branch === undefined)
    return invalid(state, "txn", "a commit names the branch that runs");
  const done = state.resolved.get(c.txnId);
  if (done !== undefined) return resolvedOutcome(state, done);
  const p = state.prepared.get(c.txnId);
  let results: t.TxnOpResult[] = [];
  if (p !== undefined) {
    dropIntents(state, p);
    if (c.decision === "commit")
      results = commitBranch(state, c.branch === "success" ? p.success : p.failure, c.atMs);
  }
  // Resolved without a prepare here (the prepare was lost or is still on its way): the
  // tombstone refuses that prepare should it arrive before the deadline.
  const tombstone: ResolvedTxn = {
    txnId: c.txnId,
    decision: c.decision,
    committedRevision: state.revision,
    results,
    deadlineMs: p?.deadlineMs ?? c.deadlineMs,
  };
  // A parallel commit's record may still be STAGING: this tombstone proves the prepare to
  // recovery's probe until txnForget (txn-staged.ts).
  if (p?.staged === true && c.decision === "commit" && c.branch !== undefined)
    tombstone.pin = {
      branch: c.branch,
      recordNamespace: p.recordNamespace,
      participants: [...p.participants],
      namespaces: namespacesOf(p),
    };
  state.resolved.set(c.txnId, tombstone);
  return resolvedOutcome(state, tombstone);
}

function commitBranch(state: StoreState, branch: t.TxnOp[], atMs: number): t.TxnOpResult[] {
  const changes = branch.some(
    (op) => op.type === "put" || (op.type === "delete" && liveVersion(state, op.key) !== null),
  );
  if (changes) state.revision += 1;
  return branch.map((op) => runOp(state, op, atMs));
}

export function resolvedOutcome(state: StoreState, r: ResolvedTxn): t.TxnResolvedOutcome {
  return {
    type: "txnResolved",
    revision: state.revision,
    txnId: r.txnId,
    decision: r.decision,
    committedRevision: r.committedRevision,
    results: r.results,
  };
}

/**
 * A parallel commit ended (txn-staged.ts): its commit tombstone is unpinned and a settled record
 * marked done, both to go at the deadline. A STAGING record stays: only a settle decides it.
 */
export function forgetTxn(state: StoreState, txnId: string): void {
  const r = state.resolved.get(txnId);
  if (r !== undefined) delete r.pin;
  const record = state.txnRecords.get(txnId);
  if (record !== undefined && record.decision !== "staging") record.done = true;
}

/**
 * Tombstones go once the clock reaches their deadline (resolve order ≈ deadline order), pinned
 * ones only after txnForget unpinned them.
 */
export function pruneResolved(state: StoreState): void {
  for (const [id, r] of state.resolved) {
    if (r.pin !== undefined) continue;
    if (r.deadlineMs > state.clockMs) return;
    state.resolved.delete(id);
  }
}
