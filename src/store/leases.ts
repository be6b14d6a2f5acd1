// Leases: a TTL that the holder keeps alive, keys attached to it (deleted when it ends, as one
// normal delete revision that watch sees) and the locks it holds or waits for (released, handed
// to the next waiter). The store never reads a clock: a lease ends only by leaseRevoke or by a
// leaseExpire whose atMs (the leader's clock) has reached the lease's expiry.
import { validateNamespace } from "./keys.ts";
import { storeLimits } from "./limits.ts";
import { dropWaiter, freeLock } from "./locks.ts";
import type { LeaseRecord, StoreState } from "./state.ts";
import type * as t from "./types.ts";
import { invalid } from "./validate.ts";
import { deleteKey } from "./writes.ts";

export function applyLeaseGrant(state: StoreState, c: t.LeaseGrantCommand): t.WriteOutcome {
  const bad = validateNamespace(c.namespace);
  if (bad !== null) return invalid(state, "namespace", bad);
  const { leaseTtlMsMin: min, leaseTtlMsMax: max } = storeLimits;
  if (!Number.isSafeInteger(c.ttlMs) || c.ttlMs < min || c.ttlMs > max) {
    return invalid(state, "lease", `a lease's TTL must be ${min} to ${max} ms, got ${c.ttlMs}`);
  }
  if (state.leases.size >= storeLimits.leasesMax) {
    const { revision } = state;
    const wouldBe = state.leases.size + 1;
    return { type: "tooLarge", revision, limit: "leasesMax", max: storeLimits.leasesMax, wouldBe };
  }
  // The namespace is in the id so that a router finds the lease's shard from the id alone.
  const id = `${c.namespace}~${state.nextLease}`;
  state.nextLease += 1;
  state.revision += 1;
  const record: LeaseRecord = {
    id,
    namespace: c.namespace,
    ttlMs: c.ttlMs,
    expiresAtMs: c.atMs + c.ttlMs,
    keys: new Set(),
    locks: new Set(),
  };
  state.leases.set(id, record);
  return { type: "lease", revision: state.revision, lease: leaseView(record) };
}

export function applyLeaseKeepAlive(state: StoreState, c: t.LeaseKeepAliveCommand): t.WriteOutcome {
  const record = state.leases.get(c.id);
  if (record === undefined) return { type: "notFound", revision: state.revision };
  // Never shortens: an extension by a new leader may reach beyond atMs + ttl.
  record.expiresAtMs = Math.max(record.expiresAtMs, c.atMs + record.ttlMs);
  state.revision += 1;
  return { type: "lease", revision: state.revision, lease: leaseView(record) };
}

export function applyLeaseRevoke(state: StoreState, c: t.LeaseRevokeCommand): t.WriteOutcome {
  const record = state.leases.get(c.id);
  if (record === undefined) return { type: "notFound", revision: state.revision };
  return endLease(state, record, c.atMs);
}

export function applyLeaseExpire(state: StoreState, c: t.LeaseExpireCommand): t.WriteOutcome {
  const record = state.leases.get(c.id);
  if (record === undefined) return { type: "notFound", revision: state.revision };
  if (c.atMs < record.expiresAtMs) {
    return { type: "leaseNotDue", revision: state.revision, expiresAtMs: record.expiresAtMs };
  }
  return endLease(state, record, c.atMs);
}

export function applyLeasesExtend(state: StoreState, c: t.LeasesExtendCommand): t.WriteOutcome {
  const max = storeLimits.leaseExtendMsMax;
  if (!Number.isSafeInteger(c.extendMs) || c.extendMs < 0 || c.extendMs > max) {
    return invalid(state, "lease", `a lease extension must be 0 to ${max} ms, got ${c.extendMs}`);
  }
  let extended = 0;
  for (const record of state.leases.values()) {
    if (state.fences.has(record.namespace)) continue; // moving: the target extends it
    const floor = c.atMs + record.ttlMs + c.extendMs;
    if (record.expiresAtMs >= floor) continue;
    record.expiresAtMs = floor;
    extended += 1;
  }
  if (extended > 0) state.revision += 1;
  return { type: "leasesExtended", revision: state.revision, extended };
}

/** Deletes the attached keys and releases the locks, all at one new revision. */
function endLease(state: StoreState, record: LeaseRecord, atMs: number): t.LeaseEndedOutcome {
  state.revision += 1;
  const deletedKeys = [...record.keys].sort();
  for (const key of deletedKeys) deleteKey(state, key, state.revision, atMs);
  const releasedLocks: string[] = [];
  for (const lock of [...record.locks].sort()) {
    const held = state.locks.get(lock);
    if (held?.holder.lease === record.id) {
      freeLock(state, held, atMs);
      releasedLocks.push(lock);
    } else dropWaiter(state, lock, record.id);
  }
  state.leases.delete(record.id);
  return {
    type: "leaseEnded",
    revision: state.revision,
    id: record.id,
    deletedKeys,
    releasedLocks,
  };
}

export function leaseView(record: LeaseRecord): t.Lease {
  return {
    id: record.id,
    namespace: record.namespace,
    ttlMs: record.ttlMs,
    expiresAtMs: record.expiresAtMs,
    keys: [...record.keys].sort(),
  };
}

/**
 * Renewals the leader answered from memory and has not written to the log (lease id → the
 * expiry they give): the store's expiry of such a lease is older than the one the holder was told.
 */
export type LeaseRenewals = ReadonlyMap<string, number>;

const noRenewals: LeaseRenewals = new Map();

/** A lease's expiry counting the leader's renewals. */
function effectiveExpiry(r: LeaseRecord, renewals: LeaseRenewals): number {
  if (renewals.size === 0) return r.expiresAtMs;
  return Math.max(r.expiresAtMs, renewals.get(r.id) ?? 0);
}

/** The earliest expiry of any lease (the leader's next timer), or null when none is live. */
export function nextLeaseExpiry(state: StoreState, renewals = noRenewals): number | null {
  let next: number | null = null;
  for (const r of state.leases.values()) {
    if (state.fences.has(r.namespace)) continue; // its leaseExpire would only answer `moved`
    const at = effectiveExpiry(r, renewals);
    if (next === null || at < next) next = at;
  }
  return next;
}

/** Leases due at `nowMs` in id order: those the leader proposes a leaseExpire for. */
export function dueLeases(state: StoreState, nowMs: number, renewals = noRenewals): string[] {
  const due: string[] = [];
  for (const r of state.leases.values())
    if (effectiveExpiry(r, renewals) <= nowMs && !state.fences.has(r.namespace)) due.push(r.id);
  return due.sort();
}
