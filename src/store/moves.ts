// The state-machine steps of a namespace move (docs/ARCHITECTURE.md "Resharding moves whole
// namespaces"): the target installs chunks (namespaceImport), the source fences the namespace's
// writes (namespaceFence: a typed `moved` outcome, reads still served) and, after the ring has
// flipped, forgets its data (namespaceDrop). The reading side is moves-export.ts.
//
// Revision numbering: a moved version keeps its modRevision (its ETag), and the target's revision
// jumps to at least the source's revision at each chunk (`atRevision`). After the last pass,
// taken once the fence stopped the namespace's writes, the target's revision is past every
// revision the namespace ever had on the source, so a write on the target can never reuse an
// ETag, a CAS with a pre-move ETag succeeds exactly when the key is unchanged, a watch resumed
// on the target from a source revision sees exactly the later events, and a read-your-writes
// token of the source is behind the target's state. This is CockroachDB's rule for range moves
// (the receiver's clock is bumped past the sender's) applied to revision counters.
import { logOf, releaseAudit } from "./audit.ts";
import { storeLimits } from "./limits.ts";
import { historyVersionBytes, trimOldest } from "./history.ts";
import { addIdempotencyRecord, boundIdempotencyRecords, outcomeValueBytes } from "./idempotency.ts";
import { namespaceOf, systemNamespace, validateNamespace } from "./keys.ts";
import { detachKey } from "./lease-keys.ts";
import { noteDeleted } from "./retention.ts";
import type { AuditRecord, KeyRecord, NamespaceState, StoreState, Version } from "./state.ts";
import { liveKeyBytes, namespaceState, newestVersion } from "./state.ts";
import type * as t from "./types.ts";
import { invalid } from "./validate.ts";

export function applyNamespaceImport(
  state: StoreState,
  c: t.NamespaceImportCommand,
): t.WriteOutcome {
  const image = c.image;
  const error = validateNamespace(image.namespace) ?? imageError(image);
  if (error !== null) return invalid(state, "namespace", error);
  const served = servedHere(state, image.namespace);
  if (served !== null) return invalid(state, "namespace", served);
  const tooLarge = importQuota(state, image);
  if (tooLarge !== null) return tooLarge;
  // A namespace coming back to a shard it once left is served here again once activated.
  state.fences.delete(image.namespace);
  const incoming = state.incoming.get(image.namespace) ?? { metaAtRevision: -1 };
  state.incoming.set(image.namespace, incoming);
  const ns = namespaceState(state, image.namespace);
  // Per key, only forward: a chunk read before one already installed (a second driver, a retry)
  // never takes a key back to an older version.
  const keys = image.keys.filter((k) => isNewer(k, ns.records.get(k.key)));
  for (const k of keys) {
    const old = ns.records.get(k.key);
    if (old !== undefined) unfileRecord(state, ns, old);
  }
  const audits = auditIndex(state, image.namespace);
  for (const k of keys) fileRecord(state, ns, k, audits);
  fileAudits(state, image.namespace, audits);
  let top = image.atRevision;
  for (const k of keys) top = Math.max(top, newestVersion(ns.records.get(k.key)!).modRevision);
  state.revision = Math.max(state.revision, top);
  if (image.meta !== undefined && image.atRevision >= incoming.metaAtRevision) {
    incoming.metaAtRevision = image.atRevision;
    importMeta(state, ns, image, c.atMs);
  }
  return {
    type: "namespaceMove",
    revision: state.revision,
    step: "imported",
    namespace: image.namespace,
    keys: image.keys.length,
  };
}

/** Why the namespace cannot be imported: it is served here (not moving in), or null. */
function servedHere(state: StoreState, namespace: string): string | null {
  if (state.incoming.has(namespace)) return null;
  const here =
    (state.namespaces.get(namespace)?.records.size ?? 0) > 0 ||
    state.schemas.has(namespace) ||
    [...state.leases.values()].some((l) => l.namespace === namespace);
  if (!here) return null;
  return `namespace ${namespace} is served by this shard: only a namespace moving in is imported`;
}

function isNewer(k: t.KeyImage, old: KeyRecord | undefined): boolean {
  if (old === undefined) return true;
  return k.versions[k.versions.length - 1]!.modRevision >= newestVersion(old).modRevision;
}

/** Why a chunk cannot be installed (it did not come from exportNamespace), or null. */
function imageError(image: t.NamespaceImage): string | null {
  for (const k of image.keys) {
    if (namespaceOf(k.key) !== image.namespace)
      return `key ${JSON.stringify(k.key)} is not in namespace ${image.namespace}`;
    if (k.versions.length === 0) return `key ${k.key} has no version`;
    for (let i = 1; i < k.versions.length; i++)
      if (k.versions[i - 1]!.modRevision >= k.versions[i]!.modRevision)
        return `the history of ${k.key} is out of order`;
  }
  return null;
}

/** 507 when the chunk's live bytes would overfill this shard; nothing changes. */
function importQuota(state: StoreState, image: t.NamespaceImage): t.TooLargeOutcome | null {
  let delta = 0;
  const ns = state.namespaces.get(image.namespace);
  for (const k of image.keys) {
    const v = k.versions[k.versions.length - 1]!;
    if (!v.deleted) delta += liveKeyBytes(k.key, v.value.length);
    const old = ns?.records.get(k.key);
    const oldV = old === undefined ? undefined : newestVersion(old);
    if (oldV !== undefined && !oldV.deleted) delta -= liveKeyBytes(k.key, oldV.value.length);
  }
  const max = state.options.shardBytesMax;
  const wouldBe = state.liveBytes + delta;
  if (delta <= 0 || wouldBe <= max) return null;
  return { type: "tooLarge", revision: state.revision, limit: "shardBytesMax", max, wouldBe };
}

/** Takes a key's record out of the state with everything derived from it. */
export function unfileRecord(state: StoreState, ns: NamespaceState, record: KeyRecord): void {
  const key = record.key;
  const newest = newestVersion(record);
  if (newest.deleted) state.deletedKeys.delete(key);
  else {
    state.liveBytes -= liveKeyBytes(key, newest.value.length);
    ns.liveKeys -= 1;
    detachKey(state, key);
  }
  for (const v of record.versions.slice(0, -1)) state.historyBytes -= historyVersionBytes(key, v);
  state.historyVersions -= record.versions.length - 1;
  for (const v of record.versions) releaseAudit(state, key, v);
  ns.records.delete(key);
  ns.sortedLiveKeys = null;
}

/** The namespace's retained audit records by revision, plus the new ones a chunk brings. */
interface AuditIndex {
  byRevision: Map<t.Revision, AuditRecord>;
  added: AuditRecord[];
}

function auditIndex(state: StoreState, namespace: string): AuditIndex {
  const log = state.audit.get(namespace);
  if (log !== undefined && log.dropped > 0) {
    log.records = log.records.filter((r) => r.retained > 0);
    log.dropped = 0;
  }
  const records = log?.records ?? [];
  return { byRevision: new Map(records.map((r) => [r.revision, r])), added: [] };
}

function fileAudits(state: StoreState, namespace: string, index: AuditIndex): void {
  if (index.added.length === 0) return;
  const log = state.audit.get(namespace) ?? { records: [], dropped: 0 };
  log.records = [...log.records, ...index.added].sort((a, b) => a.revision - b.revision);
  state.audit.set(namespace, log);
}

function auditRecordOf(v: t.VersionImage, index: AuditIndex): AuditRecord | undefined {
  const a = v.audit;
  if (a === undefined) return undefined;
  let record = index.byRevision.get(v.modRevision);
  if (record === undefined) {
    record = {
      revision: v.modRevision,
      atMs: a.atMs,
      op: a.op,
      keys: a.keys,
      actor: a.actor,
      reason: a.reason,
      requestId: a.requestId,
      retained: 0,
    };
    index.byRevision.set(v.modRevision, record);
    index.added.push(record);
  }
  record.retained += 1;
  return record;
}

/** Puts a key's record from a chunk into the state, counted as if it had been written here. */
function fileRecord(
  state: StoreState,
  ns: NamespaceState,
  k: t.KeyImage,
  audits: AuditIndex,
): void {
  const versions = k.versions.map((v): Version => {
    const audit = auditRecordOf(v, audits);
    const { audit: _, ...fields } = v;
    return audit === undefined ? fields : { ...fields, audit };
  });
  const record: KeyRecord = {
    key: k.key,
    versions,
    trimmedThroughRevision: k.trimmedThroughRevision,
  };
  ns.records.set(k.key, record);
  ns.sortedLiveKeys = null;
  for (const v of versions.slice(0, -1)) {
    state.historyBytes += historyVersionBytes(k.key, v);
    state.superseded.push([k.key, v.modRevision]);
  }
  state.historyVersions += versions.length - 1;
  const newest = newestVersion(record);
  ns.lastModRevision = Math.max(ns.lastModRevision, newest.modRevision);
  const excess = versions.length - state.options.historyVersionsPerKey;
  if (excess > 0) trimOldest(state, record, excess);
  if (newest.deleted) noteDeleted(state, k.key, newest.modRevision);
  else {
    ns.liveKeys += 1;
    state.liveBytes += liveKeyBytes(k.key, newest.value.length);
  }
}

/** Idempotency records, schemas, leases and locks of the namespace, as the source holds them. */
function importMeta(
  state: StoreState,
  ns: NamespaceState,
  image: t.NamespaceImage,
  atMs: number,
): void {
  const meta = image.meta!;
  // The meta of a later pass replaces that of an earlier one (isNewer's rule for keys).
  ns.lastModRevision = Math.max(ns.lastModRevision, meta.lastModRevision);
  ns.forgottenThroughRevision = Math.max(
    ns.forgottenThroughRevision,
    meta.forgottenThroughRevision,
  );
  for (const r of meta.idempotency) {
    if (state.idempotency.has(r.idempotencyKey)) continue; // here already (or a key taken here)
    // Restamped: the queue is in recordedAtMs order, and a record lives its full age here.
    const { outcome } = r;
    const valueBytes = outcomeValueBytes(outcome);
    addIdempotencyRecord(state, { ...r, recordedAtMs: state.clockMs, valueBytes });
  }
  boundIdempotencyRecords(state);
  if (meta.schemas === null) state.schemas.delete(image.namespace);
  else state.schemas.set(image.namespace, { ...meta.schemas, compiled: null });
  dropCoordination(state, image.namespace);
  importLeases(state, image.namespace, meta, atMs);
  importSchemaAudits(state, meta.schemaAudits);
}

/**
 * The records of the namespace's schema changes, merged into this shard's `_sys` log by revision;
 * one whose revision a record here already has is there already (an earlier pass) or, in the
 * rare case that revision was also one of this shard's own `_sys` revisions, left out.
 */
function importSchemaAudits(state: StoreState, items: t.AuditItem[]): void {
  if (items.length === 0) return;
  const log = logOf(state, systemNamespace);
  const taken = new Set(log.records.map((r) => r.revision));
  const added = items
    .filter((a) => !taken.has(a.revision))
    .map(
      (a): AuditRecord => ({
        ...a,
        actor: a.actor,
        reason: a.reason,
        requestId: a.requestId,
        retained: 1,
      }),
    );
  log.records = [...log.records, ...added].sort((a, b) => a.revision - b.revision);
  while (log.records.length > storeLimits.auditSystemRecordsMax) log.records.shift()!.retained = 0;
}

/**
 * The namespace's leases and locks as the source had them. A lease lives at least a TTL from the
 * import, as after a leader change (leases.ts): the source's leader may have renewed it from
 * memory without a log entry, and a kept-alive lease must never end early.
 */
function importLeases(
  state: StoreState,
  namespace: string,
  meta: t.NamespaceMetaImage,
  atMs: number,
): void {
  for (const l of meta.leases) {
    const keys = new Set(l.keys.filter((key) => isLive(state, key)));
    const expiresAtMs = Math.max(l.expiresAtMs, atMs + l.ttlMs);
    state.leases.set(l.id, {
      id: l.id,
      namespace,
      ttlMs: l.ttlMs,
      expiresAtMs,
      keys,
      locks: new Set(),
    });
    for (const key of keys) state.keyLeases.set(key, l.id);
    state.nextLease = Math.max(state.nextLease, Number(l.id.slice(namespace.length + 1)) + 1);
  }
  for (const k of meta.locks) {
    const holder = state.leases.get(k.lease);
    if (holder === undefined) continue;
    const waiters = k.waiters.filter((id) => state.leases.has(id));
    const { lease, fencingToken, acquiredAtMs } = k;
    state.locks.set(k.lock, {
      lock: k.lock,
      holder: { lease, fencingToken, acquiredAtMs },
      waiters,
    });
    for (const id of [lease, ...waiters]) state.leases.get(id)!.locks.add(k.lock);
  }
}

function isLive(state: StoreState, key: string): boolean {
  const record = state.namespaces.get(namespaceOf(key))?.records.get(key);
  return record !== undefined && !newestVersion(record).deleted;
}

/** Forgets the namespace's leases and locks (the keys stay: they are not ended, only moved). */
export function dropCoordination(state: StoreState, namespace: string): void {
  for (const [id, lease] of [...state.leases]) {
    if (lease.namespace !== namespace) continue;
    for (const key of lease.keys) state.keyLeases.delete(key);
    state.leases.delete(id);
  }
  for (const lock of [...state.locks.keys()])
    if (namespaceOf(lock) === namespace) state.locks.delete(lock);
}
