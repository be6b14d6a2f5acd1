// The vocabulary of the replicated state machine: commands (every write goes through Raft as one
// of these), write outcomes, queries and their results. Nothing here does I/O.
//
// Conventions:
// - A key is "{namespace}/{name}" (see keys.ts); keys are ASCII, compared as bytes.
// - Revisions are shard-wide counters starting at 1; 0 means "never" (e.g. modRevision of an
//   absent key in a txn compare, as in etcd).
// - Times are milliseconds since the Unix epoch, stamped by the proposer into the command
//   (`atMs`): the state machine never reads a clock, so every replica computes the same state.
// - Every result carries `revision`: the shard revision of the state that answered. The API
//   turns it into the X-Edgecfg-Revision consistency token.
// This file is a contract with src/api and src/replica: add to it, never rename.

export type Revision = number;
/** "{namespace}/{name}", validated by `validateKey`. */
export type Key = string;

// ---------------------------------------------------------------------------------------------
// Entries

/** Metadata of one live version of a key (the JSON body of `?meta`, PUT responses and 412s). */
export interface KvEntry {
  key: Key;
  contentType: string;
  /** Value length in bytes. */
  size: number;
  /** Writes since this life of the key began: 1 on create. */
  version: number;
  createRevision: Revision;
  /** The ETag: never repeats for a key, even across delete and re-create. */
  modRevision: Revision;
  updatedAtMs: number;
}

// ---------------------------------------------------------------------------------------------
// Commands (proposed through Raft, encoded by codec.ts)

interface CommandBase {
  /** The proposer's clock when it proposed; the only source of time for the state machine. */
  atMs: number;
  /** Client-chosen id: a retry with the same key returns the first outcome, deduplicated. */
  idempotencyKey?: string;
  /** Who asked and why (audit.ts records it with the revision); absent in entries older than it. */
  audit?: CommandAudit;
}

/**
 * Who made a revision (http-api.md "Audit"). "system": the store itself, for a revision no
 * request made (a lease that expired), which the contract's admin | token cannot describe.
 */
export interface AuditActor {
  kind: "admin" | "token" | "system";
  /** The token's id (kind "token"). */
  id?: string;
  /** The token's name, as minted (kind "token"), copied so it outlives the token. */
  name?: string;
}

/** What a write says about itself; the API sets it from the request (src/api/audit.ts). */
export interface CommandAudit {
  actor?: AuditActor;
  /** X-Edgecfg-Reason: at most storeLimits.auditReasonBytesMax UTF-8 bytes. */
  reason?: string;
  /** The request's X-Request-Id: at most storeLimits.auditRequestIdBytesMax bytes. */
  requestId?: string;
}

/** Preconditions of a PUT; at most one of the two may be set. */
export interface PutPreconditions {
  /** Compare-and-set: apply only when the key is live with this modRevision. */
  ifMatch?: Revision;
  /** Create-only: apply only when the key is absent. */
  ifNoneMatch?: "*";
}

/**
 * A fenced write (X-Edgecfg-Fence): applied only if `lock` ("{namespace}/{name}", the same
 * namespace as the keys written on this shard) is held with `token` at commit.
 */
export interface Fence {
  lock: Key;
  token: number;
}

/**
 * Set only by the leader replica as it proposes (Store.vouch), never by the API: the revision of
 * the namespace's schemas that every value of the command was found to satisfy. At apply, when
 * the schemas in force are still that revision, the verdict holds (it depends only on the value
 * and the schemas) and no replica validates again; otherwise each one does.
 */
export interface SchemasVouched {
  schemasVouched?: Revision;
}

export interface PutCommand extends CommandBase, PutPreconditions, SchemasVouched {
  type: "put";
  key: Key;
  value: Uint8Array;
  contentType: string;
  /** Attach the key to this lease (same namespace); a put without one detaches it (as etcd). */
  lease?: string;
  fence?: Fence;
}

export interface DeleteCommand extends CommandBase {
  type: "delete";
  key: Key;
  ifMatch?: Revision;
  fence?: Fence;
}

export type CompareOperator = "=" | "!=" | "<" | ">";

/**
 * One comparison of an etcd-style txn, evaluated against the state before the txn.
 * An absent key has modRevision 0, version 0 and exists false; a value compare on an absent key
 * is false whatever the operator (as in etcd).
 */
export type TxnCompare =
  | { key: Key; target: "modRevision"; op: CompareOperator; value: Revision }
  | { key: Key; target: "version"; op: CompareOperator; value: number }
  | { key: Key; target: "exists"; op: "=" | "!="; value: boolean }
  | { key: Key; target: "value"; op: "=" | "!="; value: Uint8Array };

/** Operations of a txn branch run in order; a `get` sees the writes before it in its branch. */
export type TxnOp =
  | { type: "put"; key: Key; value: Uint8Array; contentType: string }
  | { type: "delete"; key: Key }
  | { type: "get"; key: Key };

export interface TxnCommand extends CommandBase, SchemasVouched {
  type: "txn";
  compare: TxnCompare[];
  success: TxnOp[];
  failure: TxnOp[];
  fence?: Fence;
}

/** One entry of a declarative apply: what the name must hold. */
export interface ApplyEntry {
  /** The key without "{namespace}/". */
  name: string;
  value: Uint8Array;
  contentType: string;
}

/**
 * Declarative apply (POST /v1/ns/{ns}/apply): the namespace holds exactly `entries` afterwards
 * (and its other keys too unless `prune`), written as one revision; entries already holding
 * the same value are left alone, so an apply that changes nothing consumes no revision.
 */
export interface NamespaceApplyCommand extends CommandBase {
  type: "namespaceApply";
  namespace: string;
  entries: ApplyEntry[];
  prune: boolean;
  /** Apply only while the namespace's revision (its last modRevision) is still this. */
  ifRevision?: Revision;
}

/** The namespace's live entries as they were at `toRevision`, written as one new revision. */
export interface NamespaceRollbackCommand extends CommandBase {
  type: "namespaceRollback";
  namespace: string;
  toRevision: Revision;
  ifRevision?: Revision;
}

export type TokenOperation = "read" | "write" | "admin";

export interface TokenScope {
  /** Namespace names or globs (e.g. "app-*"); matching is the API's job. */
  namespaces: string[];
  ops: TokenOperation[];
}

/** Stored in the reserved `_sys` area: only the hash of a token is ever kept. */
export interface TokenRecord {
  id: string;
  /** sha-256 of the token, lowercase hex (64 chars). */
  hashHex: string;
  scopes: TokenScope[];
  expiresAtMs?: number;
  createdAtMs: number;
  /** Shown as the actor of the revisions it makes; at most storeLimits.tokenNameBytesMax. */
  name?: string;
}

export interface TokenCreateCommand extends CommandBase, TokenRecord {
  type: "tokenCreate";
}

export interface TokenRevokeCommand extends CommandBase {
  type: "tokenRevoke";
  id: string;
}

export interface NamespaceSettings {
  namespace: string;
  publicRead: boolean;
}

export interface NamespaceSetCommand extends CommandBase, NamespaceSettings {
  type: "namespaceSet";
}

/**
 * A JSON Schema (2020-12) in force for the names of a namespace starting with `prefix` ("" = the
 * whole namespace). The schema travels as its JSON text: one encoding, compiled where applied.
 */
export interface SchemaRule {
  prefix: string;
  schema: string;
}

/** The schemas of one namespace, kept by the namespace's own shard (so a write and a schema
 * change are ordered by one log). `revision`: of the change that set them, 0 when never set. */
export interface NamespaceSchemas {
  namespace: string;
  revision: Revision;
  /** By prefix, ascending; at most one per prefix. */
  schemas: SchemaRule[];
}

/**
 * Replaces every schema of `namespace` (none: [] removes them). Refused when a live value would
 * violate the new schemas, unless `force` (the values stay; their next write must conform).
 */
export interface SchemaSetCommand extends CommandBase {
  type: "schemaSet";
  namespace: string;
  schemas: SchemaRule[];
  force?: true;
}

/** One reason a JSON value breaks a schema; `pointer` (RFC 6901) locates it in the value. */
export interface SchemaViolation {
  key: Key;
  pointer: string;
  message: string;
}

/** One member of a shard as the directory records it (the shard's Raft conf is the authority). */
export interface ClusterMember {
  /** The replica's Durable Object name and Raft id; never reused. */
  id: string;
  /** Its Durable Object location hint, "" when none. */
  location: string;
  voter: boolean;
}

export interface ClusterShard {
  index: number;
  members: ClusterMember[];
  /** The next replica number this shard gives out (ids are never reused). */
  nextReplica: number;
}

/** A cluster operation (http-api.md "Cluster operations"): a durable record its driver advances. */
export interface ClusterOperation {
  id: string;
  kind: "addReplica" | "removeReplica" | "replaceReplica" | "transferLeader" | "reshard";
  shard: number;
  state: "running" | "done" | "failed";
  /** Where the driver is: each step is idempotent and re-checked against the shard itself. */
  step: string;
  /** The replica removed, replaced, or made leader. */
  replica?: string;
  /** The replica added (addReplica, replaceReplica): its id is given out when the op starts. */
  added?: string;
  location?: string;
  force?: boolean;
  /** The Idempotency-Key of the request that started it: a retry gets this operation back. */
  idempotencyKey?: string;
  progress: { done: number; total: number; unit: string };
  startedAtMs: number;
  updatedAtMs: number;
  finishedAtMs?: number;
  error?: string;
  /** A reshard's ring change and where it is (kind "reshard"). */
  reshard?: ReshardProgress;
}

/** One namespace's move as its driver keeps it (src/router/reshard-steps.ts). */
export interface NamespaceMoveRecord {
  namespace: string;
  from: number;
  to: number;
  /** The ring epoch of the reshard: the fence names it. */
  epoch: number;
  step: "copy" | "catchUp" | "fence" | "final" | "flip" | "activate" | "drop" | "done";
  /** The source revision the next pass starts after (the previous pass's first chunk). */
  since: Revision;
  catchUps: number;
  /** The source's revision when it flipped: the target's revision jumps past it on activation. */
  flippedAt: Revision;
  /** Bytes and keys copied so far (chunks as the source measured them). */
  bytes: number;
  keys: number;
  /** The driver's clock at the fence, and the write pause (fence to activation) once known. */
  fencedAtMs: number;
  pauseMs: number;
}

export interface ReshardProgress {
  fromShards: number;
  toShards: number;
  /** The namespace moving now, as a release that moved one at a time kept it; null otherwise. */
  move: NamespaceMoveRecord | null;
  /** The namespaces moving now, side by side (reshard-operation.ts); absent or [] between two. */
  moves?: NamespaceMoveRecord[];
  /** Every shard the ring leaves has its ring fence (src/store/moves-ring.ts): one last look. */
  ringFenced?: true;
  /** The pauses, counted per bucket of reshard-operation.ts's pauseBucketsMs (p99 of them all). */
  pauseBuckets?: number[];
  /** Namespaces moved, and the bytes and keys copied for them. */
  moved: number;
  bytes: number;
  keys: number;
  /** The write pause of each moved namespace, ms: the longest, and the latest (at most 256). */
  pauseMsMax: number;
  pausesMs: number[];
}

/**
 * The cluster's shape as replicated data (the directory, kept by shard 0): the ring and each
 * shard's members. Seeded from wrangler.toml on first start; changed only by cluster operations.
 */
export interface ClusterTopology {
  /** Grows by one with every change. */
  epoch: number;
  shardCount: number;
  shards: ClusterShard[];
  /** The [vars] it was seeded from, normalized: what a changed wrangler.toml is compared with. */
  seed: { shardCount: number; replicasPerShard: number; locations: string[] };
  /** Running operations and the latest finished ones (bounded: clusterOperationsMax). */
  operations: ClusterOperation[];
}

/** Sets the directory if its epoch is still `ifEpoch` (0: not set yet); kept by shard 0. */
export interface ClusterSetCommand extends CommandBase {
  type: "clusterSet";
  ifEpoch: number;
  topology: ClusterTopology;
}

// Leases and locks (http-api.md "Leases and locks"). Time: a lease expires at the atMs of its
// grant or last keep-alive plus its TTL, and only a leaseExpire stamped at or after that ends
// it. The leader stamps and proposes leaseExpire on its clock; a new leader proposes leasesExtend
// first, so no lease ends early because leadership (and the clock judging it) moved.

export interface LeaseGrantCommand extends CommandBase {
  type: "leaseGrant";
  namespace: string;
  ttlMs: number;
}

export interface LeaseKeepAliveCommand extends CommandBase {
  type: "leaseKeepAlive";
  id: string;
}

export interface LeaseRevokeCommand extends CommandBase {
  type: "leaseRevoke";
  id: string;
}

/** Ends the lease if atMs has reached its expiry; refused (nothing changes) otherwise. */
export interface LeaseExpireCommand extends CommandBase {
  type: "leaseExpire";
  id: string;
}

/** A new leader's first word on leases: each one lives at least until atMs + ttl + extendMs. */
export interface LeasesExtendCommand extends CommandBase {
  type: "leasesExtend";
  extendMs: number;
}

/**
 * Acquire `lock` ("{namespace}/{name}") for `lease` (same namespace). Free and nobody queued
 * ahead: acquired with the next fencing token. Otherwise busy; with `wait` the lease joins the
 * FIFO of waiters and is handed the lock by the release that frees it.
 */
export interface LockAcquireCommand extends CommandBase {
  type: "lockAcquire";
  lock: Key;
  lease: string;
  wait: boolean;
}

/** A waiter that gives up leaves the queue; if the lock was handed to it meanwhile, it holds. */
export interface LockWithdrawCommand extends CommandBase {
  type: "lockWithdraw";
  lock: Key;
  lease: string;
}

export interface LockReleaseCommand extends CommandBase {
  type: "lockRelease";
  lock: Key;
  fencingToken: number;
}

export type CoordinationCommand =
  | LeaseGrantCommand
  | LeaseKeepAliveCommand
  | LeaseRevokeCommand
  | LeaseExpireCommand
  | LeasesExtendCommand
  | LockAcquireCommand
  | LockWithdrawCommand
  | LockReleaseCommand;

// Transactions across shards (two-phase commit; txn-prepare.ts, txn-record.ts). A txn spanning
// shards is prepared on each participant shard (intents on every key it reads or writes), its
// decision is recorded in one shard's transaction record (first decision wins), and each
// participant then resolves it: commit applies its writes at one new revision, abort drops them.

/** Which branch of a cross-shard txn runs: success when every participant's compares held. */
export type TxnBranch = "success" | "failure";

/**
 * Phase one on one participant: this shard's part of the txn (compares and both branches on keys
 * of its namespaces). When its keys carry no other txn's intent and both branches pass
 * validation, schemas, quota and the fence, intents are recorded on every key it compares,
 * reads or writes, and the answer says whether its compares held.
 */
export interface TxnPrepareCommand extends CommandBase, SchemasVouched {
  type: "txnPrepare";
  txnId: string;
  compare: TxnCompare[];
  success: TxnOp[];
  failure: TxnOp[];
  /** The namespace whose shard keeps the transaction record. */
  recordNamespace: string;
  /** One namespace per participant shard (this one's included): a resolver finishes them all. */
  participants: string[];
  /**
   * Store time (ms) from which whoever meets an intent may abort the txn: a prepare applied at
   * or after it is refused, and a commit decision then becomes an abort.
   */
  deadlineMs: number;
  fence?: Fence;
  /**
   * A parallel commit's prepare (txn-staged.ts): the shard of `recordNamespace` also writes the
   * transaction record as STAGING in this entry, and a commit's tombstone is kept here until
   * txnForget. Absent: the three-round protocol's prepare, whose meaning is unchanged.
   */
  staging?: true;
  /**
   * Ended parallel commits whose forget rides on this entry (txnForget's effect, applied first,
   * whatever the prepare's outcome): the forget of a commit then costs no entry of its own.
   */
  forgets?: string[];
  /**
   * The caller-scoped Idempotency-Key of the whole txn and the fingerprint of its request
   * (requestFingerprint of the equivalent shardTxn), on the record namespace's staging prepare
   * only: the record's shard keeps the key record (txn-keyed.ts) that makes a retry replay.
   */
  idempotency?: { key: string; fingerprint: string };
}

/** Phase two on one participant: apply (commit, with the branch decided) or drop its intents. */
export interface TxnResolveCommand extends CommandBase {
  type: "txnResolve";
  txnId: string;
  decision: "commit" | "abort";
  /** Present with commit. */
  branch?: TxnBranch;
  deadlineMs: number;
}

/**
 * The decision, in the record's shard. The first decision wins; a later one gets it back. A
 * commit applied at or after `deadlineMs` records abort instead; an abort by recovery (someone
 * who met an intent, not the coordinator) is refused before `deadlineMs`.
 */
export interface TxnRecordDecideCommand extends CommandBase {
  type: "txnRecordDecide";
  txnId: string;
  decision: "commit" | "abort";
  branch?: TxnBranch;
  deadlineMs: number;
  by: "coordinator" | "recovery";
  /**
   * The namespace whose shard keeps the record (the one this command is sent to) and the txn's
   * participants, kept with the record: a reshard may not move that namespace while the record
   * is kept (moves-fence.ts), and whoever finds the record can finish the txn.
   */
  recordNamespace: string;
  participants: string[];
  /**
   * Also resolve this shard's own part of the txn as decided, in the same entry: the record
   * lives on the first participant's shard, so its resolve need not be a round of its own.
   */
  resolveHere?: true;
}

/** Every participant has resolved: the record may go (kept until its deadline, then dropped). */
export interface TxnRecordForgetCommand extends CommandBase {
  type: "txnRecordForget";
  txnId: string;
}

/**
 * Recovery's question to one participant of a parallel commit (txn-staged.ts): is its part
 * prepared, resolved or absent, and, on the record's shard, what does the record say. Applied as
 * an entry so that its `atMs` (at or after the deadline) moves the store clock past the deadline
 * first: from then on no prepare of the txn can be applied here, so `absent` stays absent.
 */
export interface TxnProbeCommand extends CommandBase {
  type: "txnProbe";
  txnId: string;
  deadlineMs: number;
}

/**
 * The decision of a parallel commit, as a compare-and-set of its STAGING record (first decision
 * wins), and this shard's part resolved as decided in the same entry. The coordinator settles
 * commit once every prepare answered prepared, or abort on a refusal; recovery settles only at
 * or after the deadline, from what every participant's probe answered.
 */
export interface TxnRecordSettleCommand extends CommandBase {
  type: "txnRecordSettle";
  txnId: string;
  decision: "commit" | "abort";
  branch?: TxnBranch;
  deadlineMs: number;
  by: "coordinator" | "recovery";
  recordNamespace: string;
  participants: string[];
}

/**
 * Every participant of a parallel commit has resolved and its record is settled: this shard
 * unpins its commit tombstone and marks the record done (both then go at the deadline).
 */
export interface TxnForgetCommand extends CommandBase {
  type: "txnForget";
  txnId: string;
  /** On the record namespace's shard, for a keyed txn: its answer, kept for a retry's replay. */
  answer?: TxnKeyedAnswer;
}

/** What a committed cross-shard txn answered, by participant (txn-keyed.ts). */
export interface TxnKeyedAnswer {
  /** In participants order: the namespaces of that part, its results and its commit revision. */
  parts: { namespaces: string[]; results: TxnOpResult[]; revision: Revision }[];
}

/**
 * A txn over keys of several namespaces that all live on this shard (the ring placed them
 * together): the single-shard txn's semantics in one Raft round, quotas per namespace.
 */
export interface ShardTxnCommand extends Omit<TxnCommand, "type"> {
  type: "shardTxn";
}

export type TxnProtocolCommand =
  | TxnPrepareCommand
  | TxnResolveCommand
  | TxnRecordDecideCommand
  | TxnRecordForgetCommand
  | TxnProbeCommand
  | TxnRecordSettleCommand
  | TxnForgetCommand;

export type KvCommand = PutCommand | DeleteCommand | TxnCommand;
export type NamespaceWriteCommand = NamespaceApplyCommand | NamespaceRollbackCommand;
export type SystemCommand =
  | TokenCreateCommand
  | TokenRevokeCommand
  | NamespaceSetCommand
  | ClusterSetCommand
  | SchemaSetCommand;
// Moving a namespace between shards (moves.ts, docs/ARCHITECTURE.md "Resharding moves whole
// namespaces"). Added last so the command kinds before them keep their meaning.

/** One retained version as a move carries it: its audit inline (the target files it again). */
export interface VersionImage {
  version: number;
  createRevision: Revision;
  modRevision: Revision;
  updatedAtMs: number;
  contentType: string;
  value: Uint8Array;
  deleted: boolean;
  audit?: { atMs: number; op: string; keys: Key[] } & CommandAudit;
}

export interface KeyImage {
  key: Key;
  trimmedThroughRevision: Revision;
  /** Oldest first, never empty. */
  versions: VersionImage[];
}

/** An idempotency record of the namespace (its outcome names one of its keys or itself). */
export interface IdempotencyImage {
  idempotencyKey: string;
  fingerprint: string;
  outcome: WriteOutcome;
}

/** What a namespace holds besides its keys; sent with the last chunk of every pass. */
export interface NamespaceMetaImage {
  lastModRevision: Revision;
  forgottenThroughRevision: Revision;
  idempotency: IdempotencyImage[];
  /** Its schemas, or null when it has none. */
  schemas: { revision: Revision; rules: SchemaRule[] } | null;
  leases: { id: string; ttlMs: number; expiresAtMs: number; keys: Key[] }[];
  locks: {
    lock: Key;
    lease: string;
    fencingToken: number;
    acquiredAtMs: number;
    waiters: string[];
  }[];
  /** The audit records of its schema changes (kept in the `_sys` log, audit.ts). */
  schemaAudits: AuditItem[];
}

/**
 * One chunk of a namespace as its source shard holds it at `atRevision`: the keys written after
 * `sinceRevision` (0: all of them) from `cursor` on, in key order, up to a byte budget.
 */
export interface NamespaceImage {
  namespace: string;
  /** The source shard's revision when the chunk was read: the target's revision jumps past it. */
  atRevision: Revision;
  sinceRevision: Revision;
  keys: KeyImage[];
  /** The last key of this chunk when more follow; null on the pass's last chunk. */
  cursor: Key | null;
  /** Present on the last chunk of a pass (cursor null). */
  meta?: NamespaceMetaImage;
}

/**
 * Installs a chunk of a namespace moving here: each key's record is replaced by the image's, the
 * namespace's idempotency records, schemas, leases and locks by its meta; the shard's revision
 * jumps to at least `image.atRevision`, so a later write here never reuses a moved ETag.
 */
export interface NamespaceImportCommand extends CommandBase {
  type: "namespaceImport";
  image: NamespaceImage;
}

/**
 * Fences a namespace moving away: from here on every write of it answers `moved` (reads keep
 * working). `flipped`: the namespace now belongs to `shard` (its reads are redirected too, and
 * its data may be dropped). `epoch` is the ring epoch of the reshard that moves it.
 */
export interface NamespaceFenceCommand extends CommandBase {
  type: "namespaceFence";
  namespace: string;
  epoch: number;
  shard: number;
  flipped?: true;
}

/** Forgets a flipped namespace's data; the fence stays, to redirect stale routers. */
export interface NamespaceDropCommand extends CommandBase {
  type: "namespaceDrop";
  namespace: string;
}

/**
 * Opens a namespace imported here for its writes: the last step of its move to this shard. The
 * shard's revision jumps to at least `atRevision`, the source's revision when it flipped: every
 * revision a reader or watcher of the namespace was ever given by the source is at most that.
 */
export interface NamespaceActivateCommand extends CommandBase {
  type: "namespaceActivate";
  namespace: string;
  atRevision: Revision;
}

/**
 * The last gate of a reshard on a shard it leaves (moves-ring.ts): from here on a namespace this
 * shard does not serve and that the ring of `shardCount` shards puts elsewhere answers `moved`
 * there. `shard` is this shard's index; `epoch` the reshard's ring epoch (a newer one replaces it).
 */
export interface RingFenceCommand extends CommandBase {
  type: "ringFence";
  epoch: number;
  shardCount: number;
  shard: number;
}

export type MoveCommand =
  | NamespaceImportCommand
  | NamespaceFenceCommand
  | NamespaceDropCommand
  | NamespaceActivateCommand
  | RingFenceCommand;

export type Command =
  | KvCommand
  | NamespaceWriteCommand
  | SystemCommand
  | CoordinationCommand
  | TxnProtocolCommand
  | ShardTxnCommand
  | MoveCommand;

// ---------------------------------------------------------------------------------------------
// Write outcomes (what `Store.apply` returns)

interface OutcomeBase {
  /** Shard revision after this command (unchanged when nothing changed). */
  revision: Revision;
  /** Set when an idempotency record answered: this is the first outcome, replayed. */
  deduplicated?: true;
}

/** A put or delete that changed state. For "deleted", `entry` is the entry that was deleted. */
export interface OkOutcome extends OutcomeBase {
  type: "ok";
  change: "created" | "updated" | "deleted";
  entry: KvEntry;
}

/** 412: `current` is the live entry, or null when the key is absent. */
export interface PreconditionFailedOutcome extends OutcomeBase {
  type: "preconditionFailed";
  current: KvEntry | null;
}

/** 404: a delete (without If-Match) of an absent key, a revoke of an unknown token or lease. */
export interface NotFoundOutcome extends OutcomeBase {
  type: "notFound";
}

export type TxnOpResult =
  | { type: "put"; change: "created" | "updated"; entry: KvEntry }
  | { type: "delete"; deleted: KvEntry | null }
  | { type: "get"; entry: KvEntry; value: Uint8Array }
  | { type: "get"; entry: null; value: null };

export interface TxnOutcome extends OutcomeBase {
  type: "txn";
  /** True when every compare held and the success branch ran. */
  succeeded: boolean;
  /** One result per op of the branch that ran, in order. */
  results: TxnOpResult[];
}

/** 507: the write would exceed a shard quota; nothing changed. */
export interface TooLargeOutcome extends OutcomeBase {
  type: "tooLarge";
  limit: "shardBytesMax" | "namespaceKeysMax" | "tokensMax" | "leasesMax" | "leaseLocksMax";
  /** The quota and what the shard would hold after the write, in the limit's unit. */
  max: number;
  wouldBe: number;
}

/**
 * Bad user input that reached the log (the API should have caught most of it); nothing changed.
 * Suggested statuses: key/value/contentType/txnTooLarge/txnDuplicateKey 400 (valueTooLarge 413),
 * idempotencyKey (bad syntax) 400, crossNamespace 422, idempotencyKeyReused 422, tokenExists 409.
 */
export interface InvalidOutcome extends OutcomeBase {
  type: "invalid";
  reason:
    | "key"
    | "namespace"
    | "valueTooLarge"
    | "contentType"
    | "preconditions"
    | "txnTooLarge"
    | "txnDuplicateKey"
    | "crossNamespace"
    | "idempotencyKeyReused"
    | "idempotencyKey"
    | "tokenExists"
    | "token"
    | "cluster"
    | "lease"
    | "lock"
    | "schema"
    | "audit"
    | "txn";
  detail: string;
}

/**
 * 422 /schema-violation: a value written (or, for a schemaSet, a value stored) breaks a schema in
 * force; nothing changed. `errors` is bounded; `keys` counts every key at fault.
 */
export interface SchemaViolationOutcome extends OutcomeBase {
  type: "schemaViolation";
  errors: SchemaViolation[];
  keys: number;
}

export interface SchemasSetOutcome extends OutcomeBase {
  type: "schemasSet";
  schemas: NamespaceSchemas;
}

export interface TokenCreatedOutcome extends OutcomeBase {
  type: "tokenCreated";
  token: TokenRecord;
}

export interface TokenRevokedOutcome extends OutcomeBase {
  type: "tokenRevoked";
  id: string;
}

export interface NamespaceSetOutcome extends OutcomeBase {
  type: "namespaceSet";
  settings: NamespaceSettings;
}

/** `applied: false` when the epoch had moved on: `topology` is then the one in force. */
export interface ClusterSetOutcome extends OutcomeBase {
  type: "clusterSet";
  applied: boolean;
  topology: ClusterTopology | null;
}

export interface Lease {
  id: string;
  namespace: string;
  ttlMs: number;
  /** On the clock of the leader that stamped the last grant, keep-alive or extension. */
  expiresAtMs: number;
  /** Attached keys, in key order. */
  keys: Key[];
}

export interface LockHolder {
  lease: string;
  /**
   * The shard revision of the acquisition: strictly increasing per lock (every acquisition is a
   * new revision) without a counter per lock, so a free lock can be forgotten (as in etcd).
   */
  fencingToken: number;
  acquiredAtMs: number;
}

export interface LockState {
  lock: Key;
  /** null when free. */
  holder: LockHolder | null;
  /** Leases waiting, first come first served. */
  waiters: string[];
}

/** leaseGrant, leaseKeepAlive: the lease as it now is. */
export interface LeaseOutcome extends OutcomeBase {
  type: "lease";
  lease: Lease;
}

/** leaseRevoke, leaseExpire that ended it: the keys deleted (one revision) and locks freed. */
export interface LeaseEndedOutcome extends OutcomeBase {
  type: "leaseEnded";
  id: string;
  deletedKeys: Key[];
  releasedLocks: Key[];
}

/** A leaseExpire before the lease's expiry (a keep-alive or an extension won the race). */
export interface LeaseNotDueOutcome extends OutcomeBase {
  type: "leaseNotDue";
  expiresAtMs: number;
}

export interface LeasesExtendedOutcome extends OutcomeBase {
  type: "leasesExtended";
  extended: number;
}

/** lockAcquire, lockWithdraw: `held` when `lease` holds it; else busy (`position` 0: unqueued) */
export interface LockOutcome extends OutcomeBase {
  type: "lock";
  held: boolean;
  state: LockState;
  position: number;
}

/** lockRelease: released (204) or the token does not hold the lock (412). */
export interface LockReleaseOutcome extends OutcomeBase {
  type: "lockRelease";
  released: boolean;
  state: LockState;
}

/** 412 /fenced: the fence's lock is not held with its token at commit; nothing changed. */
export interface FencedOutcome extends OutcomeBase {
  type: "fenced";
  fence: Fence;
  /** The token holding the lock now, or null when it is free. */
  holderToken: number | null;
}

/** One key a namespace write changed; `entry` is the new entry, or the deleted one. */
export interface NamespaceChange {
  key: Key;
  change: "created" | "updated" | "deleted";
  entry: KvEntry;
}

/** namespaceApply, namespaceRollback that ran: `changes` empty when nothing had to change. */
export interface NamespaceWriteOutcome extends OutcomeBase {
  type: "namespaceWrite";
  namespace: string;
  /** The namespace's last modRevision after the write (its bundle ETag). */
  namespaceRevision: Revision;
  /** In key order. */
  changes: NamespaceChange[];
}

/** 412: the namespace's revision is no longer the `ifRevision` of the write; nothing changed. */
export interface NamespaceChangedOutcome extends OutcomeBase {
  type: "namespaceChanged";
  namespace: string;
  namespaceRevision: Revision;
}

/** 410: what the write needs to read (a namespace at an old revision) is no longer retained. */
export interface CompactedOutcome extends OutcomeBase {
  type: "compacted";
  detail: string;
}

/** An intent of a cross-shard txn that a write met: 409/503 with Retry-After, or resolve it. */
export interface TxnIntent {
  key: Key;
  txnId: string;
  /** True when the txn writes the key; false when it only compares or reads it. */
  write: boolean;
  deadlineMs: number;
  recordNamespace: string;
  participants: string[];
}

/** The write touches a key held by another txn's intent; nothing changed. */
export interface IntentOutcome extends OutcomeBase {
  type: "intent";
  intent: TxnIntent;
}

/** txnPrepare that recorded its intents (or had already): `held` = this part's compares held. */
export interface TxnPreparedOutcome extends OutcomeBase {
  type: "txnPrepared";
  txnId: string;
  held: boolean;
}

/** txnPrepare refused: past its deadline, or the txn is already resolved here. */
export interface TxnPrepareRefusedOutcome extends OutcomeBase {
  type: "txnPrepareRefused";
  txnId: string;
  reason: "expired" | "resolved";
}

/** txnResolve: what this participant did (or, for a repeat, had done) with the txn. */
export interface TxnResolvedOutcome extends OutcomeBase {
  type: "txnResolved";
  txnId: string;
  decision: "commit" | "abort";
  /** The revision the commit applied at (the shard revision when it changed nothing). */
  committedRevision: Revision;
  /** One result per op of this participant's part of the branch that ran (commit only). */
  results: TxnOpResult[];
}

/** txnProbe: what this shard knows of a parallel commit. */
export interface TxnProbedOutcome extends OutcomeBase {
  type: "txnProbed";
  txnId: string;
  /** This shard's part: an intent (prepared), a tombstone (committed, aborted), or nothing. */
  part: "prepared" | "committed" | "aborted" | "absent";
  /** With prepared: whether its compares held. */
  held?: boolean;
  /** With committed, while its tombstone is pinned: the branch that ran. */
  branch?: TxnBranch;
  /** The store clock has reached the deadline: no prepare of the txn is applied here any more. */
  final: boolean;
  /** The transaction record, on the shard that keeps it. */
  record?: { decision: "staging" | "commit" | "abort"; branch?: TxnBranch };
  /** With committed or aborted (a tombstone here): what resolving this part did. */
  resolved?: { committedRevision: Revision; results: TxnOpResult[] };
}

/**
 * The key record of a cross-shard txn with an Idempotency-Key, kept among the idempotency
 * records of the record namespace's shard (txn-keyed.ts); answered, deduplicated, to a retry.
 */
export interface TxnKeyedOutcome extends OutcomeBase {
  type: "txnKeyed";
  /** The attempt that holds the key: in flight (staging), or how it ended. */
  txnId: string;
  state: "staging" | "committed" | "aborted";
  recordNamespace: string;
  participants: string[];
  /** With committed: the branch that ran. */
  branch?: TxnBranch;
  /** With committed, once its coordinator's forget brought it. */
  answer?: TxnKeyedAnswer;
}

/** txnForget: what this shard still keeps of the txn until the deadline. */
export interface TxnForgottenOutcome extends OutcomeBase {
  type: "txnForgotten";
  txnId: string;
}

/** txnRecordDecide: the decision in force (`first`: this command made it). */
export interface TxnDecisionOutcome extends OutcomeBase {
  type: "txnDecision";
  txnId: string;
  decision: "commit" | "abort" | "undecided";
  branch?: TxnBranch;
  first: boolean;
  /** With resolveHere and a decision: what resolving this shard's part did. */
  resolved?: TxnResolvedOutcome;
}

export type WriteOutcome =
  | IntentOutcome
  | TxnPreparedOutcome
  | TxnPrepareRefusedOutcome
  | TxnResolvedOutcome
  | TxnDecisionOutcome
  | TxnProbedOutcome
  | TxnForgottenOutcome
  | TxnKeyedOutcome
  | NamespaceWriteOutcome
  | NamespaceChangedOutcome
  | CompactedOutcome
  | LeaseOutcome
  | LeaseEndedOutcome
  | LeaseNotDueOutcome
  | LeasesExtendedOutcome
  | LockOutcome
  | LockReleaseOutcome
  | FencedOutcome
  | OkOutcome
  | PreconditionFailedOutcome
  | NotFoundOutcome
  | TxnOutcome
  | TooLargeOutcome
  | InvalidOutcome
  | TokenCreatedOutcome
  | TokenRevokedOutcome
  | NamespaceSetOutcome
  | ClusterSetOutcome
  | SchemaViolationOutcome
  | SchemasSetOutcome
  | MovedOutcome
  | MovingOutcome
  | NamespaceMoveOutcome;

/** A write of a namespace still being imported here (not yet activated): retry shortly. */
export interface MovingOutcome extends OutcomeBase {
  type: "moving";
  namespace: string;
}

/**
 * A write of a namespace fenced here (moving or moved away): nothing changed; it belongs to
 * `shard` from ring `epoch` on. The router follows it (http-api.md "Across a reshard").
 */
export interface MovedOutcome extends OutcomeBase {
  type: "moved";
  namespace: string;
  epoch: number;
  shard: number;
  /**
   * The namespace belongs to `shard` now (its reads went there too): a router may send it there
   * from now on. Absent: the move is in its pause, only writes are fenced; the reads stay here,
   * for the target's copy is not whole before the move flips.
   */
  flipped?: true;
}

/** namespaceImport, namespaceFence, namespaceDrop, ringFence: what the step did. */
export interface NamespaceMoveOutcome extends OutcomeBase {
  type: "namespaceMove";
  step: "imported" | "fenced" | "flipped" | "dropped" | "activated" | "ringFenced";
  /** "" for a ring fence, which names none. */
  namespace: string;
  /** Keys installed (imported) or forgotten (dropped); 0 for a fence. */
  keys: number;
}

// ---------------------------------------------------------------------------------------------
// Queries (served from an applied state, never through the log)

interface QueryResultBase {
  /** Shard revision of the state that answered. */
  revision: Revision;
}

export interface GetQuery {
  key: Key;
  /** Read the version live at this revision (while retained); default latest. */
  atRevision?: Revision;
}

/**
 * Set on a read of the latest value while a cross-shard txn holds a write intent on the key: the
 * value is the committed one; a linearizable read waits the txn out or resolves it (src/router).
 */
interface PendingWrite {
  intent?: TxnIntent;
}

export type GetResult =
  | (QueryResultBase & PendingWrite & { type: "found"; entry: KvEntry; value: Uint8Array })
  | (QueryResultBase & PendingWrite & { type: "notFound" })
  /** 410: the version live at `atRevision` is no longer retained. */
  | (QueryResultBase & { type: "compacted" })
  /** `atRevision` is ahead of this replica's state: wait, catch up, or forward. */
  | (QueryResultBase & { type: "futureRevision" })
  | (QueryResultBase & { type: "invalid"; detail: string });

export type MetaResult =
  | (QueryResultBase & { type: "found"; entry: KvEntry })
  | (QueryResultBase & { type: "notFound" })
  | (QueryResultBase & { type: "invalid"; detail: string });

export interface ListQuery {
  /** "{namespace}/" or "{namespace}/{partial name}": must name a namespace. */
  prefix: string;
  /** ≤ storeLimits.listLimitMax; default listLimitMax. */
  limit?: number;
  /** Opaque, from a previous page's `cursor`. */
  cursor?: string;
  values?: boolean;
}

export interface ListItem {
  entry: KvEntry;
  /** Present when the query asked for values. */
  value?: Uint8Array;
}

export type ListResult =
  | (QueryResultBase & { type: "list"; items: ListItem[]; cursor: string | null })
  | (QueryResultBase & { type: "invalid"; detail: string });

export interface BundleItem {
  /** The key without "{namespace}/". */
  name: string;
  entry: KvEntry;
  value: Uint8Array;
}

export type BundleResult =
  | (QueryResultBase & {
      type: "bundle";
      namespace: string;
      /** Last modRevision of any put or delete in the namespace (0 if none): the ETag source. */
      namespaceRevision: Revision;
      /** In key order. */
      items: BundleItem[];
    })
  | (QueryResultBase & { type: "invalid"; detail: string });

export interface HistoryItem {
  /** Version of the key at this point; 0 for a tombstone (the delete that ended a life). */
  version: number;
  modRevision: Revision;
  createRevision: Revision;
  updatedAtMs: number;
  size: number;
  contentType: string;
  deleted: boolean;
  /** Who wrote this version and why; absent for versions written before audit records existed. */
  actor?: AuditActor;
  reason?: string;
  requestId?: string;
}

export type HistoryResult =
  | (QueryResultBase & { type: "history"; items: HistoryItem[] /** newest first */ })
  | (QueryResultBase & { type: "notFound" })
  | (QueryResultBase & { type: "invalid"; detail: string });

export interface ChangesQuery {
  /** "{namespace}/…" as for list. */
  prefix: string;
  /** Events with modRevision > afterRevision. SSE fromRevision=N means afterRevision N-1. */
  afterRevision: Revision;
  /** Soft bound on events returned: whole revisions are never split. Default listLimitMax. */
  limit?: number;
  /** Default true. */
  values?: boolean;
}

export interface ChangeEvent {
  type: "put" | "delete";
  key: Key;
  modRevision: Revision;
  /** Version after the put; 0 for a delete. */
  version: number;
  createRevision: Revision;
  contentType: string;
  /** Present for puts when the query asked for values. */
  value?: Uint8Array;
  /** The command's atMs, and who and why, as in HistoryItem (absent for versions before audit). */
  updatedAtMs?: number;
  actor?: AuditActor;
  reason?: string;
  requestId?: string;
}

export interface AuditQuery {
  /** A namespace, or "_sys" (tokens and namespace settings, kept by the `_sys` shard). */
  namespace: string;
  /** ≤ storeLimits.listLimitMax; default storeLimits.auditLimitDefault. */
  limit?: number;
  /** Opaque, from a previous page's `cursor`. */
  cursor?: string;
}

/** One audited revision (GET /v1/audit). */
export interface AuditItem {
  revision: Revision;
  /** The command's atMs. */
  atMs: number;
  /** The command type that made the revision: "put", "delete", "txn", "tokenCreate", … */
  op: string;
  /** Keys the revision wrote (for `_sys`: "_sys/tokens/{id}", "_sys/settings/{namespace}"). */
  keys: Key[];
  actor?: AuditActor;
  reason?: string;
  requestId?: string;
}

export type AuditResult =
  /** Newest first; `cursor` (null on the last page) continues with older revisions. */
  | (QueryResultBase & { type: "audit"; items: AuditItem[]; cursor: string | null })
  | (QueryResultBase & { type: "invalid"; detail: string });

export type ChangesResult =
  | (QueryResultBase & {
      type: "changes";
      /** Ordered by modRevision, then key. */
      events: ChangeEvent[];
      /** Resume with afterRevision = this (equals `revision` when the caller is caught up). */
      nextAfterRevision: Revision;
    })
  /** Some events after `afterRevision` are no longer retained: re-read and resume. */
  | (QueryResultBase & { type: "compacted" })
  | (QueryResultBase & { type: "invalid"; detail: string });

// ---------------------------------------------------------------------------------------------
// Configuration of one store (kept in its snapshots so a restored replica behaves the same)

export interface StoreOptions {
  historyVersionsPerKey: number;
  /** Live keys + values (tooLarge above it). */
  shardBytesMax: number;
  /** Keys + values of versions no longer current; the oldest superseded are trimmed above it. */
  historyBytesMax: number;
  namespaceKeysMax: number;
  idempotencyRecordsMax: number;
  idempotencyRecordAgeMsMax: number;
  /** Values held by recorded txn outcomes (their gets); the oldest records are evicted above it. */
  idempotencyValueBytesMax: number;
  /** Deleted keys whose history is kept; beyond this the oldest deletion is forgotten. */
  deletedKeysRetainedMax: number;
  tokensMax: number;
}
