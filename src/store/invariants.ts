// A full check of the state's invariants, recomputing every derived counter from scratch.
// O(size of the state): for tests and the simulator, not for each apply in production.
import { assert } from "./assert.ts";
import { historyVersionBytes } from "./history.ts";
import { assertIntents } from "./intents.ts";
import { outcomeValueBytes } from "./idempotency.ts";
import { namespaceOf, systemNamespace } from "./keys.ts";
import { storeLimits } from "./limits.ts";
import type { AuditRecord, StoreState } from "./state.ts";
import { liveKeyBytes, liveVersion, newestVersion } from "./state.ts";

export function assertInvariants(state: StoreState): void {
  let liveBytes = 0,
    historyBytes = 0,
    historyVersions = 0;
  for (const [name, ns] of state.namespaces) {
    let liveKeys = 0;
    for (const [key, record] of ns.records) {
      assert(record.key === key && namespaceOf(key) === name, `record ${key} filed under ${name}`);
      assert(
        record.versions.length >= 1 &&
          record.versions.length <= state.options.historyVersionsPerKey,
        `history length of ${key}`,
      );
      record.versions.forEach((v, i) => {
        assert(
          i === 0 || record.versions[i - 1]!.modRevision < v.modRevision,
          `history of ${key} out of order`,
        );
        assert(
          v.modRevision <= state.revision && v.modRevision <= ns.lastModRevision,
          `version of ${key} from the future`,
        );
        assert(
          v.deleted ? v.version === 0 && v.value.length === 0 : v.version >= 1,
          `version number of ${key}`,
        );
      });
      const current = newestVersion(record);
      if (current.deleted)
        assert(
          state.deletedKeys.get(key) === current.modRevision,
          `deleted key ${key} not tracked`,
        );
      else {
        liveKeys += 1;
        liveBytes += liveKeyBytes(key, current.value.length);
      }
      for (const v of record.versions.slice(0, -1)) historyBytes += historyVersionBytes(key, v);
      historyVersions += record.versions.length - 1;
    }
    assert(ns.liveKeys === liveKeys, `live key count of ${name}`);
  }
  assert(state.liveBytes === liveBytes, `live bytes ${state.liveBytes} ≠ ${liveBytes}`);
  assert(
    state.historyBytes === historyBytes,
    `history bytes ${state.historyBytes} ≠ ${historyBytes}`,
  );
  assert(
    state.historyVersions === historyVersions,
    `history versions ${state.historyVersions} ≠ ${historyVersions}`,
  );
  assert(state.historyBytes <= state.options.historyBytesMax, "history over its byte budget");
  assert(
    state.deletedKeys.size <= state.options.deletedKeysRetainedMax,
    "too many deleted keys retained",
  );
  let valueBytes = 0;
  for (const r of state.idempotency.values()) valueBytes += outcomeValueBytes(r.outcome);
  assert(state.idempotencyValueBytes === valueBytes, "idempotency value bytes");
  assert(
    state.idempotency.size <= state.options.idempotencyRecordsMax,
    "too many idempotency records",
  );
  assert(state.idempotencyOrder.length === state.idempotency.size, "idempotency queue out of step");
  assert(state.tokenIdsByHash.size === state.tokens.size, "token hash index");
  assert(state.touchedKeys.length === 0, "touched keys left over from a command");
  assertCoordination(state);
  assertAudit(state);
  assertIntents(state, (ok, what) => assert(ok, what));
}

/** Each record is counted by exactly the retained versions that point at it, in its namespace. */
function assertAudit(state: StoreState): void {
  const pointing = new Map<AuditRecord, number>();
  const filed = new Map([...state.audit].map(([scope, log]) => [scope, new Set(log.records)]));
  for (const [name, ns] of state.namespaces)
    for (const record of ns.records.values())
      for (const v of record.versions) {
        if (v.audit === undefined) continue;
        assert(v.audit.revision === v.modRevision, `audit of ${record.key} from another revision`);
        assert(filed.get(name)?.has(v.audit), `audit of ${record.key} unfiled`);
        pointing.set(v.audit, (pointing.get(v.audit) ?? 0) + 1);
      }
  for (const [scope, log] of state.audit) {
    let dropped = 0;
    log.records.forEach((r, i) => {
      assert(
        i === 0 || log.records[i - 1]!.revision < r.revision,
        `audit of ${scope} out of order`,
      );
      const expected = scope === systemNamespace ? 1 : (pointing.get(r) ?? 0);
      assert(r.retained === expected, `audit record ${r.revision} counts ${r.retained}`);
      if (r.retained === 0) dropped += 1;
    });
    assert(log.dropped === dropped, `dropped audit records of ${scope}`);
  }
  const system = state.audit.get(systemNamespace)?.records.length ?? 0;
  assert(system <= storeLimits.auditSystemRecordsMax, "too many _sys audit records");
}

/** Leases, their keys and locks agree with each other and with the keys' lives. */
function assertCoordination(state: StoreState): void {
  let attached = 0;
  const locksOf = new Map<string, Set<string>>();
  for (const [id, lease] of state.leases) {
    assert(lease.id === id && id.startsWith(`${lease.namespace}~`), `lease ${id} filed wrongly`);
    assert(Number(id.slice(lease.namespace.length + 1)) < state.nextLease, `lease ${id} number`);
    for (const key of lease.keys) {
      assert(state.keyLeases.get(key) === id, `key ${key} of lease ${id} not indexed`);
      assert(liveVersion(state, key) !== null, `key ${key} of lease ${id} is not live`);
      assert(
        namespaceOf(key) === lease.namespace,
        `key ${key} of lease ${id} in another namespace`,
      );
    }
    attached += lease.keys.size;
    locksOf.set(id, new Set());
  }
  assert(state.keyLeases.size === attached, "key -> lease index out of step");
  for (const [name, lock] of state.locks) {
    const { holder, waiters } = lock;
    assert(lock.lock === name && holder.fencingToken <= state.revision, `lock ${name} record`);
    const members = [holder.lease, ...waiters];
    assert(new Set(members).size === members.length, `lock ${name} queues a lease twice`);
    for (const id of members) {
      const set = locksOf.get(id);
      assert(set !== undefined, `lock ${name} names ended lease ${id}`);
      set.add(name);
    }
  }
  for (const [id, lease] of state.leases) {
    const expected = locksOf.get(id)!;
    const same =
      expected.size === lease.locks.size && [...expected].every((l) => lease.locks.has(l));
    assert(same, `locks of lease ${id} out of step`);
  }
}
