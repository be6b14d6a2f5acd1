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
  };
}
