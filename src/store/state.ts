// The in-memory state of one shard's state machine, and the helpers that keep its derived
// counters (live bytes, live keys per namespace) in step with it.
//
// Design decision (lead): the state machine is held in memory and is deterministic. Durability
// comes from the Raft log plus periodic snapshots (snapshot.ts) persisted by the replica; a
// replica restarts from its latest snapshot and replays the log after it. Hence byte budgets on
// live data, history and idempotency records (limits.ts): a shard must fit in a Durable Object.
import { assert } from "./assert.ts";
import { Fifo } from "./fifo.ts";
import type { CompiledSchema } from "./schema-compile.ts";
import type {
  AuditActor,
  ClusterTopology,
  KvEntry,
  NamespaceSettings,
  CommandAudit,
  Revision,
  SchemaRule,
  TxnBranch,
  TxnCompare,
  TxnOp,
  TxnOpResult,
  StoreOptions,
  TokenRecord,
  WriteOutcome,
} from "./types.ts";

/** One retained point of a key's history; the newest one is the key's current state. */
export interface Version {
  /** Writes since the life began (1 on create); 0 for a tombstone. */
  version: number;
  createRevision: Revision;
  modRevision: Revision;
  updatedAtMs: number;
  contentType: string;
  /** Empty for a tombstone. Shared, never mutated. */
  value: Uint8Array;
  deleted: boolean;
  /** The record of the revision that wrote it (audit.ts); shared by a txn's versions. */
  audit?: AuditRecord;
}

/** Who made one revision and why (audit.ts). Immutable but for `retained`. */
export interface AuditRecord {
  revision: Revision;
  atMs: number;
  op: string;
  /** The keys it wrote (the KeyRecords' own strings, so no copy is held). */
  keys: string[];
  actor: AuditActor | undefined;
  reason: string | undefined;
  requestId: string | undefined;
  /**
   * Retained versions that point at it; 0: dropped with the last of them. A `_sys` record (no
   * keys) holds 1 while it is among the latest auditSystemRecordsMax.
   */
  retained: number;
}

/** One namespace's (or `_sys`'s) audit records, oldest first; dropped ones leave lazily. */
export interface AuditLog {
  records: AuditRecord[];
  /** Records in `records` with retained 0, awaiting compaction. */
  dropped: number;
}

export interface KeyRecord {
  key: string;
  /** Oldest first, never empty, modRevision strictly increasing. */
  versions: Version[];
  /** modRevision of the newest version trimmed away; 0 when nothing was trimmed. */
  trimmedThroughRevision: Revision;
}

export interface NamespaceState {
  /** Every key of the namespace with retained history, live or deleted. */
  records: Map<string, KeyRecord>;
  liveKeys: number;
  /** Last put or delete in the namespace: the bundle's ETag source; never decreases. */
  lastModRevision: Revision;
  /** Max tombstone revision of a forgotten key: reads at older revisions may be incomplete. */
  forgottenThroughRevision: Revision;
  /** Live keys in byte order; derived, rebuilt lazily after a create or delete. */
  sortedLiveKeys: string[] | null;
}

export interface IdempotencyRecord {
  idempotencyKey: string;
  /** The store clock (max atMs applied) when the record was made: monotonic, so ages sort. */
  recordedAtMs: number;
  /** Hash of the command without atMs and idempotencyKey: detects a reused key. */
  fingerprint: string;
  outcome: WriteOutcome;
  /** Bytes of values the outcome holds (txn gets); derived. */
  valueBytes: number;
}

export interface StoreState {
  options: StoreOptions;
  appliedIndex: number;
  revision: Revision;
  /** Max atMs of every command applied: time only moves forward, whatever the proposers' clocks. */
  clockMs: number;
  /** Σ (key bytes + value bytes) over live keys; derived. */
  liveBytes: number;
  /** Σ (key bytes + value bytes) over retained versions that are no longer current; derived. */
  historyBytes: number;
  /** Number of retained versions that are no longer current; derived. */
  historyVersions: number;
  /**
   * [key, modRevision] of versions in the order they stopped being current: the order in which
   * historyBytesMax trims them. Entries already trimmed otherwise are skipped lazily (retention.ts).
   */
  superseded: Fifo<[string, Revision]>;
  namespaces: Map<string, NamespaceState>;
  /** Deleted keys and the revision of their delete. */
  deletedKeys: Map<string, Revision>;
  /** [key, revision] in order of deletion: the first is forgotten first. Lazily pruned of keys since re-created. */
  deletedOrder: Fifo<[string, Revision]>;
  idempotency: Map<string, IdempotencyRecord>;
  /** The same records in apply order, which is also recordedAtMs order: oldest evicted first. */
  idempotencyOrder: Fifo<IdempotencyRecord>;
  /** Σ valueBytes over idempotency records; derived. */
  idempotencyValueBytes: number;
  tokens: Map<string, TokenRecord>;
  tokenIdsByHash: Map<string, string>;
  /** Only namespaces that differ from the default (publicRead false) are present. */
  namespaceSettings: Map<string, NamespaceSettings>;
  /** The cluster directory (shard 0 keeps it; null elsewhere and before the first start). */
  cluster: ClusterTopology | null;
  /** Schemas by namespace (schemas.ts); only namespaces that have some are present. */
  schemas: Map<string, SchemaState>;
  /** Live leases by id (leases.ts); an ended lease is forgotten at once. */
  leases: Map<string, LeaseRecord>;
  /** key -> id of the lease it is attached to; derived from the leases' key sets. */
  keyLeases: Map<string, string>;
  /** The number in the next lease id: ids are never reused within a shard. */
  nextLease: number;
  /** Locks held (a free lock has no record: its next token is a later revision anyway). */
  locks: Map<string, LockRecord>;
  /** Audit records by namespace (and `_sys`), for the revisions made since audit existed. */
  audit: Map<string, AuditLog>;
  /** Scratch of the command being applied: keys it wrote (writes.ts). Empty between commands. */
  touchedKeys: string[];
  /** Cross-shard txns prepared here and not yet resolved, by txn id (txn-prepare.ts). */
  prepared: Map<string, PreparedTxn>;
  /** key -> the intent a prepared txn holds on it; derived from `prepared`. */
  intents: Map<string, IntentRecord>;
  /** Txns resolved here, in resolve order, kept until the store clock reaches their deadline. */
  resolved: Map<string, ResolvedTxn>;
  /** Transaction records this shard keeps, in decision order (txn-record.ts). */
  txnRecords: Map<string, TxnRecordState>;
  /** Namespaces moving or moved away (moves.ts): their writes answer `moved`. */
  fences: Map<string, NamespaceFence>;
  /** Namespaces being imported here (moves.ts): their writes answer `moving` until activated. */
  incoming: Map<string, IncomingNamespace>;
  /** The ring this shard is leaving, once a reshard fenced it (moves-ring.ts); null before. */
  ringFence: RingFence | null;
}

/** One participant's part of a cross-shard txn, as its txnPrepare left it. */
export interface PreparedTxn {
  txnId: string;
  compare: TxnCompare[];
  success: TxnOp[];
  failure: TxnOp[];
  recordNamespace: string;
  participants: string[];
  deadlineMs: number;
  /** Whether this part's compares held at prepare (the intents keep it so until resolve). */
  held: boolean;
  /** The prepare's audit: the revision its commit makes is recorded as the txn's. */
  audit: CommandAudit | undefined;
  /** A parallel commit's part (txnPrepare `staging`): its commit tombstone is pinned. */
  staged?: true;
}

export interface IntentRecord {
  txnId: string;
  write: boolean;
}

export interface ResolvedTxn {
  txnId: string;
  decision: "commit" | "abort";
  committedRevision: Revision;
  results: TxnOpResult[];
  deadlineMs: number;
  /**
   * A parallel commit's commit, until txnForget: while its record may still be STAGING, this
   * tombstone is the proof that this part was prepared (recovery's probe reads it), so it is not
   * pruned at the deadline (txn-staged.ts). The branch that ran, for recovery's commit; the
   * txn's record and participants and this part's namespaces, for a reshard (moves-fence.ts).
   */
  pin?: TxnPin;
}

export interface TxnPin {
  branch: TxnBranch;
  recordNamespace: string;
  participants: string[];
  namespaces: string[];
}

export interface TxnRecordState {
  txnId: string;
  /** staging: a parallel commit's record, written by its prepare, not decided yet. */
  decision: "commit" | "abort" | "staging";
  branch: TxnBranch | undefined;
  deadlineMs: number;
  /** Every participant resolved (txnRecordForget): dropped once the clock reaches the deadline. */
  done: boolean;
  /** Where the record lives, and whom to resolve (TxnRecordDecideCommand). */
  recordNamespace: string;
  participants: string[];
  /** A keyed STAGING record's Idempotency-Key: its settle updates the key record (txn-keyed.ts). */
  idempotencyKey?: string;
}

export interface IncomingNamespace {
  /** The source revision of the newest meta installed: an older chunk's meta is ignored. */
  metaAtRevision: Revision;
}

/** Where a fenced namespace goes: `shard` of the ring of `epoch`. */
export interface NamespaceFence {
  epoch: number;
  shard: number;
  /** The namespace belongs to `shard` now: reads are redirected too, the data may be dropped. */
  flipped: boolean;
}

/** The ring a shard is leaving: the new ring's size, this shard's index, the reshard's epoch. */
export interface RingFence {
  epoch: number;
  shardCount: number;
  shard: number;
}

export interface SchemaState {
  /** The revision of the schemaSet that put these rules in force. */
  revision: Revision;
  /** By prefix, ascending. */
  rules: SchemaRule[];
  /**
   * Derived: each rule compiled (or why its schema no longer compiles), built on the first write
   * after a restore and then kept until the next schemaSet: once per settings revision.
   */
  compiled: (CompiledSchema | string)[] | null;
}

export interface LeaseRecord {
  id: string;
  namespace: string;
  ttlMs: number;
  expiresAtMs: number;
  keys: Set<string>;
  /** Locks it holds or waits for. */
  locks: Set<string>;
}

export interface LockRecord {
  lock: string;
  holder: { lease: string; fencingToken: number; acquiredAtMs: number };
  /** Lease ids, first come first served; never the holder. */
  waiters: string[];
}

export function emptyState(options: StoreOptions): StoreState {
  return {
    options,
    appliedIndex: 0,
    revision: 0,
    clockMs: 0,
    liveBytes: 0,
    historyBytes: 0,
    historyVersions: 0,
    superseded: new Fifo(),
    namespaces: new Map(),
    deletedKeys: new Map(),
    deletedOrder: new Fifo(),
    idempotency: new Map(),
    idempotencyOrder: new Fifo(),
    idempotencyValueBytes: 0,
    tokens: new Map(),
    tokenIdsByHash: new Map(),
    namespaceSettings: new Map(),
    cluster: null,
    schemas: new Map(),
    leases: new Map(),
    keyLeases: new Map(),
    nextLease: 1,
    locks: new Map(),
    audit: new Map(),
    touchedKeys: [],
    prepared: new Map(),
    intents: new Map(),
    resolved: new Map(),
    txnRecords: new Map(),
    fences: new Map(),
    incoming: new Map(),
    ringFence: null,
  };
}

export function namespaceState(state: StoreState, namespace: string): NamespaceState {
  let ns = state.namespaces.get(namespace);
  if (ns === undefined) {
    ns = {
      records: new Map(),
      liveKeys: 0,
      lastModRevision: 0,
      forgottenThroughRevision: 0,
      sortedLiveKeys: null,
    };
    state.namespaces.set(namespace, ns);
  }
  return ns;
}

export function recordOf(state: StoreState, key: string): KeyRecord | undefined {
  const slash = key.indexOf("/");
  return state.namespaces.get(key.slice(0, slash))?.records.get(key);
}

export function newestVersion(record: KeyRecord): Version {
  const newest = record.versions[record.versions.length - 1];
  assert(newest !== undefined, `key ${record.key} has an empty history`);
  return newest;
}

export function entryOf(key: string, v: Version): KvEntry {
  assert(!v.deleted, "a tombstone has no entry");
  return {
    key,
    contentType: v.contentType,
    size: v.value.length,
    version: v.version,
    createRevision: v.createRevision,
    modRevision: v.modRevision,
    updatedAtMs: v.updatedAtMs,
  };
}

/** The live version of a key, or null when it is absent (never written, deleted, forgotten). */
export function liveVersion(state: StoreState, key: string): Version | null {
  const record = recordOf(state, key);
  if (record === undefined) return null;
  const v = newestVersion(record);
  return v.deleted ? null : v;
}

export function liveEntry(state: StoreState, key: string): KvEntry | null {
  const v = liveVersion(state, key);
  return v === null ? null : entryOf(key, v);
}

/** Bytes a live key holds against the shard quota. */
export function liveKeyBytes(key: string, valueBytes: number): number {
  return key.length + valueBytes;
}
