// The audit trail (http-api.md "Audit"): who made each revision, when (the command's atMs) and
// why, recorded by the state machine from the command itself, so every replica holds the same.
//
// Design decision: a record lives exactly as long as the history of its revision. The versions a
// revision wrote point at its one record (a txn's versions share it); when history retention
// trims or forgets the last of them, the record goes too. So the audit trail needs no retention
// of its own and costs no second log: its bytes (auditRecordOverheadBytes + reason + request id)
// count against historyBytesMax with each superseded version that points at it. Revisions in the
// `_sys` area (tokens, namespace settings) write no key history: the latest
// auditSystemRecordsMax of them are kept. Lease keep-alives and lock hand-offs, which write no
// key either, are not recorded: a keep-alive every few seconds would flush the changes people
// look for. Commands from before audit existed have no `audit` and get no record.
import { assert } from "./assert.ts";
import { namespaceOf, systemNamespace } from "./keys.ts";
import { storeLimits } from "./limits.ts";
import type { AuditLog, AuditRecord, StoreState, Version } from "./state.ts";
import { newestVersion, recordOf } from "./state.ts";
import type * as t from "./types.ts";
import { invalid } from "./validate.ts";

const systemActor: t.AuditActor = Object.freeze({ kind: "system" });
const encoder = new TextEncoder();

/** An audit that no API request would send (an over-long reason); null when it is fine. */
export function checkAudit(state: StoreState, c: t.Command): t.InvalidOutcome | null {
  const a = c.audit;
  if (a === undefined) return null;
  const { auditReasonBytesMax: reasonMax, auditRequestIdBytesMax: idMax } = storeLimits;
  if (a.reason !== undefined && encoder.encode(a.reason).length > reasonMax)
    return invalid(state, "audit", `the reason is longer than ${reasonMax} bytes`);
  if (a.requestId !== undefined && (a.requestId.length === 0 || a.requestId.length > idMax))
    return invalid(state, "audit", `the request id must be 1 to ${idMax} characters`);
  return null;
}

/** Bytes a record costs, counted with each superseded version that points at it. */
export function auditBytes(record: AuditRecord): number {
  return (
    storeLimits.auditRecordOverheadBytes +
    (record.reason?.length ?? 0) +
    (record.requestId?.length ?? 0)
  );
}

/**
 * Records the revision `c` just made (state.revision), from the keys it wrote (touchedKeys).
 * Called once per command that advanced the revision; clears the scratch list.
 */
export function recordAudit(state: StoreState, c: t.Command): void {
  const keys = state.touchedKeys;
  state.touchedKeys = [];
  const actor = c.audit?.actor ?? (c.type === "leaseExpire" ? systemActor : undefined);
  if (actor === undefined && c.audit === undefined) return;
  if (keys.length > 0) {
    // One record per namespace written: a cross-shard txn's commit may write several namespaces
    // of this shard, and each namespace's trail lists it.
    for (const group of byNamespace(keys)) recordKeys(state, c, group, actor);
    return;
  }
  const subject = systemSubject(c);
  if (subject === null) return;
  const log = logOf(state, systemNamespace);
  const record = newRecord(state, c, [subject], actor, log);
  record.retained = 1;
  log.records.push(record);
  while (log.records.length > storeLimits.auditSystemRecordsMax) log.records.shift()!.retained = 0;
}

function byNamespace(keys: string[]): string[][] {
  const first = namespaceOf(keys[0]!);
  if (keys.every((k) => namespaceOf(k) === first)) return [keys];
  const groups = new Map<string, string[]>();
  for (const key of keys) {
    const namespace = namespaceOf(key);
    groups.set(namespace, [...(groups.get(namespace) ?? []), key]);
  }
  return [...groups.values()];
}

function recordKeys(
  state: StoreState,
  c: t.Command,
  keys: string[],
  actor: t.AuditActor | undefined,
): void {
  const log = logOf(state, namespaceOf(keys[0]!));
  const record = newRecord(state, c, keys, actor, log);
  for (const key of keys) {
    // A delete may be forgotten in the very revision that made it (deletedKeysRetainedMax:
    // an apply that prunes more keys than are kept): no version is left to carry the record.
    const kept = recordOf(state, key);
    if (kept === undefined) continue;
    const v = newestVersion(kept);
    assert(v.modRevision === record.revision, `key ${key} was not written at this revision`);
    v.audit = record;
    record.retained += 1;
  }
  if (record.retained > 0) log.records.push(record);
}

/** The pseudo-key a `_sys` revision is listed under; null for commands that are not recorded. */
function systemSubject(c: t.Command): string | null {
  if (c.type === "tokenCreate" || c.type === "tokenRevoke")
    return `${systemNamespace}/tokens/${c.id}`;
  if (c.type === "namespaceSet") return `${systemNamespace}/settings/${c.namespace}`;
  // Kept by the namespace's own shard, which writes no key for it: listed with the namespace.
  if (c.type === "schemaSet") return schemasSubject(c.namespace);
  return null;
}

/** The pseudo-key a namespace's schema changes are listed under (audit-query.ts merges them). */
export function schemasSubject(namespace: string): string {
  return `${systemNamespace}/schemas/${namespace}`;
}

function newRecord(
  state: StoreState,
  c: t.Command,
  keys: string[],
  actor: t.AuditActor | undefined,
  log: AuditLog,
): AuditRecord {
  const previous = log.records[log.records.length - 1]?.actor;
  return {
    revision: state.revision,
    atMs: c.atMs,
    op: c.type,
    keys,
    // Consecutive writes by one actor share its object (a deploy writes many revisions).
    actor: previous !== undefined && sameActor(previous, actor) ? previous : actor,
    reason: c.audit?.reason,
    requestId: c.audit?.requestId,
    retained: 0,
  };
}

function sameActor(a: t.AuditActor, b: t.AuditActor | undefined): boolean {
  return b !== undefined && a.kind === b.kind && a.id === b.id && a.name === b.name;
}

export function logOf(state: StoreState, scope: string): AuditLog {
  let log = state.audit.get(scope);
  if (log === undefined) state.audit.set(scope, (log = { records: [], dropped: 0 }));
  return log;
}

/** A version of `key` leaves history: its record goes with the last version pointing at it. */
export function releaseAudit(state: StoreState, key: string, v: Version): void {
  const record = v.audit;
  if (record === undefined) return;
  record.retained -= 1;
  if (record.retained > 0) return;
  const log = state.audit.get(namespaceOf(key))!;
  log.dropped += 1;
  // Compacted when dropped records outnumber the kept ones: amortized O(1) per record.
  if (log.dropped <= log.records.length / 2 + 64) return;
  log.records = log.records.filter((r) => r.retained > 0);
  log.dropped = 0;
  if (log.records.length === 0) state.audit.delete(namespaceOf(key));
}

/** Who and why of a version, as history items and change events carry it. */
export function auditFields(v: Version): Pick<t.HistoryItem, "actor" | "reason" | "requestId"> {
  const r = v.audit;
  if (r === undefined) return {};
  return {
    ...(r.actor === undefined ? {} : { actor: { ...r.actor } }),
    ...(r.reason === undefined ? {} : { reason: r.reason }),
    ...(r.requestId === undefined ? {} : { requestId: r.requestId }),
  };
}

export function auditItem(r: AuditRecord): t.AuditItem {
  return {
    revision: r.revision,
    atMs: r.atMs,
    op: r.op,
    keys: [...r.keys],
    ...(r.actor === undefined ? {} : { actor: { ...r.actor } }),
    ...(r.reason === undefined ? {} : { reason: r.reason }),
    ...(r.requestId === undefined ? {} : { requestId: r.requestId }),
  };
}
