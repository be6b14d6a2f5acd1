// Reads of a namespace resharded away (moves-fence.ts): once its move flipped, the source answers
// them with where it went (the replica turns that into a `moved` read answer the router follows),
// so no reader sees the source's frozen copy while the target takes writes.
import { namespaceOf } from "./keys.ts";
import { commandNamespaces } from "./moves-fence.ts";
import { ringRedirect } from "./moves-ring.ts";
import type { Query } from "./query.ts";
import type { StoreState } from "./state.ts";
import type * as t from "./types.ts";

/** The namespace a query reads (the key's, the prefix's, the lease's), or null for none. */
export function queryNamespace(q: Query): string | null {
  switch (q.type) {
    case "get":
    case "meta":
    case "history":
      return namespaceOf(q.key);
    case "list":
    case "changes":
      return namespaceOf(q.prefix);
    case "bundle":
    case "namespaceSchemas":
    case "audit":
      return q.namespace;
    case "lease":
      return q.id.slice(0, Math.max(0, q.id.indexOf("~")));
    case "lock":
      return namespaceOf(q.lock);
    case "dryRun":
      return commandNamespaces(q.command)[0] ?? null;
    default:
      return null;
  }
}

/** Where a query's namespace went when it was flipped away from here; null: it is served here. */
export function movedAway(state: StoreState, q: Query): t.MovedOutcome | null {
  if (state.fences.size === 0 && state.ringFence === null) return null;
  const namespace = queryNamespace(q);
  if (namespace === null) return null;
  const fence = state.fences.get(namespace);
  const away = fence === undefined ? ringRedirect(state, namespace) : fence.flipped ? fence : null;
  if (away === null) return null;
  const { epoch, shard } = away;
  return { type: "moved", revision: state.revision, namespace, epoch, shard, flipped: true };
}
