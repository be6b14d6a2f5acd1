// How anyone (the router, a peer replica) reaches a replica: a Durable Object stub by the
// replica's name, with its location hint. Object ids (a hash of the name) are kept per isolate;
// stubs are not, by the caller's choice: a stub is bound to the request that made it, so the
// router makes a fresh one per call (cheap: no I/O until called) while a replica keeps its peers'.
import type { NodeId } from "../raft/index.ts";

const objectIds = new WeakMap<DurableObjectNamespace, Map<string, DurableObjectId>>();

function objectId(ns: DurableObjectNamespace, name: string): DurableObjectId {
  let ids = objectIds.get(ns);
  if (ids === undefined) objectIds.set(ns, (ids = new Map()));
  let id = ids.get(name);
  if (id === undefined) ids.set(name, (id = ns.idFromName(name)));
  return id;
}

/** The options of a stub for a replica in `location` ("" when it has no hint). */
export function stubOptionsFor(location: string): DurableObjectNamespaceGetDurableObjectOptions {
  return location === "" ? {} : { locationHint: location as DurableObjectLocationHint };
}

/** A stub of the replica named `id`; `options` from `stubOptionsFor` (callers keep them). */
export function replicaStub<T extends Rpc.DurableObjectBranded>(
  ns: DurableObjectNamespace<T>,
  id: NodeId,
  options: DurableObjectNamespaceGetDurableObjectOptions,
): DurableObjectStub<T> {
  return ns.get(objectId(ns as unknown as DurableObjectNamespace, id), options);
}
