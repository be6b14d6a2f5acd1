// How both backends (src/solo, src/replica) answer a Router query from their store, and whether a
// key or namespace changed since a revision (the check a long-poll waiter makes before it waits).
// It lives beside the Query type it answers, so neither backend imports the other.
import type { Query, QueryResult } from "./types.ts";
import type { Store } from "../store/index.ts";
import type { Revision } from "../store/types.ts";

export function answer<Q extends Query>(store: Store, query: Q): QueryResult<Q> {
  const q = query as Query;
  const revision = store.revision;
  switch (q.type) {
    case "get":
      return store.get(
        q.atRevision === undefined ? { key: q.key } : { key: q.key, atRevision: q.atRevision },
      ) as QueryResult<Q>;
    case "meta":
      return store.meta(q.key) as QueryResult<Q>;
    case "list": {
      const { type: _, ...list } = q;
      return store.list(list) as QueryResult<Q>;
    }
    case "bundle":
      return store.bundle(q.namespace) as QueryResult<Q>;
    case "history":
      return store.history(q.key) as QueryResult<Q>;
    case "changes": {
      const { type: _, ...changes } = q;
      return store.changes(changes) as QueryResult<Q>;
    }
    case "token":
      return { revision, token: store.tokenByHash(q.hashHex) } as QueryResult<Q>;
    case "tokens":
      return { revision, tokens: store.tokens() } as QueryResult<Q>;
    case "namespaceSettings":
      return { revision, settings: store.namespaceSettings(q.namespace) } as QueryResult<Q>;
  }
}

export function changedSince(
  store: Store,
  namespace: string,
  key: string | undefined,
  afterRevision: Revision,
): boolean {
  if (store.revision <= afterRevision) return false;
  if (key === undefined) {
    const bundle = store.bundle(namespace);
    return bundle.type !== "bundle" || bundle.namespaceRevision > afterRevision;
  }
  const meta = store.meta(key);
  if (meta.type === "found") return meta.entry.modRevision > afterRevision;
  const history = store.history(key);
  // A delete after afterRevision leaves a tombstone newer than it.
  return history.type === "history" && (history.items[0]?.modRevision ?? 0) > afterRevision;
}
