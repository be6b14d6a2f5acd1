// Snapshots of the whole state, for Raft log compaction and InstallSnapshot. Deterministic: maps
// are written in sorted order (or, where order is itself state, in that order), so equal states
// give equal bytes and replicas can compare snapshots by hash. Derived data (live and history
// bytes and counts, the token hash index, sorted key caches) is rebuilt on restore, not stored.
import { assert } from "./assert.ts";
import { decodeFrame, encodeFrame } from "./framing.ts";
import type { AuditRecord, KeyRecord, NamespaceState, StoreState, Version } from "./state.ts";
import { emptyState, liveKeyBytes, newestVersion } from "./state.ts";
import { historyVersionBytes } from "./history.ts";
import { addIdempotencyRecord, outcomeValueBytes } from "./idempotency.ts";
import { liveDeleted, liveSuperseded } from "./retention.ts";
import { Fifo } from "./fifo.ts";
import type { ClusterTopology, StoreOptions, TokenRecord, WriteOutcome } from "./types.ts";
import { canonicalTopology } from "./cluster.ts";
import { restoreTxns, txnsBody, type TxnsBody } from "./snapshot-txn.ts";
import { attachAudit, auditBody, restoreAudit, type AuditBody } from "./snapshot-audit.ts";

const snapshotFormat = 1;

type VersionRow = [number, number, number, number, string, Uint8Array, boolean];
type RecordRow = [string, number, VersionRow[]];
type NamespaceRow = [string, number, number, RecordRow[]];
type IdempotencyRow = [string, number, string, WriteOutcome];

interface SnapshotBody {
  options: StoreOptions;
  appliedIndex: number;
  revision: number;
  clockMs: number;
  namespaces: NamespaceRow[];
  deletedKeys: [string, number][];
  superseded: [string, number][];
  idempotency: IdempotencyRow[];
  tokens: TokenRecord[];
  publicReadNamespaces: string[];
  /** Absent when null, so a state without a directory has the bytes it had before it existed. */
  cluster?: ClusterTopology;
  /** Absent until the first lease, for the same reason. */
  coordination?: CoordinationBody;
  /** Absent while no namespace has schemas: [namespace, revision, [prefix, schema JSON][]]. */
  schemas?: SchemasRow[];
  /** Absent until the first audited revision, for the same reason (snapshot-audit.ts). */
  audit?: AuditBody;
  /** Absent while no cross-shard txn is prepared, resolved or recorded (snapshot-txn.ts). */
  txns?: TxnsBody;
  /** Absent while no namespace is fenced (moves.ts): [namespace, epoch, shard, flipped]. */
  fences?: [string, number, number, boolean][];
  /** Absent while no namespace is being imported (moves.ts): [namespace, metaAtRevision]. */
  incoming?: [string, number][];
  /** Absent until a reshard fences the ring here (moves-ring.ts): [epoch, shardCount, shard]. */
  ringFence?: [number, number, number];
}

type SchemasRow = [string, number, [string, string][]];

/** [id, namespace, ttlMs, expiresAtMs, attached keys] */
type LeaseRow = [string, string, number, number, string[]];
/** [lock, holder lease, fencingToken, acquiredAtMs, waiters] */
type LockRow = [string, string, number, number, string[]];

interface CoordinationBody {
  nextLease: number;
  leases: LeaseRow[];
  locks: LockRow[];
}

const byFirst = <T extends [string, ...unknown[]]>(a: T, b: T) =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;

export function snapshotState(state: StoreState): Uint8Array {
  const body: SnapshotBody = {
    options: canonicalOptions(state.options),
    appliedIndex: state.appliedIndex,
    revision: state.revision,
    clockMs: state.clockMs,
    namespaces: [...state.namespaces].map(([name, ns]) => namespaceRow(name, ns)).sort(byFirst),
    deletedKeys: liveDeleted(state),
    superseded: liveSuperseded(state),
    idempotency: state.idempotencyOrder
      .toArray()
      .map((r) => [r.idempotencyKey, r.recordedAtMs, r.fingerprint, r.outcome]),
    tokens: [...state.tokens.values()]
      .map(canonicalToken)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    publicReadNamespaces: [...state.namespaceSettings.keys()].sort(),
    ...(state.cluster === null ? {} : { cluster: canonicalTopology(state.cluster) }),
    ...(state.nextLease === 1 ? {} : { coordination: coordinationBody(state) }),
    ...(state.schemas.size === 0 ? {} : { schemas: schemasRows(state) }),
  };
  const audit = auditBody(state);
  if (audit !== undefined) body.audit = audit;
  const txns = txnsBody(state);
  if (txns !== undefined) body.txns = txns;
  if (state.fences.size > 0) body.fences = fenceRows(state);
  if (state.incoming.size > 0)
    body.incoming = [...state.incoming]
      .map(([ns, i]): [string, number] => [ns, i.metaAtRevision])
      .sort(byFirst);
  const ring = state.ringFence;
  if (ring !== null) body.ringFence = [ring.epoch, ring.shardCount, ring.shard];
  return encodeFrame(snapshotFormat, body);
}

function fenceRows(state: StoreState): [string, number, number, boolean][] {
  const rows = [...state.fences].map(([ns, f]): [string, number, number, boolean] => [
    ns,
    f.epoch,
    f.shard,
    f.flipped,
  ]);
  return rows.sort(byFirst);
}

function schemasRows(state: StoreState): SchemasRow[] {
  const rows = [...state.schemas].map(
    ([namespace, set]): SchemasRow => [
      namespace,
      set.revision,
      set.rules.map((r): [string, string] => [r.prefix, r.schema]),
    ],
  );
  return rows.sort(byFirst);
}

/** Compiled validators are derived: built again on the first write that needs them. */
function restoreSchemas(state: StoreState, rows: SchemasRow[] | undefined): void {
  for (const [namespace, revision, rules] of rows ?? []) {
    const schemas = rules.map(([prefix, schema]) => ({ prefix, schema }));
    state.schemas.set(namespace, { revision, rules: schemas, compiled: null });
  }
}

function coordinationBody(state: StoreState): CoordinationBody {
  const leases = [...state.leases.values()].map(
    (l): LeaseRow => [l.id, l.namespace, l.ttlMs, l.expiresAtMs, [...l.keys].sort()],
  );
  const locks = [...state.locks.values()].map(
    (k): LockRow => [
      k.lock,
      k.holder.lease,
      k.holder.fencingToken,
      k.holder.acquiredAtMs,
      [...k.waiters],
    ],
  );
  return { nextLease: state.nextLease, leases: leases.sort(byFirst), locks: locks.sort(byFirst) };
}

/** Leases' lock sets and the key index are derived: rebuilt here, not stored. */
function restoreCoordination(state: StoreState, body: CoordinationBody | undefined): void {
  if (body === undefined) return;
  state.nextLease = body.nextLease;
  for (const [id, namespace, ttlMs, expiresAtMs, keys] of body.leases) {
    state.leases.set(id, {
      id,
      namespace,
      ttlMs,
      expiresAtMs,
      keys: new Set(keys),
      locks: new Set(),
    });
    for (const key of keys) state.keyLeases.set(key, id);
  }
  for (const [lock, lease, fencingToken, acquiredAtMs, waiters] of body.locks) {
    state.locks.set(lock, { lock, holder: { lease, fencingToken, acquiredAtMs }, waiters });
    for (const id of [lease, ...waiters]) state.leases.get(id)?.locks.add(lock);
  }
}

function namespaceRow(name: string, ns: NamespaceState): NamespaceRow {
  const records = [...ns.records.values()].map(
    (r): RecordRow => [r.key, r.trimmedThroughRevision, r.versions.map(versionRow)],
  );
  return [name, ns.lastModRevision, ns.forgottenThroughRevision, records.sort(byFirst)];
}

function versionRow(v: Version): VersionRow {
  return [
    v.version,
    v.createRevision,
    v.modRevision,
    v.updatedAtMs,
    v.contentType,
    v.value,
    v.deleted,
  ];
}

export function canonicalOptions(o: StoreOptions): StoreOptions {
  return {
    historyVersionsPerKey: o.historyVersionsPerKey,
    shardBytesMax: o.shardBytesMax,
    historyBytesMax: o.historyBytesMax,
    namespaceKeysMax: o.namespaceKeysMax,
    idempotencyRecordsMax: o.idempotencyRecordsMax,
    idempotencyRecordAgeMsMax: o.idempotencyRecordAgeMsMax,
    idempotencyValueBytesMax: o.idempotencyValueBytesMax,
    deletedKeysRetainedMax: o.deletedKeysRetainedMax,
    tokensMax: o.tokensMax,
  };
}

function canonicalToken(t: TokenRecord): TokenRecord {
  return {
    id: t.id,
    hashHex: t.hashHex,
    scopes: t.scopes.map((s) => ({ namespaces: [...s.namespaces], ops: [...s.ops] })),
    ...(t.expiresAtMs === undefined ? {} : { expiresAtMs: t.expiresAtMs }),
    createdAtMs: t.createdAtMs,
    ...(t.name === undefined ? {} : { name: t.name }),
  };
}

/** Rebuilds a state from snapshot bytes; corrupt bytes are a programmer error (asserts). */
export function restoreState(bytes: Uint8Array): StoreState {
  const { format, body } = decodeFrame(bytes);
  assert(format === snapshotFormat, `unknown snapshot format ${format}`);
  const b = body as SnapshotBody;
  const state = emptyState(canonicalOptions(b.options));
  state.appliedIndex = b.appliedIndex;
  state.revision = b.revision;
  state.clockMs = b.clockMs;
  const audit = restoreAudit(state, b.audit);
  for (const row of b.namespaces) restoreNamespace(state, row, audit.get(row[0]));
  for (const [key, revision] of b.deletedKeys) state.deletedKeys.set(key, revision);
  state.deletedOrder = new Fifo(b.deletedKeys);
  state.superseded = new Fifo(b.superseded);
  for (const [key, recordedAtMs, fingerprint, outcome] of b.idempotency) {
    addIdempotencyRecord(state, {
      idempotencyKey: key,
      recordedAtMs,
      fingerprint,
      outcome,
      valueBytes: outcomeValueBytes(outcome),
    });
  }
  for (const token of b.tokens) {
    state.tokens.set(token.id, token);
    state.tokenIdsByHash.set(token.hashHex, token.id);
  }
  for (const namespace of b.publicReadNamespaces)
    state.namespaceSettings.set(namespace, { namespace, publicRead: true });
  state.cluster = b.cluster === undefined ? null : canonicalTopology(b.cluster);
  restoreCoordination(state, b.coordination);
  restoreSchemas(state, b.schemas);
  restoreTxns(state, b.txns);
  for (const [namespace, epoch, shard, flipped] of b.fences ?? [])
    state.fences.set(namespace, { epoch, shard, flipped });
  for (const [namespace, metaAtRevision] of b.incoming ?? [])
    state.incoming.set(namespace, { metaAtRevision });
  if (b.ringFence !== undefined) {
    const [epoch, shardCount, shard] = b.ringFence;
    state.ringFence = { epoch, shardCount, shard };
  }
  return state;
}

function restoreNamespace(
  state: StoreState,
  [name, lastModRevision, forgotten, rows]: NamespaceRow,
  audit: Map<number, AuditRecord> | undefined,
): void {
  const ns: NamespaceState = {
    records: new Map(),
    liveKeys: 0,
    lastModRevision,
    forgottenThroughRevision: forgotten,
    sortedLiveKeys: null,
  };
  for (const [key, trimmedThroughRevision, versionRows] of rows) {
    const versions = versionRows.map(
      ([version, createRevision, modRevision, updatedAtMs, contentType, value, deleted]) => ({
        version,
        createRevision,
        modRevision,
        updatedAtMs,
        contentType,
        value,
        deleted,
        ...attachAudit(audit, modRevision),
      }),
    );
    const record: KeyRecord = { key, versions, trimmedThroughRevision };
    const newest = newestVersion(record);
    for (const v of versions.slice(0, -1)) state.historyBytes += historyVersionBytes(key, v);
    state.historyVersions += versions.length - 1;
    if (!newest.deleted) {
      ns.liveKeys += 1;
      state.liveBytes += liveKeyBytes(key, newest.value.length);
    }
    ns.records.set(key, record);
  }
  state.namespaces.set(name, ns);
}
