// One shard's replicated state machine: the replica feeds it committed Raft entries in log order
// (`apply`), serves reads from it (queries), and persists `snapshot()` periodically.
//
// Design decision (lead): the state is held in memory and is deterministic. Durability comes from
// the Raft log plus periodic snapshots persisted by the replica; a replica restarts from its
// latest snapshot (`Store.restore`) and replays the log after `appliedIndex`. Determinism is the
// contract: same snapshot + same entries ⇒ same outcomes, same state, same snapshot bytes on
// every replica. So: no clock (time is the command's atMs), no randomness, no iteration over
// anything whose order is not itself state.
//
// Results share byte arrays with the state (values are never copied on read): callers must not
// mutate them.
import { assert } from "./assert.ts";
import { checkAudit, recordAudit } from "./audit.ts";
import { auditList } from "./audit-query.ts";
import { changes } from "./changes.ts";
import { decodeCommand, encodeCommand, withSchemasVouched } from "./codec.ts";
import {
  expireIdempotencyRecords,
  lookupIdempotency,
  recordIdempotency,
  requestFingerprint,
} from "./idempotency.ts";
import { assertInvariants } from "./invariants.ts";
import { storeLimits } from "./limits.ts";
import { enforceHistoryBudget } from "./retention.ts";
import { execute } from "./execute.ts";
import { dryRun, type DryRunCommand, type DryRunResult } from "./dry-run.ts";
import { anyGate, movedOutcome } from "./moves-fence.ts";
import { movedAway } from "./moves-route.ts";
import {
  exportNamespace,
  servedNamespaces,
  type Leaving,
  type NamespaceExportQuery,
  type ServedNamespaces,
  type NamespaceExportResult,
} from "./moves-export.ts";
import { bundle, list } from "./list.ts";
import { answer, changedSince, type Query, type QueryResult } from "./query.ts";
import * as q from "./reads.ts";
import { assertCommandShape } from "./shape.ts";
import { canonicalOptions, restoreState, snapshotState } from "./snapshot.ts";
import type { StoreState } from "./state.ts";
import { emptyState } from "./state.ts";
import { namespaceSchemas, verdictOf } from "./schemas.ts";
import * as leases from "./leases.ts";
import * as locks from "./locks.ts";
import { intentOutcome } from "./intents.ts";
import { txnRecord } from "./txn-record.ts";
import type * as t from "./types.ts";

export const defaultStoreOptions: t.StoreOptions = {
  historyVersionsPerKey: storeLimits.historyVersionsPerKeyDefault,
  shardBytesMax: storeLimits.shardBytesMax,
  historyBytesMax: storeLimits.historyBytesMax,
  namespaceKeysMax: storeLimits.namespaceKeysMax,
  idempotencyRecordsMax: storeLimits.idempotencyRecordsMax,
  idempotencyRecordAgeMsMax: storeLimits.idempotencyRecordAgeMsMax,
  idempotencyValueBytesMax: storeLimits.idempotencyValueBytesMax,
  deletedKeysRetainedMax: storeLimits.deletedKeysRetainedMax,
  tokensMax: storeLimits.tokensMax,
};

export interface StoreStats {
  appliedIndex: number;
  revision: t.Revision;
  liveBytes: number;
  liveKeys: number;
  idempotencyRecords: number;
}

export class Store {
  private state: StoreState;

  /** An empty store; options default to storeLimits and travel in its snapshots. */
  constructor(options: Partial<t.StoreOptions> = {}) {
    const merged = canonicalOptions({ ...defaultStoreOptions, ...options });
    for (const [name, value] of Object.entries(merged)) {
      assert(
        Number.isSafeInteger(value) && value >= 1,
        `store option ${name} must be a positive integer, got ${value}`,
      );
    }
    this.state = emptyState(merged);
  }

  /** The store a snapshot was taken of, answering every query exactly as it did. */
  static restore(snapshot: Uint8Array): Store {
    const store = new Store();
    store.state = restoreState(snapshot);
    // O(state), a few ms per 10 MiB: cheap next to decoding, and it catches a corrupt snapshot
    // before the replica serves from it.
    assertInvariants(store.state);
    return store;
  }

  get appliedIndex(): number {
    return this.state.appliedIndex;
  }
  get revision(): t.Revision {
    return this.state.revision;
  }
  get options(): t.StoreOptions {
    return { ...this.state.options };
  }

  /** Applies the committed entry at `index` (bytes from encodeCommand, or the command itself). */
  apply(index: number, entry: Uint8Array | t.Command): t.WriteOutcome {
    this.advanceIndex(index);
    const command = entry instanceof Uint8Array ? decodeCommand(entry) : entry;
    assertCommandShape(command);
    const s = this.state;
    s.clockMs = Math.max(s.clockMs, command.atMs);
    expireIdempotencyRecords(s);
    const before = s.revision;
    const audited = auditedAs(s, command);
    const outcome = checkAudit(s, command) ?? movedOutcome(s, command) ?? applyOnce(s, command);
    if (s.revision !== before) recordAudit(s, audited);
    else s.touchedKeys.length = 0;
    enforceHistoryBudget(s);
    return outcome;
  }

  /**
   * The leader's verdict on an entry it is about to propose (schemas.ts `verdictOf`): the same
   * bytes while no namespace of this shard has schemas (nothing to decode on the hot path) or the
   * values do not all pass, else the entry with the verdict added in place (codec.ts
   * `withSchemasVouched`), so its values are judged once here instead of on every replica. Only
   * this code vouches: a verdict an entry came with is dropped.
   */
  vouch(entry: Uint8Array): Uint8Array {
    if (this.state.schemas.size === 0) return entry;
    const command = decodeCommand(entry);
    if ("schemasVouched" in command) {
      const { schemasVouched: _dropped, ...unvouched } = command;
      return this.vouch(encodeCommand(unvouched as t.Command));
    }
    const verdict = verdictOf(this.state, command);
    return verdict === null ? entry : withSchemasVouched(entry, verdict);
  }

  /**
   * The leader's answer for a write of a namespace moving or moved away, without a log entry
   * (the apply gives the same answer: a fence or an import is only lifted by a later step of a
   * reshard, and then the router is sent on again). Null, at once, while no namespace moves.
   */
  gate(entry: Uint8Array | t.Command): t.MovedOutcome | t.MovingOutcome | null {
    const s = this.state;
    if (!anyGate(s)) return null;
    return movedOutcome(s, entry instanceof Uint8Array ? decodeCommand(entry) : entry);
  }

  /** Marks an entry with no command (a leader's no-op, a membership change) as applied. */
  skip(index: number): void {
    this.advanceIndex(index);
  }

  private advanceIndex(index: number): void {
    assert(
      Number.isSafeInteger(index) && index > this.state.appliedIndex,
      `entry ${index} applied after ${this.state.appliedIndex}`,
    );
    this.state.appliedIndex = index;
  }

  snapshot(): Uint8Array {
    return snapshotState(this.state);
  }

  /** Recomputes every derived counter and checks every invariant: for tests and the simulator. */
  checkInvariants(): void {
    assertInvariants(this.state);
  }

  get(query: t.GetQuery): t.GetResult {
    return q.get(this.state, query);
  }
  meta(key: t.Key): t.MetaResult {
    return q.meta(this.state, key);
  }
  list(query: t.ListQuery): t.ListResult {
    return list(this.state, query);
  }
  bundle(namespace: string): t.BundleResult {
    return bundle(this.state, namespace);
  }
  history(key: t.Key): t.HistoryResult {
    return q.history(this.state, key);
  }
  changes(query: t.ChangesQuery): t.ChangesResult {
    return changes(this.state, query);
  }
  /** Audited revisions of a namespace (or `_sys`), newest first. */
  audit(query: t.AuditQuery): t.AuditResult {
    return auditList(this.state, query);
  }
  tokenByHash(hashHex: string): t.TokenRecord | null {
    return q.tokenByHash(this.state, hashHex);
  }
  tokens(): t.TokenRecord[] {
    return q.tokens(this.state);
  }
  namespaceSettings(namespace: string): t.NamespaceSettings {
    return q.namespaceSettings(this.state, namespace);
  }
  /** The namespace's schemas (kept by its own shard). */
  namespaceSchemas(namespace: string): t.NamespaceSchemas {
    return namespaceSchemas(this.state, namespace);
  }
  /** The cluster directory (shard 0 keeps it), or null. */
  cluster(): t.ClusterTopology | null {
    return this.state.cluster;
  }
  /** A live lease, or null once it has ended (or never was). */
  lease(id: string): t.Lease | null {
    const record = this.state.leases.get(id);
    return record === undefined ? null : leases.leaseView(record);
  }
  /** A lock's holder and waiters (holder null when free). */
  lock(lock: t.Key): t.LockState {
    return locks.lockState(this.state, lock);
  }
  /** The earliest expiry of a live lease: when the leader's timer must fire; null: no timer. */
  nextLeaseExpiryMs(renewals?: leases.LeaseRenewals): number | null {
    return leases.nextLeaseExpiry(this.state, renewals);
  }
  /** Leases whose expiry `nowMs` (the leader's clock) has reached, in id order. */
  dueLeases(nowMs: number, renewals?: leases.LeaseRenewals): string[] {
    return leases.dueLeases(this.state, nowMs, renewals);
  }
  /** What applying `command` now would answer and change, without changing anything. */
  dryRun(command: DryRunCommand): DryRunResult {
    return dryRun(this.state, command);
  }
  /** Any query of the query language (query.ts), answered from the applied state. */
  answer<Q extends Query>(query: Q): QueryResult<Q> {
    return answer(this, query);
  }
  /** One chunk of a namespace moving away (moves-export.ts). */
  namespaceExport(query: NamespaceExportQuery): NamespaceExportResult {
    return exportNamespace(this.state, query);
  }
  /** Where a namespace fenced here goes (moving or moved away), or null when it is served here. */
  fenceOf(namespace: string): { epoch: number; shard: number; flipped: boolean } | null {
    const fence = this.state.fences.get(namespace);
    return fence === undefined ? null : { ...fence };
  }
  /** Where the namespace a query reads went, once flipped away from here; null: served here. */
  movedAway(query: Query): t.MovedOutcome | null {
    return movedAway(this.state, query);
  }
  /** The namespaces this shard serves, sorted (moves-export.ts). */
  servedNamespaces(leaving?: Leaving): ServedNamespaces {
    return servedNamespaces(this.state, leaving);
  }
  /** Whether the namespace is being imported here (its writes answer `moving` until activated). */
  isIncoming(namespace: string): boolean {
    return this.state.incoming.has(namespace);
  }
  /** Whether the key (or any key of the namespace) was written after `afterRevision`. */
  changedSince(namespace: string, key: t.Key | undefined, afterRevision: t.Revision): boolean {
    return changedSince(this, namespace, key, afterRevision);
  }

  /** The intent a cross-shard txn holds on `key` (reads see the value before it), or null. */
  intent(key: t.Key): t.TxnIntent | null {
    return intentOutcome(this.state, key, false)?.intent ?? null;
  }
  /** Whether a prepared txn is held here. */
  prepared(txnId: string): boolean {
    return this.state.prepared.has(txnId);
  }
  /** Intents held on this shard, in key order: what a resolver sweeps after healing. */
  intents(): t.TxnIntent[] {
    return [...this.state.intents.keys()].sort().map((key) => this.intent(key)!);
  }
  /** The transaction record of `txnId` kept here, or null (never decided, or forgotten). */
  txnRecord(
    txnId: string,
  ): { decision: "commit" | "abort" | "staging"; branch?: t.TxnBranch } | null {
    const r = txnRecord(this.state, txnId);
    if (r === null) return null;
    return { decision: r.decision, ...(r.branch === undefined ? {} : { branch: r.branch }) };
  }

  stats(): StoreStats {
    let liveKeys = 0;
    for (const ns of this.state.namespaces.values()) liveKeys += ns.liveKeys;
    const s = this.state;
    return {
      appliedIndex: s.appliedIndex,
      revision: s.revision,
      liveBytes: s.liveBytes,
      liveKeys,
      idempotencyRecords: s.idempotency.size,
    };
  }
}

/** What the audit records a command as: a resolve's commit (a decide's that resolves here too)
 * as the txn its prepare carried. */
function auditedAs(state: StoreState, command: t.Command): t.Command {
  const resolves =
    command.type === "txnResolve" ||
    (command.type === "txnRecordDecide" && command.resolveHere === true);
  if (!resolves) return command;
  const audit = state.prepared.get(command.txnId)?.audit;
  const txn = { type: "txn" as const, atMs: command.atMs, compare: [], success: [], failure: [] };
  return audit === undefined ? txn : { ...txn, audit };
}

/** Applies a command unless its idempotency key says it already was. */
function applyOnce(state: StoreState, command: t.Command): t.WriteOutcome {
  if (command.idempotencyKey === undefined) return execute(state, command);
  const fingerprint = requestFingerprint(command);
  const replay = lookupIdempotency(state, command, fingerprint);
  if (replay !== null) return replay;
  const outcome = execute(state, command);
  recordIdempotency(state, command, fingerprint, outcome);
  return outcome;
}
