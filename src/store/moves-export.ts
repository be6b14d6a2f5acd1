// The source side of a namespace move (docs/ARCHITECTURE.md "Resharding moves whole
// namespaces"): a read of one namespace's keys, retained history, idempotency records, schemas,
// leases and locks, as chunks that the target installs with namespaceImport (moves.ts).
//
// A pass reads the keys written after `sinceRevision` (0: every key) in key order, a byte budget
// at a time; the last chunk of a pass adds the namespace's meta. Chunks of one pass may come from
// different revisions (the source keeps taking writes): the next pass, since the revision of this
// pass's first chunk, sends again every key written meanwhile, so after the fence (no more
// writes) one last pass leaves the target equal to the source. A chunk is a query, not a
// command: reading costs the source no log entry.
import { namespaceShard } from "../base/index.ts";
import { auditFields, auditItem, schemasSubject } from "./audit.ts";
import { namespaceOf, systemNamespace, validateNamespace } from "./keys.ts";
import { storeLimits } from "./limits.ts";
import type { KeyRecord, StoreState, Version } from "./state.ts";
import { newestVersion } from "./state.ts";
import type * as t from "./types.ts";

export interface NamespaceExportQuery {
  namespace: string;
  /** Keys whose newest version is after this revision; 0: every key. */
  sinceRevision: t.Revision;
  /** The previous chunk's `cursor`: this chunk starts after that key. */
  cursor?: t.Key;
  /** Soft budget of the chunk (a key is never split); default storeLimits.moveChunkBytesMax. */
  bytesMax?: number;
}

export type NamespaceExportResult =
  | { type: "image"; revision: t.Revision; image: t.NamespaceImage; bytes: number }
  | { type: "invalid"; revision: t.Revision; detail: string };

/** Bytes a version costs in a chunk besides its value (its numbers, type, audit): an estimate. */
const versionOverheadBytes = 64;

export function exportNamespace(state: StoreState, q: NamespaceExportQuery): NamespaceExportResult {
  const revision = state.revision;
  const bytesMax = q.bytesMax ?? storeLimits.moveChunkBytesMax;
  const error = validateNamespace(q.namespace) ?? exportQueryError(q, bytesMax);
  if (error !== null) return { type: "invalid", revision, detail: error };
  const ns = state.namespaces.get(q.namespace);
  const records = [...(ns?.records.values() ?? [])]
    .filter((r) => (q.cursor === undefined || r.key > q.cursor) && changedAfter(r, q))
    .sort((a, b) => (a.key < b.key ? -1 : 1));
  const keys: t.KeyImage[] = [];
  let bytes = 0;
  for (const record of records) {
    const cost = recordBytes(record);
    if (keys.length > 0 && bytes + cost > bytesMax) break;
    keys.push(keyImage(record));
    bytes += cost;
  }
  const last = keys.length === records.length;
  const image: t.NamespaceImage = {
    namespace: q.namespace,
    atRevision: revision,
    sinceRevision: q.sinceRevision,
    keys,
    cursor: last ? null : keys[keys.length - 1]!.key,
    ...(last ? { meta: metaImage(state, q.namespace) } : {}),
  };
  return { type: "image", revision, image, bytes };
}

function exportQueryError(q: NamespaceExportQuery, bytesMax: number): string | null {
  if (!Number.isSafeInteger(q.sinceRevision) || q.sinceRevision < 0)
    return `sinceRevision must be a non-negative integer, got ${q.sinceRevision}`;
  if (!Number.isSafeInteger(bytesMax) || bytesMax < 1)
    return `bytesMax must be a positive integer, got ${bytesMax}`;
  if (q.cursor !== undefined && namespaceOf(q.cursor) !== q.namespace)
    return `cursor ${JSON.stringify(q.cursor)} is not a key of namespace ${q.namespace}`;
  return null;
}

function changedAfter(record: KeyRecord, q: NamespaceExportQuery): boolean {
  return q.sinceRevision === 0 || newestVersion(record).modRevision > q.sinceRevision;
}

export function recordBytes(record: KeyRecord): number {
  let bytes = record.key.length;
  for (const v of record.versions) bytes += v.value.length + versionOverheadBytes;
  return bytes;
}

function keyImage(record: KeyRecord): t.KeyImage {
  return {
    key: record.key,
    trimmedThroughRevision: record.trimmedThroughRevision,
    versions: record.versions.map(versionImage),
  };
}

function versionImage(v: Version): t.VersionImage {
  const a = v.audit;
  return {
    version: v.version,
    createRevision: v.createRevision,
    modRevision: v.modRevision,
    updatedAtMs: v.updatedAtMs,
    contentType: v.contentType,
    value: v.value,
    deleted: v.deleted,
    ...(a === undefined ? {} : { audit: { atMs: a.atMs, op: a.op, keys: a.keys, ...auditOf(v) } }),
  };
}

function auditOf(v: Version): t.CommandAudit {
  const f = auditFields(v);
  return {
    ...(f.actor === undefined ? {} : { actor: f.actor }),
    ...(f.reason === undefined ? {} : { reason: f.reason }),
    ...(f.requestId === undefined ? {} : { requestId: f.requestId }),
  };
}

function metaImage(state: StoreState, namespace: string): t.NamespaceMetaImage {
  const ns = state.namespaces.get(namespace);
  const schemas = state.schemas.get(namespace);
  return {
    lastModRevision: ns?.lastModRevision ?? 0,
    forgottenThroughRevision: ns?.forgottenThroughRevision ?? 0,
    idempotency: state.idempotencyOrder
      .toArray()
      .filter((r) => outcomeNamespace(r.outcome) === namespace)
      .map((r) => ({
        idempotencyKey: r.idempotencyKey,
        fingerprint: r.fingerprint,
        outcome: r.outcome,
      })),
    schemas:
      schemas === undefined
        ? null
        : { revision: schemas.revision, rules: schemas.rules.map((r) => ({ ...r })) },
    leases: [...state.leases.values()]
      .filter((l) => l.namespace === namespace)
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((l) => ({
        id: l.id,
        ttlMs: l.ttlMs,
        expiresAtMs: l.expiresAtMs,
        keys: [...l.keys].sort(),
      })),
    locks: [...state.locks.values()]
      .filter((k) => namespaceOf(k.lock) === namespace)
      .sort((a, b) => (a.lock < b.lock ? -1 : 1))
      .map((k) => ({ lock: k.lock, ...k.holder, waiters: [...k.waiters] })),
    schemaAudits: (state.audit.get(systemNamespace)?.records ?? [])
      .filter((r) => r.retained > 0 && r.keys[0] === schemasSubject(namespace))
      .map(auditItem),
  };
}

/**
 * The namespaces this shard serves (keys, schemas or leases; not those moving in or flipped
 * away), sorted: what a reshard looks through for the ones whose shard changes.
 */
export function servedNamespaces(state: StoreState, leaving?: Leaving): ServedNamespaces {
  const names = new Set<string>();
  for (const [name, ns] of state.namespaces) if (ns.records.size > 0) names.add(name);
  for (const name of state.schemas.keys()) names.add(name);
  for (const lease of state.leases.values()) names.add(lease.namespace);
  const served = [...names].filter((n) => !arrivingOrGone(state, n));
  if (leaving === undefined) return { namespaces: served.sort(), total: served.length };
  const away = served.filter((n) => namespaceShard(n, leaving.shardCount) !== leaving.shard);
  return { namespaces: away.sort().slice(0, leaving.limit), total: away.length };
}

/** A reshard's look at a shard: only the namespaces the new ring puts elsewhere, a few at once. */
export interface Leaving {
  /** The new ring's size, and this shard's index in it. */
  shardCount: number;
  shard: number;
  /** At most this many names (the first, sorted); `total` counts them all. */
  limit: number;
}

export interface ServedNamespaces {
  namespaces: string[];
  total: number;
}

/** Being imported here, or flipped away: not this shard's to serve (or to move) now. */
function arrivingOrGone(state: StoreState, namespace: string): boolean {
  return state.incoming.has(namespace) || state.fences.get(namespace)?.flipped === true;
}

/** Whether `namespace` has anything here that servedNamespaces would list (one namespace). */
export function servesNamespace(state: StoreState, namespace: string): boolean {
  if (arrivingOrGone(state, namespace)) return false;
  if ((state.namespaces.get(namespace)?.records.size ?? 0) > 0) return true;
  if (state.schemas.has(namespace)) return true;
  for (const lease of state.leases.values()) if (lease.namespace === namespace) return true;
  return false;
}

/**
 * The namespace an idempotency record belongs to, from its outcome. Every outcome of a write
 * that changed state names a key, its namespace or a lease of it; the few that name none (a
 * delete of an absent key, a CAS on an absent key) changed nothing, so a retry that applies
 * again after the move answers the same.
 */
export function outcomeNamespace(o: t.WriteOutcome): string | null {
  switch (o.type) {
    case "ok":
      return namespaceOf(o.entry.key);
    case "preconditionFailed":
      return o.current === null ? null : namespaceOf(o.current.key);
    case "txn": {
      for (const r of o.results) {
        const entry = r.type === "delete" ? r.deleted : r.entry;
        if (entry !== null) return namespaceOf(entry.key);
      }
      return null;
    }
    case "namespaceWrite":
    case "namespaceChanged":
      return o.namespace;
    case "lease":
      return o.lease.namespace;
    case "leaseEnded":
      return o.id.slice(0, o.id.indexOf("~"));
    case "lock":
    case "lockRelease":
      return namespaceOf(o.state.lock);
    case "fenced":
      return namespaceOf(o.fence.lock);
    case "schemasSet":
      return o.schemas.namespace;
    case "txnKeyed":
      return o.recordNamespace;
    default:
      return null;
  }
}
