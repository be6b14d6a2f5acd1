// The JSON shape of an entry (`?meta`, PUT responses, listings, 412 bodies) and of history items.
import type { HistoryItem, KvEntry } from "../store/index.ts";

export interface EntryJson {
  key: string;
  contentType: string;
  size: number;
  version: number;
  createRevision: number;
  modRevision: number;
  /** RFC 3339, UTC, milliseconds. */
  updatedAt: string;
}

export function entryJson(e: KvEntry): EntryJson {
  return {
    key: e.key,
    contentType: e.contentType,
    size: e.size,
    version: e.version,
    createRevision: e.createRevision,
    modRevision: e.modRevision,
    updatedAt: new Date(e.updatedAtMs).toISOString(),
  };
}

export function historyJson(h: HistoryItem) {
  return {
    version: h.version,
    modRevision: h.modRevision,
    createRevision: h.createRevision,
    updatedAt: new Date(h.updatedAtMs).toISOString(),
    size: h.size,
    contentType: h.contentType,
    deleted: h.deleted,
    ...auditJson(h.updatedAtMs, h),
  };
}

/**
 * Who and why, as history items, watch events and GET /v1/audit carry them: `at` always (the
 * write's time), the rest when the revision has an audit record (not for writes made before
 * audit existed).
 */
export function auditJson(atMs: number, a: Pick<HistoryItem, "actor" | "reason" | "requestId">) {
  return {
    at: new Date(atMs).toISOString(),
    ...(a.actor === undefined ? {} : { actor: a.actor }),
    ...(a.reason === undefined ? {} : { reason: a.reason }),
    ...(a.requestId === undefined ? {} : { requestId: a.requestId }),
  };
}
