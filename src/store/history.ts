// Per-key history: every put and delete appends a version (deletes as tombstones); the oldest
// are trimmed beyond `historyVersionsPerKey` (here) or `historyBytesMax` shard-wide, and deleted
// keys are forgotten beyond `deletedKeysRetainedMax` (both in retention.ts). Each leaves a mark
// (trimmedThroughRevision, forgottenThroughRevision) so a read that needs what was dropped
// answers `compacted` instead of a wrong value.
import { assert } from "./assert.ts";
import { auditBytes, releaseAudit } from "./audit.ts";
import { namespaceOf } from "./keys.ts";
import type { KeyRecord, StoreState, Version } from "./state.ts";
import { recordOf } from "./state.ts";

/** Bytes a version that is no longer current holds against historyBytesMax (its audit too). */
export function historyVersionBytes(key: string, v: Version): number {
  return key.length + v.value.length + (v.audit === undefined ? 0 : auditBytes(v.audit));
}

export function appendVersion(state: StoreState, record: KeyRecord, v: Version): void {
  const previous = record.versions[record.versions.length - 1];
  assert(
    previous === undefined || previous.modRevision < v.modRevision,
    `history of ${record.key} goes back in time`,
  );
  record.versions.push(v);
  if (previous !== undefined) {
    state.historyBytes += historyVersionBytes(record.key, previous);
    state.historyVersions += 1;
    state.superseded.push([record.key, previous.modRevision]);
  }
  const excess = record.versions.length - state.options.historyVersionsPerKey;
  if (excess > 0) trimOldest(state, record, excess);
}

/** Drops the `count` oldest versions of a key; never the current one. */
export function trimOldest(state: StoreState, record: KeyRecord, count: number): void {
  assert(count < record.versions.length, `trim of ${record.key} would drop its current version`);
  const trimmed = record.versions.splice(0, count);
  for (const v of trimmed) {
    state.historyBytes -= historyVersionBytes(record.key, v);
    releaseAudit(state, record.key, v);
  }
  state.historyVersions -= trimmed.length;
  record.trimmedThroughRevision = trimmed[trimmed.length - 1]!.modRevision;
}

export type VersionAt =
  | { type: "version"; version: Version }
  | { type: "absent" }
  | { type: "compacted" };

/** The state of a key at `revision` (≤ the store's revision). */
export function versionAt(state: StoreState, key: string, revision: number): VersionAt {
  const record = recordOf(state, key);
  const versions = record?.versions ?? [];
  for (let i = versions.length - 1; i >= 0; i--) {
    const v = versions[i]!;
    if (v.modRevision <= revision)
      return v.deleted ? { type: "absent" } : { type: "version", version: v };
  }
  // Nothing retained at or before `revision`: the key was absent then, unless that part of its
  // history (or the whole key, after a delete) was dropped.
  const trimmed = (record?.trimmedThroughRevision ?? 0) > 0;
  const forgotten = state.namespaces.get(namespaceOf(key))?.forgottenThroughRevision ?? 0;
  if (trimmed || revision < forgotten) return { type: "compacted" };
  return { type: "absent" };
}
