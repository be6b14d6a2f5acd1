// etcd-style transactions within one namespace: if every compare holds, run `success`, else
// `failure`. All-or-nothing: validation and quota are checked before anything changes, and the
// whole branch shares one new revision (none when it changed nothing, e.g. only gets).
import { namespaceOf } from "./keys.ts";
import { storeLimits } from "./limits.ts";
import { addDeleteDelta, addPutDelta, checkQuota, emptyDelta } from "./quota.ts";
import type { StoreState } from "./state.ts";
import { entryOf, liveVersion } from "./state.ts";
import type {
  CompareOperator,
  InvalidOutcome,
  TxnCommand,
  TxnCompare,
  TxnOp,
  TxnOpResult,
  WriteOutcome,
} from "./types.ts";
import { checkKey, checkValue, invalid } from "./validate.ts";
import { deleteKey, putKey } from "./writes.ts";
import { checkFence } from "./locks.ts";
import { checkSchemas, type ValueWrite } from "./schemas.ts";
import { blockingIntent } from "./intents.ts";

/**
 * `opsMax`: a namespace apply (namespace-writes.ts) runs its writes as one txn of up to
 * applyEntriesMax ops, so that every check a txn's writes pass, its writes pass too.
 */
export function applyTxn(
  state: StoreState,
  c: TxnCommand,
  opsMax: number = storeLimits.txnOpsMax,
): WriteOutcome {
  const bad = checkTxn(state, c, opsMax) ?? checkTxnFence(state, c) ?? txnIntent(state, c);
  if (bad !== null) return bad;
  const succeeded = c.compare.every((cmp) => holds(state, cmp));
  const branch = succeeded ? c.success : c.failure;
  // Only the branch that runs commits values, so only its puts are judged.
  const refused = checkSchemas(
    state,
    branch.filter((op): op is ValueWrite & TxnOp => op.type === "put"),
    c.schemasVouched,
  );
  if (refused !== null) return refused;
  const tooLarge = branchQuota(state, branch);
  if (tooLarge !== null) return tooLarge;
  const changes = branch.some(
    (op) => op.type === "put" || (op.type === "delete" && liveVersion(state, op.key) !== null),
  );
  if (changes) state.revision += 1;
  const results = branch.map((op) => runOp(state, op, c.atMs));
  return { type: "txn", revision: state.revision, succeeded, results };
}

/** Both branches' writes and every read meet intents: which branch runs is not known yet. */
export function txnIntent(
  state: StoreState,
  c: Pick<TxnCommand, "compare" | "success" | "failure">,
) {
  if (state.intents.size === 0) return null;
  const ops = [...c.success, ...c.failure];
  const reads = [
    ...c.compare.map((x) => x.key),
    ...ops.filter((o) => o.type === "get").map((o) => o.key),
  ];
  return blockingIntent(
    state,
    reads,
    ops.filter((o) => o.type !== "get").map((o) => o.key),
  );
}

/** A fence guards the whole txn (both branches): a stale holder's txn changes nothing. */
function checkTxnFence(state: StoreState, c: TxnCommand): WriteOutcome | null {
  const first = c.compare[0] ?? c.success[0] ?? c.failure[0];
  if (c.fence === undefined) return null;
  return checkFence(
    state,
    c.fence,
    first === undefined ? namespaceOf(c.fence.lock) : namespaceOf(first.key),
  );
}

function checkTxn(state: StoreState, c: TxnCommand, opsMax: number): InvalidOutcome | null {
  const count = c.compare.length + c.success.length + c.failure.length;
  if (count > opsMax) {
    return invalid(
      state,
      "txnTooLarge",
      `txn has ${count} compares and operations; at most ${opsMax} are allowed`,
    );
  }
  const keys = [...c.compare, ...c.success, ...c.failure].map((x) => x.key);
  for (const key of keys) {
    const bad = checkKey(state, key);
    if (bad !== null) return bad;
  }
  const namespaces = [...new Set(keys.map(namespaceOf))];
  if (namespaces.length > 1) {
    return invalid(
      state,
      "crossNamespace",
      `txn spans namespaces ${namespaces.join(", ")}: a txn command keeps to one namespace ` +
        "(the router sends several as a shardTxn on one shard, or as a cross-shard txn)",
    );
  }
  for (const cmp of c.compare) {
    const bad = checkCompare(state, cmp);
    if (bad !== null) return bad;
  }
  return checkBranch(state, c.success, "success") ?? checkBranch(state, c.failure, "failure");
}

export function checkCompare(state: StoreState, cmp: TxnCompare): InvalidOutcome | null {
  if (cmp.target === "exists" || cmp.target === "value") {
    if (cmp.op !== "=" && cmp.op !== "!=")
      return invalid(state, "preconditions", `compare on ${cmp.target} supports only = and !=`);
    if (cmp.target === "value" && cmp.value.length > storeLimits.valueBytesMax) {
      return invalid(
        state,
        "valueTooLarge",
        `compared value is larger than ${storeLimits.valueBytesMax} bytes`,
      );
    }
    return null;
  }
  if (Number.isSafeInteger(cmp.value) && cmp.value >= 0) return null;
  return invalid(
    state,
    "preconditions",
    `compare on ${cmp.target} needs a non-negative integer, got ${cmp.value}`,
  );
}

export function checkBranch(state: StoreState, ops: TxnOp[], name: string): InvalidOutcome | null {
  const written = new Set<string>();
  for (const op of ops) {
    if (op.type === "get") continue;
    // As in etcd: one write per key per branch, so the order of writes cannot matter.
    if (written.has(op.key))
      return invalid(state, "txnDuplicateKey", `${name} writes ${op.key} more than once`);
    written.add(op.key);
    const bad = op.type === "put" ? checkValue(state, op.value, op.contentType) : null;
    if (bad !== null) return bad;
  }
  return null;
}

export function holds(state: StoreState, cmp: TxnCompare): boolean {
  const live = liveVersion(state, cmp.key);
  switch (cmp.target) {
    case "modRevision":
      return compareNumbers(live?.modRevision ?? 0, cmp.op, cmp.value);
    case "version":
      return compareNumbers(live?.version ?? 0, cmp.op, cmp.value);
    case "exists":
      return (live !== null) === (cmp.op === "=" ? cmp.value : !cmp.value);
    case "value":
      return live !== null && bytesEqual(live.value, cmp.value) === (cmp.op === "=");
  }
}

function compareNumbers(actual: number, op: CompareOperator, expected: number): boolean {
  switch (op) {
    case "=":
      return actual === expected;
    case "!=":
      return actual !== expected;
    case "<":
      return actual < expected;
    case ">":
      return actual > expected;
  }
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function branchQuota(state: StoreState, ops: TxnOp[]) {
  const first = ops[0];
  if (first === undefined) return null;
  const delta = emptyDelta(namespaceOf(first.key));
  for (const op of ops) {
    if (op.type === "put") addPutDelta(state, delta, op.key, op.value.length);
    if (op.type === "delete") addDeleteDelta(state, delta, op.key);
  }
  return checkQuota(state, delta);
}

export function runOp(state: StoreState, op: TxnOp, atMs: number): TxnOpResult {
  if (op.type === "put") {
    const args = {
      key: op.key,
      value: op.value,
      contentType: op.contentType,
      revision: state.revision,
      atMs,
    };
    return { type: "put", ...putKey(state, args) };
  }
  const live = liveVersion(state, op.key);
  if (op.type === "delete") {
    return {
      type: "delete",
      deleted: live === null ? null : deleteKey(state, op.key, state.revision, atMs),
    };
  }
  return live === null
    ? { type: "get", entry: null, value: null }
    : { type: "get", entry: entryOf(op.key, live), value: live.value };
}
