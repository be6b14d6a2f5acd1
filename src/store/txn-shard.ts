// A txn over several namespaces that the ring placed on this one shard: the single-shard txn's
// semantics (txn.ts, whose command and its meaning stay as they were) in one Raft round, the
// cheap case of a txn across namespaces. Quotas are per namespace, schemas per namespace, a
// fence's lock may be in any of them.
import { namespaceOf } from "./keys.ts";
import { storeLimits } from "./limits.ts";
import { checkFence } from "./locks.ts";
import type { StoreState } from "./state.ts";
import { liveVersion } from "./state.ts";
import { branchQuota, branchSchemas, checkParts } from "./txn-prepare.ts";
import { holds, runOp, txnIntent } from "./txn.ts";
import type { ShardTxnCommand, WriteOutcome } from "./types.ts";
import { invalid } from "./validate.ts";

export function applyShardTxn(state: StoreState, c: ShardTxnCommand): WriteOutcome {
  const count = c.compare.length + c.success.length + c.failure.length;
  if (count > storeLimits.txnOpsMax) {
    const max = storeLimits.txnOpsMax;
    const detail = `txn has ${count} compares and operations; at most ${max} are allowed`;
    return invalid(state, "txnTooLarge", detail);
  }
  const bad = checkParts(state, c) ?? shardTxnFence(state, c) ?? txnIntent(state, c);
  if (bad !== null) return bad;
  const succeeded = c.compare.every((cmp) => holds(state, cmp));
  const branch = succeeded ? c.success : c.failure;
  const refused = branchSchemas(state, branch) ?? branchQuota(state, branch);
  if (refused !== null) return refused;
  const changes = branch.some(
    (op) => op.type === "put" || (op.type === "delete" && liveVersion(state, op.key) !== null),
  );
  if (changes) state.revision += 1;
  const results = branch.map((op) => runOp(state, op, c.atMs));
  return { type: "txn", revision: state.revision, succeeded, results };
}

function shardTxnFence(state: StoreState, c: ShardTxnCommand): WriteOutcome | null {
  if (c.fence === undefined) return null;
  const namespaces = new Set(
    [...c.compare, ...c.success, ...c.failure].map((x) => namespaceOf(x.key)),
  );
  const lockNamespace = namespaceOf(c.fence.lock);
  if (!namespaces.has(lockNamespace))
    return invalid(
      state,
      "crossNamespace",
      `fence ${c.fence.lock} is in none of the txn's namespaces`,
    );
  return checkFence(state, c.fence, lockNamespace);
}
