// Where resharded namespaces went, learned per isolate from the shards themselves (a `moved`
// outcome of a write, a `moved` answer of a read: src/store/moves-fence.ts) and used before the
// ring: during a reshard the ring still names the old shard of a namespace already moved, and
// after it an isolate whose directory is older does too. Module scope, plain numbers only (no
// stub or promise is shared between requests), keyed by cluster prefix like the directory.
const routes = new Map<string, Map<string, number>>();

/** Entries one isolate keeps per cluster: a reshard of 10,000 namespaces fits; the oldest go. */
const namespaceRoutesMax = 20_000;

export const namespaceRoutes = {
  /** The shard a namespace moved to, if this isolate has been told. */
  get(prefix: string, namespace: string): number | undefined {
    return routes.get(prefix)?.get(namespace);
  },
  learn(prefix: string, namespace: string, shard: number): void {
    let byNamespace = routes.get(prefix);
    if (byNamespace === undefined) routes.set(prefix, (byNamespace = new Map()));
    byNamespace.delete(namespace);
    byNamespace.set(namespace, shard);
    if (byNamespace.size > namespaceRoutesMax)
      byNamespace.delete(byNamespace.keys().next().value as string);
  },
  /** Forgets a cluster's routes, as a new isolate starts without them (they are relearned). */
  forget(prefix: string): void {
    routes.delete(prefix);
  },
};

/** A read met its namespace flipped away: the router asks `shard` instead (raft-router.ts). */
export class NamespaceMovedError extends Error {
  override name = "NamespaceMovedError";
  constructor(
    readonly namespace: string,
    readonly shard: number,
  ) {
    super(`namespace ${namespace} moved to shard ${shard}`);
  }
}
