// Ordered reads of a namespace: list (paged by an opaque cursor) and the namespace bundle.
// Order is byte order of keys; keys are ASCII (asserted on write), so string order is byte order.
import { validateNamespace, validatePrefix, validateKey } from "./keys.ts";
import { storeLimits } from "./limits.ts";
import type { NamespaceState, StoreState } from "./state.ts";
import { entryOf, liveVersion } from "./state.ts";
import type { BundleResult, ListQuery, ListResult } from "./types.ts";

export function list(state: StoreState, q: ListQuery): ListResult {
  const revision = state.revision;
  const limit = q.limit ?? storeLimits.listLimitMax;
  const error = validatePrefix(q.prefix) ?? limitError(limit);
  if (error !== null) return { type: "invalid", revision, detail: error };
  const after = q.cursor === undefined ? null : decodeCursor(q.cursor, q.prefix);
  if (after instanceof Error) return { type: "invalid", revision, detail: after.message };
  const keys = sortedLiveKeys(state.namespaces.get(q.prefix.slice(0, q.prefix.indexOf("/"))));
  const items = [];
  let i = lowerBound(keys, after === null ? q.prefix : after);
  if (after !== null && keys[i] === after) i += 1;
  for (; i < keys.length && keys[i]!.startsWith(q.prefix) && items.length < limit; i++) {
    const v = liveVersion(state, keys[i]!)!;
    items.push(
      q.values ? { entry: entryOf(keys[i]!, v), value: v.value } : { entry: entryOf(keys[i]!, v) },
    );
  }
  const more = i < keys.length && keys[i]!.startsWith(q.prefix);
  const last = items[items.length - 1];
  return {
    type: "list",
    revision,
    items,
    cursor: more && last ? encodeCursor(last.entry.key) : null,
  };
}

function limitError(limit: number): string | null {
  if (Number.isSafeInteger(limit) && limit >= 1 && limit <= storeLimits.listLimitMax) return null;
  return `limit must be an integer from 1 to ${storeLimits.listLimitMax}, got ${limit}`;
}

/** The cursor names the last key of the page; versioned so its form can change. */
function encodeCursor(key: string): string {
  return `1.${btoa(key).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
}

function decodeCursor(cursor: string, prefix: string): string | Error {
  const bad = new Error(
    "cursor is not one this list returned for this prefix: start again without a cursor",
  );
  if (!/^1\.[A-Za-z0-9_-]*$/.test(cursor)) return bad;
  let key: string;
  try {
    key = atob(cursor.slice(2).replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    return bad;
  }
  return validateKey(key) === null && key.startsWith(prefix) ? key : bad;
}

export function sortedLiveKeys(ns: NamespaceState | undefined): string[] {
  if (ns === undefined) return [];
  if (ns.sortedLiveKeys === null) {
    const live = [...ns.records.values()].filter(
      (r) => !r.versions[r.versions.length - 1]!.deleted,
    );
    ns.sortedLiveKeys = live.map((r) => r.key).sort();
  }
  return ns.sortedLiveKeys;
}

/** First index whose key is ≥ `key`. */
function lowerBound(keys: string[], key: string): number {
  let lo = 0,
    hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function bundle(state: StoreState, namespace: string): BundleResult {
  const revision = state.revision;
  const error = validateNamespace(namespace);
  if (error !== null) return { type: "invalid", revision, detail: error };
  const ns = state.namespaces.get(namespace);
  const items = sortedLiveKeys(ns).map((key) => {
    const v = liveVersion(state, key)!;
    return { name: key.slice(namespace.length + 1), entry: entryOf(key, v), value: v.value };
  });
  return {
    type: "bundle",
    revision,
    namespace,
    namespaceRevision: ns?.lastModRevision ?? 0,
    items,
  };
}
