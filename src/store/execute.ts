// What each command does to the state: the one dispatch from a command's type to the code that
// applies it, shared by Store.apply (through idempotency) and dry runs (dry-run.ts).
import { applyClusterSet } from "./cluster.ts";
import { applyDelete, applyPut } from "./kv.ts";
import * as leases from "./leases.ts";
import * as locks from "./locks.ts";
import { applyNamespaceImport } from "./moves.ts";
import { applyNamespaceActivate, applyNamespaceDrop, applyNamespaceFence } from "./moves-fence.ts";
import { applyRingFence } from "./moves-ring.ts";
import { applyNamespaceApply, applyNamespaceRollback } from "./namespace-writes.ts";
import type { StoreState } from "./state.ts";
import { applySchemaSet } from "./schemas.ts";
import { applyNamespaceSet, applyTokenCreate, applyTokenRevoke } from "./system.ts";
import { applyTxn } from "./txn.ts";
import { applyTxnPrepare, applyTxnResolve } from "./txn-prepare.ts";
import { applyTxnForget, applyTxnProbe, applyTxnRecordSettle } from "./txn-staged.ts";
import { applyTxnRecordDecide, applyTxnRecordForget } from "./txn-record.ts";
import { applyShardTxn } from "./txn-shard.ts";
import type * as t from "./types.ts";

export function execute(state: StoreState, c: t.Command): t.WriteOutcome {
  switch (c.type) {
    case "put":
      return applyPut(state, c);
    case "delete":
      return applyDelete(state, c);
    case "txn":
      return applyTxn(state, c);
    case "tokenCreate":
      return applyTokenCreate(state, c);
    case "tokenRevoke":
      return applyTokenRevoke(state, c);
    case "namespaceSet":
      return applyNamespaceSet(state, c);
    case "clusterSet":
      return applyClusterSet(state, c);
    case "schemaSet":
      return applySchemaSet(state, c);
    case "namespaceApply":
      return applyNamespaceApply(state, c);
    case "namespaceRollback":
      return applyNamespaceRollback(state, c);
    case "txnPrepare":
      return applyTxnPrepare(state, c);
    case "txnResolve":
      return applyTxnResolve(state, c);
    case "txnRecordDecide":
      return applyTxnRecordDecide(state, c);
    case "txnRecordForget":
      return applyTxnRecordForget(state, c);
    case "txnProbe":
      return applyTxnProbe(state, c);
    case "txnRecordSettle":
      return applyTxnRecordSettle(state, c);
    case "txnForget":
      return applyTxnForget(state, c);
    case "shardTxn":
      return applyShardTxn(state, c);
    case "namespaceImport":
      return applyNamespaceImport(state, c);
    case "namespaceFence":
      return applyNamespaceFence(state, c);
    case "namespaceDrop":
      return applyNamespaceDrop(state, c);
    case "namespaceActivate":
      return applyNamespaceActivate(state, c);
    case "ringFence":
      return applyRingFence(state, c);
    default:
      return executeCoordination(state, c);
  }
}

function executeCoordination(state: StoreState, c: t.CoordinationCommand): t.WriteOutcome {
  switch (c.type) {
    case "leaseGrant":
      return leases.applyLeaseGrant(state, c);
    case "leaseKeepAlive":
      return leases.applyLeaseKeepAlive(state, c);
    case "leaseRevoke":
      return leases.applyLeaseRevoke(state, c);
    case "leaseExpire":
      return leases.applyLeaseExpire(state, c);
    case "leasesExtend":
      return leases.applyLeasesExtend(state, c);
    case "lockAcquire":
      return locks.applyLockAcquire(state, c);
    case "lockWithdraw":
      return locks.applyLockWithdraw(state, c);
    case "lockRelease":
      return locks.applyLockRelease(state, c);
  }
}
