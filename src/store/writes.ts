// The two primitive mutations, shared by single writes and txns. They assume the caller has
// validated the input and checked preconditions and quota: here every path changes state.
import { assert } from "./assert.ts";
import { appendVersion } from "./history.ts";
import { attachKey, detachKey } from "./lease-keys.ts";
import { noteDeleted, noteRecreated } from "./retention.ts";
import { namespaceOf } from "./keys.ts";
import type { StoreState } from "./state.ts";
import { entryOf, liveKeyBytes, liveVersion, namespaceState, newestVersion } from "./state.ts";
import type { KvEntry, Revision } from "./types.ts";

export interface PutArgs {
  key: string;
  value: Uint8Array;
  contentType: string;
  revision: Revision;
  atMs: number;
  /** The lease to attach the key to (checked by the caller); none detaches it. */
  lease?: string;
}

export function putKey(
  state: StoreState,
  args: PutArgs,
): { change: "created" | "updated"; entry: KvEntry } {
  // Keys are ASCII by validation, so string order is byte order (list, snapshot, cursor rely on it).
  assert(/^[\x21-\x7e]+$/.test(args.key), `key ${args.key} is not printable ASCII`);
  const ns = namespaceState(state, namespaceOf(args.key));
  let record = ns.records.get(args.key);
  if (record === undefined) {
    record = { key: args.key, versions: [], trimmedThroughRevision: 0 };
    ns.records.set(args.key, record);
  }
  const before = record.versions.length === 0 ? null : newestVersion(record);
  const live = before !== null && !before.deleted ? before : null;
  appendVersion(state, record, {
    version: live === null ? 1 : live.version + 1,
    createRevision: live === null ? args.revision : live.createRevision,
    modRevision: args.revision,
    updatedAtMs: args.atMs,
    contentType: args.contentType,
    value: args.value,
    deleted: false,
  });
  state.liveBytes +=
    liveKeyBytes(args.key, args.value.length) -
    (live ? liveKeyBytes(args.key, live.value.length) : 0);
  ns.lastModRevision = args.revision;
  if (live === null) {
    ns.liveKeys += 1;
    ns.sortedLiveKeys = null;
    noteRecreated(state, args.key);
  }
  attachKey(state, args.key, args.lease);
  state.touchedKeys.push(record.key);
  return {
    change: live === null ? "created" : "updated",
    entry: entryOf(args.key, newestVersion(record)),
  };
}

/** Deletes a live key; returns the entry it had. */
export function deleteKey(
  state: StoreState,
  key: string,
  revision: Revision,
  atMs: number,
): KvEntry {
  const live = liveVersion(state, key);
  assert(live !== null, `delete of absent key ${key}`);
  const ns = namespaceState(state, namespaceOf(key));
  const record = ns.records.get(key)!;
  appendVersion(state, record, {
    version: 0,
    createRevision: live.createRevision,
    modRevision: revision,
    updatedAtMs: atMs,
    contentType: live.contentType,
    value: new Uint8Array(0),
    deleted: true,
  });
  state.liveBytes -= liveKeyBytes(key, live.value.length);
  ns.lastModRevision = revision;
  ns.liveKeys -= 1;
  ns.sortedLiveKeys = null;
  noteDeleted(state, key, revision);
  detachKey(state, key);
  state.touchedKeys.push(record.key);
  return entryOf(key, live);
}
