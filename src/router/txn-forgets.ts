// The forgets of parallel commits (src/store/txn-staged.ts), riding on later prepares: once a
// commit's record is settled and every participant resolved, each participant's shard may unpin
// its tombstone and mark the record done. That is one more Raft entry per participant, off the
// answer's path but not off the shard's CPU, which bounds throughput when every replica shares
// the machine (measured: docs/ARCHITECTURE.md). So the coordinator queues the forget here and
// the next prepare this isolate sends to the same namespace carries it (txnPrepare `forgets`);
// only what no prepare took within `flushMs` is sent as txnForget, from the request that queued
// it (waitUntil), so no request's I/O finishes another's.
//
// Design decision: a lost forget costs memory, never safety. A forget is queued only after the
// record is settled and every participant resolved, so whichever entry carries it, it applies
// after both; if none does (the isolate dies), the tombstone stays pinned and the record kept
// until recovery or a reshard's fence finishes the txn again and forgets it.
import type { Router } from "./types.ts";

export const txnForgetLimits = {
  /**
   * How long a queued forget waits for a prepare to carry it before it is sent alone (ms): a
   * busy router sends a prepare to the same shards within a few ms; an idle one pays the entry.
   */
  flushMs: 50,
  /** Forgets per prepare: the store's txnForgetsMax. */
  perPrepareMax: 64,
  /** Queued per namespace at most: past it the oldest is dropped (kept until recovery). */
  queuedMax: 4096,
} as const;

/** namespace -> txn ids whose forget is owed to that namespace's shard, oldest first. */
const queued = new Map<string, Set<string>>();

/** The forgets the next prepare to `namespace` carries, taken off the queue. */
export function takeForgets(namespace: string): string[] {
  const ids = queued.get(namespace);
  if (ids === undefined) return [];
  const taken = [...ids].slice(0, txnForgetLimits.perPrepareMax);
  for (const id of taken) ids.delete(id);
  if (ids.size === 0) queued.delete(namespace);
  return taken;
}

/** Owes `txnId`'s forget to each namespace's shard. */
export function queueForget(txnId: string, namespaces: string[]): void {
  for (const namespace of namespaces) {
    const ids = queued.get(namespace) ?? new Set<string>();
    queued.set(namespace, ids);
    ids.add(txnId);
    if (ids.size > txnForgetLimits.queuedMax) ids.delete(ids.values().next().value!);
  }
}

/** Sends what is still queued for `txnId` after `flushMs`, each as a txnForget of its own. */
export async function flushForget(
  router: Router,
  txnId: string,
  namespaces: string[],
  nowMs: () => number,
): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, txnForgetLimits.flushMs));
  await Promise.all(
    namespaces.map((namespace) => {
      const ids = queued.get(namespace);
      if (ids === undefined || !ids.delete(txnId)) return undefined;
      if (ids.size === 0) queued.delete(namespace);
      return router.write(namespace, { type: "txnForget", atMs: nowMs(), txnId });
    }),
  );
}
