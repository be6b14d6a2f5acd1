// Point reads served from the applied state: get (latest or at a revision), meta, history,
// tokens and namespace settings. list/bundle live in list.ts, changes in changes.ts; the query
// language that names them all, and answers a query by its type, in query.ts.
import { auditFields } from "./audit.ts";
import { versionAt } from "./history.ts";
import { validateKey } from "./keys.ts";
import type { StoreState } from "./state.ts";
import { entryOf, liveVersion, recordOf } from "./state.ts";
import type {
  GetQuery,
  GetResult,
  HistoryResult,
  MetaResult,
  NamespaceSettings,
  TokenRecord,
  TxnIntent,
} from "./types.ts";
import { intentOutcome } from "./intents.ts";

export function get(state: StoreState, q: GetQuery): GetResult {
  const revision = state.revision;
  const error = validateKey(q.key) ?? revisionError(q.atRevision);
  if (error !== null) return { type: "invalid", revision, detail: error };
  if (q.atRevision !== undefined && q.atRevision > revision)
    return { type: "futureRevision", revision };
  const at = versionAt(state, q.key, q.atRevision ?? revision);
  const pending = q.atRevision === undefined ? pendingWrite(state, q.key) : {};
  if (at.type === "version") {
    const entry = entryOf(q.key, at.version);
    return { type: "found", revision, entry, value: at.version.value, ...pending };
  }
  if (at.type === "absent") return { type: "notFound", revision, ...pending };
  return { type: "compacted", revision };
}

/** The write intent on `key`, if a cross-shard txn holds one (O(1) when none is held). */
function pendingWrite(state: StoreState, key: string): { intent?: TxnIntent } {
  if (state.intents.size === 0) return {};
  const held = intentOutcome(state, key, true);
  return held === null ? {} : { intent: held.intent };
}

function revisionError(atRevision: number | undefined): string | null {
  if (atRevision === undefined || (Number.isSafeInteger(atRevision) && atRevision >= 1))
    return null;
  return `revision must be a positive integer, got ${atRevision}`;
}

export function meta(state: StoreState, key: string): MetaResult {
  const revision = state.revision;
  const error = validateKey(key);
  if (error !== null) return { type: "invalid", revision, detail: error };
  const live = liveVersion(state, key);
  return live === null
    ? { type: "notFound", revision }
    : { type: "found", revision, entry: entryOf(key, live) };
}

/** Retained versions of a key, newest first, tombstones included (also for a deleted key). */
export function history(state: StoreState, key: string): HistoryResult {
  const revision = state.revision;
  const error = validateKey(key);
  if (error !== null) return { type: "invalid", revision, detail: error };
  const record = recordOf(state, key);
  if (record === undefined) return { type: "notFound", revision };
  const items = record.versions.map((v) => ({
    version: v.version,
    modRevision: v.modRevision,
    createRevision: v.createRevision,
    updatedAtMs: v.updatedAtMs,
    size: v.value.length,
    contentType: v.contentType,
    deleted: v.deleted,
    ...auditFields(v),
  }));
  return { type: "history", revision, items: items.reverse() };
}

/** The token with this sha-256 (hex), or null. Expiry is the caller's to judge (it has a clock). */
export function tokenByHash(state: StoreState, hashHex: string): TokenRecord | null {
  const id = state.tokenIdsByHash.get(hashHex);
  return id === undefined ? null : (state.tokens.get(id) ?? null);
}

export function tokens(state: StoreState): TokenRecord[] {
  return [...state.tokens.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function namespaceSettings(state: StoreState, namespace: string): NamespaceSettings {
  return state.namespaceSettings.get(namespace) ?? { namespace, publicRead: false };
}
