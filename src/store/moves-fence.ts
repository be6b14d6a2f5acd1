// The source and target gates of a namespace move (moves.ts has the copy): a fence on the source
// stops the namespace's writes (`moved`), then flips it (its reads go too, and its data may be
// dropped); on the target the namespace is `incoming` from its first chunk until activated, so
// that no write lands there before the last chunk. The order of the steps (fence, last pass,
// flip, activate, drop) is the reshard driver's (src/router/reshard-steps.ts).
import { validateNamespace, namespaceOf } from "./keys.ts";
import { intentOutcome } from "./intents.ts";
import { dropCoordination, unfileRecord } from "./moves.ts";
import { ringRedirect } from "./moves-ring.ts";
import { pruneRecords } from "./txn-record.ts";
import type { StoreState } from "./state.ts";
import type * as t from "./types.ts";
import { invalid } from "./validate.ts";

export function applyNamespaceFence(state: StoreState, c: t.NamespaceFenceCommand): t.WriteOutcome {
  const error =
    validateNamespace(c.namespace) ??
    (Number.isSafeInteger(c.epoch) && c.epoch >= 1 && Number.isSafeInteger(c.shard) && c.shard >= 0
      ? null
      : `a fence needs a ring epoch >= 1 and a shard >= 0, got ${c.epoch} and ${c.shard}`);
  if (error !== null) return invalid(state, "namespace", error);
  const before = state.fences.get(c.namespace);
  // Once fenced, no txn can prepare in the namespace or record a decision in it here any more.
  const busy = before === undefined ? txnInTheWay(state, c.namespace) : null;
  if (busy !== null) return busy;
  // Once flipped, always flipped: a late retry of the fence step cannot reopen reads.
  const flipped = c.flipped === true || before?.flipped === true;
  state.fences.set(c.namespace, { epoch: c.epoch, shard: c.shard, flipped });
  return {
    type: "namespaceMove",
    revision: state.revision,
    step: flipped ? "flipped" : "fenced",
    namespace: c.namespace,
    keys: 0,
  };
}

export function applyNamespaceDrop(state: StoreState, c: t.NamespaceDropCommand): t.WriteOutcome {
  if (state.fences.get(c.namespace)?.flipped !== true) {
    const detail =
      `namespace ${c.namespace} is not flipped here: ` +
      "fence it, copy it and flip it before dropping it";
    return invalid(state, "namespace", detail);
  }
  const ns = state.namespaces.get(c.namespace);
  const records = [...(ns?.records.values() ?? [])];
  for (const record of records) unfileRecord(state, ns!, record);
  state.namespaces.delete(c.namespace);
  state.audit.delete(c.namespace);
  state.schemas.delete(c.namespace);
  dropCoordination(state, c.namespace);
  const keys = records.length;
  return {
    type: "namespaceMove",
    revision: state.revision,
    step: "dropped",
    namespace: c.namespace,
    keys,
  };
}

export function applyNamespaceActivate(
  state: StoreState,
  c: t.NamespaceActivateCommand,
): t.WriteOutcome {
  if (!state.incoming.has(c.namespace) && state.fences.has(c.namespace)) {
    const detail = `namespace ${c.namespace} was not imported here: it cannot be activated`;
    return invalid(state, "namespace", detail);
  }
  state.incoming.delete(c.namespace);
  if (Number.isSafeInteger(c.atRevision)) state.revision = Math.max(state.revision, c.atRevision);
  const keys = state.namespaces.get(c.namespace)?.records.size ?? 0;
  return {
    type: "namespaceMove",
    revision: state.revision,
    step: "activated",
    namespace: c.namespace,
    keys,
  };
}

/**
 * A cross-shard txn that must end before `namespace` may be fenced, as an `intent` outcome the
 * driver waits out or finishes (recoverIntent): one holding an intent on a key of it (its commit
 * must land here before the last copy), or one whose record it keeps (whoever meets the txn's
 * intents looks the record up by this namespace, on the shard that owns it: a record left
 * behind would read as absent, that is abort, after a commit). The intent of a record names
 * the namespace as its key. Records of ended txns are dropped at their deadline first.
 */
function txnInTheWay(state: StoreState, namespace: string): t.IntentOutcome | null {
  for (const key of state.intents.keys())
    if (namespaceOf(key) === namespace) return intentOutcome(state, key, false);
  pruneRecords(state);
  for (const r of state.txnRecords.values()) {
    if (r.recordNamespace !== namespace) continue;
    const { txnId, deadlineMs, recordNamespace } = r;
    const participants = [...r.participants];
    const intent = {
      key: namespace,
      txnId,
      write: true,
      deadlineMs,
      recordNamespace,
      participants,
    };
    return { type: "intent", revision: state.revision, intent };
  }
  return pinnedInTheWay(state, namespace);
}

/**
 * A parallel commit's pinned tombstone on the namespace (txn-staged.ts): recovery may still probe
 * it here while the record is STAGING, so the namespace waits for txnForget (or recovery).
 */
function pinnedInTheWay(state: StoreState, namespace: string): t.IntentOutcome | null {
  for (const r of state.resolved.values()) {
    if (r.pin === undefined || !r.pin.namespaces.includes(namespace)) continue;
    const { recordNamespace, participants } = r.pin;
    const intent = {
      key: namespace,
      txnId: r.txnId,
      write: true,
      deadlineMs: r.deadlineMs,
      recordNamespace,
      participants: [...participants],
    };
    return { type: "intent", revision: state.revision, intent };
  }
  return null;
}

/** Namespaces a command writes (for the fence); empty for commands of no namespace. */
export function commandNamespaces(c: t.Command): string[] {
  switch (c.type) {
    case "put":
    case "delete":
      return [namespaceOf(c.key)];
    case "txn":
    case "shardTxn":
    case "txnPrepare":
      return [
        ...new Set([...c.compare, ...c.success, ...c.failure].map((x) => namespaceOf(x.key))),
      ];
    case "txnRecordDecide":
    case "txnRecordSettle":
      return [c.recordNamespace];
    case "namespaceApply":
    case "namespaceRollback":
    case "schemaSet":
    case "leaseGrant":
      return [c.namespace];
    case "leaseKeepAlive":
    case "leaseRevoke":
    case "leaseExpire":
      return [c.id.slice(0, Math.max(0, c.id.indexOf("~")))];
    case "lockAcquire":
    case "lockWithdraw":
    case "lockRelease":
      return [namespaceOf(c.lock)];
    default:
      return [];
  }
}

/**
 * `moved` when the command writes a namespace fenced here, `moving` when it writes one still
 * being imported; null otherwise (at once when no namespace is either).
 */
export function movedOutcome(
  state: StoreState,
  c: t.Command,
): t.MovedOutcome | t.MovingOutcome | null {
  if (!anyGate(state)) return null;
  for (const namespace of commandNamespaces(c)) {
    if (state.incoming.has(namespace))
      return { type: "moving", revision: state.revision, namespace };
    const fence = state.fences.get(namespace);
    const away = fence ?? ringRedirect(state, namespace);
    if (away !== null) {
      const { epoch, shard } = away;
      const moved = { type: "moved" as const, revision: state.revision, namespace, epoch, shard };
      return fence === undefined || fence.flipped ? { ...moved, flipped: true } : moved;
    }
  }
  return null;
}

/** Whether any namespace moves here or away, or a ring fence stands: false for most shards. */
export function anyGate(state: StoreState): boolean {
  return state.fences.size > 0 || state.incoming.size > 0 || state.ringFence !== null;
}
