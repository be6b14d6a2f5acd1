// Shard-wide bounds on the past, so that memory stays within budget whatever clients do:
// - historyBytesMax: versions that are no longer current are trimmed oldest-superseded first
//   (like etcd's compaction by revision, but per version), after each command;
// - deletedKeysRetainedMax: the oldest deleted keys are forgotten with their whole history.
// Both run in apply order only, so every replica trims the same versions.
import { assert } from "./assert.ts";
import { releaseAudit } from "./audit.ts";
import { historyVersionBytes, trimOldest } from "./history.ts";
import { namespaceOf } from "./keys.ts";
import type { StoreState } from "./state.ts";
import { newestVersion, recordOf } from "./state.ts";

export function enforceHistoryBudget(state: StoreState): void {
  while (state.historyBytes > state.options.historyBytesMax) {
    const entry = state.superseded.shift();
    assert(entry !== undefined, "history bytes are counted but no superseded version is queued");
    const [key, modRevision] = entry;
    const record = recordOf(state, key);
    // Versions of one key are superseded oldest first, so a live entry is its key's oldest.
    if (
      record !== undefined &&
      record.versions.length > 1 &&
      record.versions[0]!.modRevision === modRevision
    ) {
      trimOldest(state, record, 1);
    }
  }
  // Entries of versions trimmed per key or forgotten stay queued until here: keep them bounded.
  if (state.superseded.length > 2 * state.historyVersions + 64)
    state.superseded.retain(([k, r]) => isRetained(state, k, r));
}

function isRetained(state: StoreState, key: string, modRevision: number): boolean {
  return recordOf(state, key)?.versions.some((v) => v.modRevision === modRevision) ?? false;
}

/** The superseded versions still retained, oldest superseded first: what a snapshot stores. */
export function liveSuperseded(state: StoreState): [string, number][] {
  return state.superseded
    .toArray()
    .filter(([key, modRevision]) => isRetained(state, key, modRevision));
}

/** Records a deletion; forgets the oldest deleted keys beyond the bound. */
export function noteDeleted(state: StoreState, key: string, revision: number): void {
  state.deletedKeys.set(key, revision);
  state.deletedOrder.push([key, revision]);
  while (state.deletedKeys.size > state.options.deletedKeysRetainedMax) forgetOldestDeleted(state);
  if (state.deletedOrder.length > 2 * state.deletedKeys.size + 64)
    state.deletedOrder.retain(([k, r]) => state.deletedKeys.get(k) === r);
}

export function noteRecreated(state: StoreState, key: string): void {
  state.deletedKeys.delete(key); // its deletedOrder entry goes stale
}

/** Deleted keys, oldest deletion first: what a snapshot stores. */
export function liveDeleted(state: StoreState): [string, number][] {
  return state.deletedOrder.toArray().filter(([k, r]) => state.deletedKeys.get(k) === r);
}

function forgetOldestDeleted(state: StoreState): void {
  let entry = state.deletedOrder.shift();
  while (entry !== undefined && state.deletedKeys.get(entry[0]) !== entry[1])
    entry = state.deletedOrder.shift();
  assert(entry !== undefined, "deleted keys are counted but none is queued");
  const [key, revision] = entry;
  state.deletedKeys.delete(key);
  const ns = state.namespaces.get(namespaceOf(key));
  const record = ns?.records.get(key);
  assert(
    ns !== undefined && record !== undefined && newestVersion(record).deleted,
    `deleted key ${key} has no tombstone`,
  );
  for (const v of record.versions.slice(0, -1)) state.historyBytes -= historyVersionBytes(key, v);
  for (const v of record.versions) releaseAudit(state, key, v);
  state.historyVersions -= record.versions.length - 1;
  ns.records.delete(key);
  ns.forgottenThroughRevision = Math.max(ns.forgottenThroughRevision, revision);
}
