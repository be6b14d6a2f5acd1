// GET /v1/audit's read: a namespace's audited revisions, newest first, paged by an opaque cursor
// naming the oldest revision of the page served (the next page starts below it).
import { auditItem, schemasSubject } from "./audit.ts";
import { systemNamespace, validateNamespace } from "./keys.ts";
import { storeLimits } from "./limits.ts";
import type { AuditRecord, StoreState } from "./state.ts";
import type { AuditItem, AuditQuery, AuditResult } from "./types.ts";

export function auditList(state: StoreState, q: AuditQuery): AuditResult {
  const revision = state.revision;
  const limit = q.limit ?? storeLimits.auditLimitDefault;
  const error =
    (q.namespace === systemNamespace ? null : validateNamespace(q.namespace)) ?? limitError(limit);
  if (error !== null) return { type: "invalid", revision, detail: error };
  const before = q.cursor === undefined ? Infinity : decodeCursor(q.cursor);
  if (before instanceof Error) return { type: "invalid", revision, detail: before.message };
  const own = state.audit.get(q.namespace)?.records ?? [];
  const schemaChanges = q.namespace === systemNamespace ? [] : schemaRecords(state, q.namespace);
  const items: AuditItem[] = [];
  let i = lowerBound(own, before) - 1;
  let j = lowerBound(schemaChanges, before) - 1;
  for (; (i >= 0 || j >= 0) && items.length < limit; ) {
    const fromOwn = j < 0 || (i >= 0 && own[i]!.revision > schemaChanges[j]!.revision);
    const r = fromOwn ? own[i--]! : schemaChanges[j--]!;
    if (r.retained > 0) items.push(auditItem(r));
  }
  while (i >= 0 && own[i]!.retained === 0) i--;
  const last = items[items.length - 1];
  const more = i >= 0 || j >= 0;
  return { type: "audit", revision, items, cursor: more && last ? `1.${last.revision}` : null };
}

/**
 * A namespace's schema changes: kept in its shard's `_sys` log (a schemaSet writes no key), at
 * most auditSystemRecordsMax of them, so a scan costs little.
 */
function schemaRecords(state: StoreState, namespace: string): AuditRecord[] {
  const subject = schemasSubject(namespace);
  const log = state.audit.get(systemNamespace)?.records ?? [];
  return log.filter((r) => r.keys[0] === subject);
}

function limitError(limit: number): string | null {
  if (Number.isSafeInteger(limit) && limit >= 1 && limit <= storeLimits.listLimitMax) return null;
  return `limit must be an integer from 1 to ${storeLimits.listLimitMax}, got ${limit}`;
}

/** Versioned so its form can change. */
function decodeCursor(cursor: string): number | Error {
  const m = /^1\.(\d{1,15})$/.exec(cursor);
  if (m === null)
    return new Error("cursor is not one this audit list returned: start again without a cursor");
  return Number(m[1]);
}

/** The index of the first record at or after `revision` (records are in revision order). */
function lowerBound(records: AuditRecord[], revision: number): number {
  let lo = 0,
    hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (records[mid]!.revision < revision) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
