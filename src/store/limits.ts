// Every limit of the state machine, named once, with its unit last (TigerBeetle style).
// Why these numbers: the whole shard lives in memory on a Durable Object, whose isolate has
// 128 MB. Retained data = live (shardBytesMax) + history (historyBytesMax) + recorded txn values
// (idempotencyValueBytesMax) ≈ 52 MiB, and `snapshot()` builds one contiguous copy of it, so the
// peak is about twice that, leaving headroom for the Raft log, JS objects and requests.

const kibBytes = 1024;
const mibBytes = 1024 * kibBytes;

export const storeLimits = {
  /** One value (HTTP 413 above this). */
  valueBytesMax: 1 * mibBytes,
  /** A whole key, "{namespace}/{name}". */
  keyBytesMax: 512,
  namespaceBytesMax: 63,
  nameSegmentBytesMax: 128,
  contentTypeBytesMax: 256,
  /** Live keys in one namespace: bounds a bundle and a full scan. */
  namespaceKeysMax: 10_000,
  historyVersionsPerKeyDefault: 100,
  /** Deleted keys whose history (tombstone included) is kept for reads at old revisions. */
  deletedKeysRetainedMax: 10_000,
  idempotencyRecordsMax: 10_000,
  /** Clients retry within seconds to minutes; a day covers a laptop that slept. */
  idempotencyRecordAgeMsMax: 24 * 60 * 60 * 1000,
  idempotencyKeyBytesMax: 255,
  listLimitMax: 1000,
  /** Live keys + values of one shard (HTTP 507 above this). */
  shardBytesMax: 32 * mibBytes,
  /** Keys + values of past versions (history, tombstones); the oldest are trimmed above this. */
  historyBytesMax: 16 * mibBytes,
  /** Values that recorded txn outcomes keep for replay (their gets); oldest records go first. */
  idempotencyValueBytesMax: 4 * mibBytes,
  /** compare + success + failure entries of one txn. */
  txnOpsMax: 128,
  /** A cross-shard txn's id: a UUID is 36; room for a prefix naming the coordinator. */
  txnIdBytesMax: 64,
  /**
   * Forgets one txnPrepare carries (ended parallel commits of the same router, txn-staged.ts):
   * about one per txn the router finished since its last prepare to the shard; 64 ids of at
   * most 64 bytes keep the entry under 5 KiB.
   */
  txnForgetsMax: 64,
  /**
   * Entries of one declarative apply: it describes a whole namespace, so as many as a namespace
   * holds. Their values are bounded by the API (one apply is one Raft entry).
   */
  applyEntriesMax: 10_000,
  tokensMax: 10_000,
  tokenScopesMax: 32,
  /** A token's name (shown as the actor of its writes): a label, not a description. */
  tokenNameBytesMax: 64,
  /** X-Edgecfg-Reason (http-api.md "Audit"): a commit message's subject line, UTF-8 bytes. */
  auditReasonBytesMax: 256,
  /** X-Request-Id: a UUID is 36; room for a trace id with a prefix, never a payload. */
  auditRequestIdBytesMax: 128,
  /**
   * What one audit record costs besides its reason and request id (the object, its key list,
   * the actor), counted against historyBytesMax with each superseded version that points at it.
   */
  auditRecordOverheadBytes: 64,
  /** Records of `_sys` revisions (tokens, settings), which have no key history to follow. */
  auditSystemRecordsMax: 1000,
  /** A page of GET /v1/audit when no limit is asked for. */
  auditLimitDefault: 100,
  /** Live leases of one shard; each is a few hundred bytes plus its key and lock sets. */
  leasesMax: 10_000,
  /** Bounds of a lease's TTL (http-api.md: 2 s to a day). */
  leaseTtlMsMin: 2_000,
  leaseTtlMsMax: 86_400_000,
  /** Locks one lease holds or waits for: bounds the work of ending it. */
  leaseLocksMax: 64,
  /** A new leader's extension of every lease: an election timeout is well below this. */
  leaseExtendMsMax: 60_000,
  /** Shards of the directory's ring (as src/ring allows). */
  clusterShardsMax: 1024,
  /** Members of one shard in the directory: voters, learners joining, and leaving ones. */
  clusterMembersPerShardMax: 16,
  /** Operation records the directory keeps (running ones and the latest finished). */
  clusterOperationsMax: 64,
  /**
   * Schemas of one namespace: one per prefix, and every write checks each prefix, so a few
   * dozen; a deployment with more prefixes wants fewer, broader schemas with $defs.
   */
  schemasPerNamespaceMax: 64,
  /** One schema's JSON text: a 20-property config schema is ~2 KiB; it is in every snapshot. */
  schemaBytesMax: 64 * kibBytes,
  /** All schemas of one namespace, their JSON text: the settings command stays a small entry. */
  namespaceSchemaBytesMax: 256 * kibBytes,
  /**
   * One chunk of a namespace move (moves-export.ts), a soft budget: a chunk is one Raft entry on
   * the target, so a few of them stay well inside a replica's batch; a key is never split, so a
   * key with a long history of large values makes a larger chunk.
   */
  moveChunkBytesMax: 1 * mibBytes,
  /** Violations one refusal lists (a schema change may find thousands): the rest are counted. */
  schemaViolationsListedMax: 100,
} as const;

export type StoreLimits = typeof storeLimits;
