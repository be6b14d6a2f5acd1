// Dry runs (http-api.md "Safe publishing"): what a write would do, computed by the code that
// applies it, on a throwaway fork of the state, so every check the write meets at commit (keys,
// preconditions, fences, quotas, whatever guards values) is met here too and nothing can drift.
// The fork copies what a write may change: every top-level container, the records of the
// namespaces the command names and their leases. Retention is switched off in the fork (it
// never changes a write's outcome, only how much of the past is kept), so forgetting a deleted
// key of another namespace cannot reach the real state. A dry run records no idempotency key and
// consumes no revision; test/store/dry-run.test.ts checks the real state's snapshot is unchanged.
import { Fifo } from "./fifo.ts";
import { execute } from "./execute.ts";
import { namespaceOf } from "./keys.ts";
import { movedOutcome } from "./moves-fence.ts";
import type { NamespaceState, StoreState } from "./state.ts";
import { liveVersion } from "./state.ts";
import type {
  KvCommand,
  Key,
  NamespaceWriteCommand,
  Revision,
  ShardTxnCommand,
  WriteOutcome,
} from "./types.ts";

/**
 * The writes that can be dry-run: they change keys of one namespace, or (shardTxn) of the
 * namespaces of one shard: one part of a txn across shards (src/api/routes/txn-dry-run.ts).
 */
export type DryRunCommand = KvCommand | NamespaceWriteCommand | ShardTxnCommand;

/** A value as it was or would be. */
export interface DiffValue {
  contentType: string;
  value: Uint8Array;
}

export interface DiffItem {
  key: Key;
  change: "create" | "update" | "delete";
  before?: DiffValue;
  after?: DiffValue;
}

export interface DryRunResult {
  /** The revision of the state the dry run started from. */
  revision: Revision;
  /** The last modRevision of the command's (first) namespace in that state: its bundle ETag. */
  namespaceRevision: Revision;
  /** The same for each namespace the command names. */
  namespaceRevisions: Record<string, Revision>;
  /** What applying the command would have answered. */
  outcome: WriteOutcome;
  /** The keys it would change, in key order. */
  diff: DiffItem[];
}

export function dryRun(state: StoreState, command: DryRunCommand): DryRunResult {
  const namespaces = namespacesOf(command);
  const fork = forkState(state, namespaces);
  const { idempotencyKey: _, ...once } = command;
  fork.clockMs = Math.max(fork.clockMs, command.atMs);
  const outcome = movedOutcome(state, command) ?? execute(fork, once as DryRunCommand);
  return {
    revision: state.revision,
    namespaceRevision: state.namespaces.get(namespaces[0] ?? "")?.lastModRevision ?? 0,
    namespaceRevisions: Object.fromEntries(
      namespaces.map((n) => [n, state.namespaces.get(n)?.lastModRevision ?? 0]),
    ),
    outcome,
    diff: diffOf(state, fork, namespaces),
  };
}

function namespacesOf(c: DryRunCommand): string[] {
  switch (c.type) {
    case "put":
    case "delete":
      return [namespaceOf(c.key)];
    case "txn":
    case "shardTxn":
      return [
        ...new Set([...c.compare, ...c.success, ...c.failure].map((x) => namespaceOf(x.key))),
      ];
    default:
      return [c.namespace];
  }
}

const unbounded = Number.MAX_SAFE_INTEGER;

function forkState(state: StoreState, namespaces: string[]): StoreState {
  const fork = { ...state } as unknown as Record<string, unknown>;
  for (const [name, v] of Object.entries(state)) {
    if (v instanceof Map) fork[name] = new Map(v);
    else if (v instanceof Set) fork[name] = new Set(v);
    else if (v instanceof Fifo) fork[name] = new Fifo(v.toArray());
    else if (Array.isArray(v)) fork[name] = [...v];
  }
  const f = fork as unknown as StoreState;
  f.options = {
    ...state.options,
    historyVersionsPerKey: unbounded,
    historyBytesMax: unbounded,
    deletedKeysRetainedMax: unbounded,
  };
  for (const name of namespaces) {
    const ns = state.namespaces.get(name);
    if (ns !== undefined) f.namespaces.set(name, forkNamespace(ns));
  }
  for (const [id, lease] of state.leases) {
    if (namespaces.includes(lease.namespace))
      f.leases.set(id, { ...lease, keys: new Set(lease.keys), locks: new Set(lease.locks) });
  }
  return f;
}

function forkNamespace(ns: NamespaceState): NamespaceState {
  const records = new Map();
  for (const [key, r] of ns.records) records.set(key, { ...r, versions: [...r.versions] });
  return { ...ns, records, sortedLiveKeys: null };
}

/** Keys of the namespaces whose newest version in `after` is newer than `before`'s revision. */
function diffOf(before: StoreState, after: StoreState, namespaces: string[]): DiffItem[] {
  const diff: DiffItem[] = [];
  if (after.revision === before.revision) return diff;
  for (const name of namespaces) {
    for (const [key, record] of after.namespaces.get(name)?.records ?? []) {
      const newest = record.versions[record.versions.length - 1]!;
      if (newest.modRevision <= before.revision) continue;
      const was = liveVersion(before, key);
      const is = newest.deleted ? null : newest;
      if (was === null && is === null) continue;
      const item: DiffItem = {
        key,
        change: was === null ? "create" : is === null ? "delete" : "update",
      };
      if (was !== null) item.before = { contentType: was.contentType, value: was.value };
      if (is !== null) item.after = { contentType: is.contentType, value: is.value };
      diff.push(item);
    }
  }
  return diff.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
