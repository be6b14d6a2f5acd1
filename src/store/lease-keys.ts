// Which lease a key is attached to. Every write of a key goes through writes.ts, which calls
// these: a put attaches the key to the lease it names and detaches it from any other (a put
// without a lease detaches, as in etcd), and a delete detaches it.
import type { StoreState } from "./state.ts";

export function attachKey(state: StoreState, key: string, lease: string | undefined): void {
  const before = state.keyLeases.get(key);
  if (before === lease) return;
  if (before !== undefined) detachKey(state, key);
  if (lease === undefined) return;
  const record = state.leases.get(lease);
  // kv.ts checked the lease exists before writing; txn puts never name one.
  if (record === undefined) return;
  record.keys.add(key);
  state.keyLeases.set(key, lease);
}

export function detachKey(state: StoreState, key: string): void {
  const lease = state.keyLeases.get(key);
  if (lease === undefined) return;
  state.leases.get(lease)?.keys.delete(key);
  state.keyLeases.delete(key);
}
