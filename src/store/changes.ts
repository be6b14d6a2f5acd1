// Changes since a revision under a prefix: what SSE watch streams. Rebuilt from per-key history
// (there is no separate change log to bound); `compacted` when any event after `afterRevision`
// may have been trimmed or forgotten, so the watcher re-reads and resumes instead of missing one.
// Cost: a scan of the namespace's retained history, bounded by namespaceKeysMax, retained deleted
// keys and historyVersionsPerKey.
import { auditFields } from "./audit.ts";
import { validatePrefix } from "./keys.ts";
import { storeLimits } from "./limits.ts";
import type { KeyRecord, StoreState } from "./state.ts";
import type { ChangeEvent, ChangesQuery, ChangesResult } from "./types.ts";

export function changes(state: StoreState, q: ChangesQuery): ChangesResult {
  const revision = state.revision;
  const limit = q.limit ?? storeLimits.listLimitMax;
  const error = validatePrefix(q.prefix) ?? queryError(q.afterRevision, limit);
  if (error !== null) return { type: "invalid", revision, detail: error };
  if (q.afterRevision >= revision)
    return {
      type: "changes",
      revision,
      events: [],
      nextAfterRevision: Math.max(q.afterRevision, revision),
    };
  const ns = state.namespaces.get(q.prefix.slice(0, q.prefix.indexOf("/")));
  if (q.afterRevision < (ns?.forgottenThroughRevision ?? 0)) return { type: "compacted", revision };
  const records = [...(ns?.records.values() ?? [])].filter((r) => r.key.startsWith(q.prefix));
  if (records.some((r) => r.trimmedThroughRevision > q.afterRevision))
    return { type: "compacted", revision };
  const events = records.flatMap((r) => eventsAfter(r, q.afterRevision, q.values ?? true));
  events.sort(
    (a, b) => a.modRevision - b.modRevision || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  return page(events, limit, revision);
}

function queryError(afterRevision: number, limit: number): string | null {
  if (!Number.isSafeInteger(afterRevision) || afterRevision < 0)
    return `afterRevision must be a non-negative integer, got ${afterRevision}`;
  if (!Number.isSafeInteger(limit) || limit < 1)
    return `limit must be a positive integer, got ${limit}`;
  return null;
}

function eventsAfter(record: KeyRecord, afterRevision: number, values: boolean): ChangeEvent[] {
  return record.versions
    .filter((v) => v.modRevision > afterRevision)
    .map((v) => ({
      type: v.deleted ? "delete" : "put",
      key: record.key,
      modRevision: v.modRevision,
      version: v.version,
      createRevision: v.createRevision,
      contentType: v.contentType,
      ...(values && !v.deleted ? { value: v.value } : {}),
      ...(v.audit === undefined ? {} : { updatedAtMs: v.updatedAtMs, ...auditFields(v) }),
    }));
}

/** At most `limit` events, but never half a revision: a txn's events arrive together. */
function page(events: ChangeEvent[], limit: number, revision: number): ChangesResult {
  if (events.length <= limit)
    return { type: "changes", revision, events, nextAfterRevision: revision };
  let end = limit;
  const lastRevision = events[limit - 1]!.modRevision;
  while (end < events.length && events[end]!.modRevision === lastRevision) end += 1;
  return {
    type: "changes",
    revision,
    events: events.slice(0, end),
    nextAfterRevision: lastRevision,
  };
}
