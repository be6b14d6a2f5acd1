// Locks held by leases, and fenced writes. A lock is "{namespace}/{name}" in its own space (not
// a key); a lease of the same namespace holds it. Its fencing token is the shard revision of the
// acquisition, so tokens of one lock strictly increase and a free lock needs no record. Waiters
// are served first come first served: the release that frees a lock hands it to the first one.
import { namespaceOf, validateKey } from "./keys.ts";
import { storeLimits } from "./limits.ts";
import type { LeaseRecord, LockRecord, StoreState } from "./state.ts";
import type * as t from "./types.ts";
import { invalid } from "./validate.ts";

export function applyLockAcquire(state: StoreState, c: t.LockAcquireCommand): t.WriteOutcome {
  const lease = state.leases.get(c.lease);
  const bad = checkLock(state, c.lock, c.lease, lease);
  if (bad !== null || lease === undefined) return bad!;
  const record = state.locks.get(c.lock);
  if (record === undefined) {
    const full = checkLeaseLocks(state, lease);
    if (full !== null) return full;
    state.revision += 1;
    const holder = { lease: c.lease, fencingToken: state.revision, acquiredAtMs: c.atMs };
    state.locks.set(c.lock, { lock: c.lock, holder, waiters: [] });
    lease.locks.add(c.lock);
    return lockOutcome(state, c.lock, c.lease);
  }
  if (record.holder.lease !== c.lease && c.wait && !record.waiters.includes(c.lease)) {
    const full = checkLeaseLocks(state, lease);
    if (full !== null) return full;
    state.revision += 1;
    record.waiters.push(c.lease);
    lease.locks.add(c.lock);
  }
  return lockOutcome(state, c.lock, c.lease);
}

export function applyLockWithdraw(state: StoreState, c: t.LockWithdrawCommand): t.WriteOutcome {
  const record = state.locks.get(c.lock);
  const at = record?.waiters.indexOf(c.lease) ?? -1;
  if (record !== undefined && at >= 0) {
    state.revision += 1;
    record.waiters.splice(at, 1);
    state.leases.get(c.lease)?.locks.delete(c.lock);
  }
  return lockOutcome(state, c.lock, c.lease);
}

export function applyLockRelease(state: StoreState, c: t.LockReleaseCommand): t.WriteOutcome {
  const bad = validateKey(c.lock);
  if (bad !== null) return invalid(state, "lock", bad);
  const record = state.locks.get(c.lock);
  if (record === undefined || record.holder.fencingToken !== c.fencingToken) {
    return { type: "lockRelease", revision: state.revision, released: false, ...view(state, c) };
  }
  state.revision += 1;
  freeLock(state, record, c.atMs);
  return { type: "lockRelease", revision: state.revision, released: true, ...view(state, c) };
}

/** The holder lets go (the caller has advanced the revision): the first waiter acquires. */
export function freeLock(state: StoreState, record: LockRecord, atMs: number): void {
  state.leases.get(record.holder.lease)?.locks.delete(record.lock);
  const next = record.waiters.shift();
  if (next === undefined) {
    state.locks.delete(record.lock);
    return;
  }
  record.holder = { lease: next, fencingToken: state.revision, acquiredAtMs: atMs };
}

/** Takes a lease out of the queue of a lock it waits for (it is ending). */
export function dropWaiter(state: StoreState, lock: string, lease: string): void {
  const record = state.locks.get(lock);
  if (record === undefined) return;
  const at = record.waiters.indexOf(lease);
  if (at >= 0) record.waiters.splice(at, 1);
}

/** The 412 of a write whose fence no longer holds, or an invalid fence; null when it holds. */
export function checkFence(
  state: StoreState,
  fence: t.Fence | undefined,
  namespace: string,
): t.WriteOutcome | null {
  if (fence === undefined) return null;
  const bad = validateKey(fence.lock);
  if (bad !== null) return invalid(state, "lock", `fence: ${bad}`);
  if (namespaceOf(fence.lock) !== namespace) {
    return invalid(
      state,
      "crossNamespace",
      `fence ${fence.lock} is in another namespace than ${namespace}: a fence and the keys it ` +
        "guards must share a namespace (one shard)",
    );
  }
  const holder = state.locks.get(fence.lock)?.holder ?? null;
  if (holder !== null && holder.fencingToken === fence.token) return null;
  return {
    type: "fenced",
    revision: state.revision,
    fence: { lock: fence.lock, token: fence.token },
    holderToken: holder?.fencingToken ?? null,
  };
}

export function lockState(state: StoreState, lock: string): t.LockState {
  const record = state.locks.get(lock);
  if (record === undefined) return { lock, holder: null, waiters: [] };
  return { lock, holder: { ...record.holder }, waiters: [...record.waiters] };
}

function lockOutcome(state: StoreState, lock: string, lease: string): t.LockOutcome {
  const s = lockState(state, lock);
  const held = s.holder?.lease === lease;
  return { type: "lock", revision: state.revision, held, state: s, position: position(s, lease) };
}

function position(s: t.LockState, lease: string): number {
  return s.waiters.indexOf(lease) + 1;
}

function view(state: StoreState, c: { lock: string }): { state: t.LockState } {
  return { state: lockState(state, c.lock) };
}

function checkLock(
  state: StoreState,
  lock: string,
  id: string,
  lease: LeaseRecord | undefined,
): t.WriteOutcome | null {
  const bad = validateKey(lock);
  if (bad !== null) return invalid(state, "lock", bad);
  if (lease === undefined) return invalid(state, "lease", `lease ${id} has expired or never was`);
  if (namespaceOf(lock) === lease.namespace) return null;
  return invalid(
    state,
    "crossNamespace",
    `lock ${lock} and lease ${id} (namespace ${lease.namespace}) must share a namespace`,
  );
}

function checkLeaseLocks(state: StoreState, lease: LeaseRecord): t.WriteOutcome | null {
  if (lease.locks.size < storeLimits.leaseLocksMax) return null;
  const max = storeLimits.leaseLocksMax;
  return {
    type: "tooLarge",
    revision: state.revision,
    limit: "leaseLocksMax",
    max,
    wouldBe: max + 1,
  };
}
