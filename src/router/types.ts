// The Router: the only door from the HTTP API (src/api) to the replicated state. The API speaks in
// store commands and queries (src/store: types.ts, query.ts) and consistency tokens; how a
// namespace finds its shard and which replica answers is the backend's business. Two backends
// implement it:
//   - SoloRouter (solo-router.ts): one Durable Object per shard, no replication (the benchmark's
//     "single Durable Object floor" and the first end-to-end backend);
//   - RaftRouter (raft-router.ts): a Raft group of ReplicaDOs per shard.
// Both must pass the same API test suite (test/workers/api-*.test.ts).
//
// The surface is deliberately small: write, read, waitForChange, cluster. Long polls are a read,
// a waitForChange, and a second read; an SSE watch is a loop of read({type: "changes"}) and, when
// nothing is new, waitForChange on the namespace (src/api/routes/watch.ts). A backend may answer
// waitForChange by waiters resolved on apply (solo) or by polling, as long as it resolves promptly
// after the first matching write and never later than the timeout.
import type {
  ClusterOperation,
  Command,
  Key,
  Query,
  QueryResult,
  Revision,
  WriteOutcome,
} from "../store/index.ts";
import type { FaultAction, FaultWindow, ReplicaFaults } from "./fault-types.ts";
import type { OperationRequest, OperationStart } from "./operation-types.ts";

/**
 * A consistency token: `s<shard>.<revision>`, e.g. `s3.1042` = "shard 3 at revision 1042", or,
 * after a txn across shards, one such part per shard joined by commas (`s1.7,s3.1042`).
 * Opaque to clients (they echo it in `X-Edgecfg-Min-Revision`); parse it with `parseToken` or
 * `revisionFor` only. A token constrains reads of the shards it names, nothing of others.
 */
export type ConsistencyToken = string;

export interface ReadOptions {
  /**
   * "linearizable" (default): reflects every write acknowledged before the read started.
   * "stale": the nearest replica's applied state, however old; see `Read.appliedRevision`.
   */
  consistency: "linearizable" | "stale";
  /** Read-your-writes: answer only from a state at or past this token (same shard only). */
  minToken?: ConsistencyToken;
}

export interface Written {
  outcome: WriteOutcome;
  /** The shard's state right after this write (or the deduplicated first write). */
  token: ConsistencyToken;
}

export interface Read<R> {
  result: R;
  /** The state that answered. */
  token: ConsistencyToken;
  /** Revision applied by the replica that answered (for stale reads: how old it may be). */
  appliedRevision: Revision;
}

export interface WaitRequest {
  /** Wait on one key; omit to wait on any key of the namespace. */
  key?: Key;
  /** Resolve once the key (or namespace) is written (put or delete) at a revision > this. */
  afterRevision: Revision;
  /** ≤ routerLimits.waitMsMax. */
  timeoutMs: number;
  /**
   * Wait at the shard's leader (else: the nearest replica). The leader applies a write first, a
   * follower one round later; a wait on the critical path of a hand-over (a lock's next holder)
   * asks for it.
   */
  atLeader?: boolean;
}

export interface Waited {
  /** False when the timeout ended the wait with nothing new. */
  changed: boolean;
  token: ConsistencyToken;
}

export interface ReplicaStatus {
  id: string;
  location: string;
  role: "leader" | "follower" | "candidate" | "learner" | "solo";
  term: number;
  commitIndex: number;
  appliedIndex: number;
  /** Last contact with the leader (or the last request, for solo), ms since epoch; null: never. */
  lastContactMs: number | null;
  /** Counted in quorums (false: a learner). */
  voter: boolean;
  /** How far its log is known to match the leader's, and how many entries behind; null: unknown. */
  matchIndex: number | null;
  lag: number | null;
  /** A snapshot the leader is sending it (bytes confirmed, of total); null when none. */
  snapshot: { done: number; total: number } | null;
  /** The running operation that adds, removes or promotes it. */
  operation: string | null;
}

export interface ShardStatus {
  shard: number;
  revision: Revision | null;
  replicas: ReplicaStatus[];
  /** Set when the shard did not answer (the status is then partial). */
  error?: string;
}

export interface ClusterStatus {
  backend: string;
  /** The ring: how namespaces map to shards. */
  ring: { shards: number; [detail: string]: unknown };
  shards: ShardStatus[];
  /** [vars] entries changed since the store was seeded (never acted on); null when none. */
  pendingConfig: PendingChange[] | null;
  /** Cluster operations still running. */
  operations?: ClusterOperation[];
}

/** One [vars] entry changed since the directory was seeded, and what would apply it. */
export interface PendingChange {
  variable: "SHARDS" | "REPLICAS_PER_SHARD" | "REPLICA_LOCATIONS" | "RAFT_GENERATION";
  stored: unknown;
  configured: unknown;
  /** What applying it takes, or why it is not read. */
  apply: string;
}

export interface Router {
  /** The shard that owns `namespace` (consistency tokens name it), by the stored topology. */
  shardOf(namespace: string): Promise<number>;
  /**
   * Proposes one command to the namespace's shard; resolves once it is applied, with its outcome.
   * System commands (tokens, namespace settings) go to the namespace `_sys` (store/keys.ts).
   */
  write(namespace: string, command: Command): Promise<Written>;
  /**
   * Answers a query from the namespace's shard. With `minToken` of the same shard, only from a
   * state at or past it (wait briefly, or throw ShardUnavailableError / BadTokenError).
   */
  read<Q extends Query>(
    namespace: string,
    query: Q,
    options: ReadOptions,
  ): Promise<Read<QueryResult<Q>>>;
  /**
   * What `read` would answer, when that answer is at hand without I/O (the isolate cache); else
   * undefined, and the caller reads. Polls hit it nearly every time, and skipping the chain of
   * promises a `read` costs saves ~4 µs of a ~60 µs cached answer (profiled).
   */
  readNow?<Q extends Query>(
    namespace: string,
    query: Q,
    options: ReadOptions,
  ): Read<QueryResult<Q>> | undefined;
  /** Long poll: resolves on the first matching write, or with `changed: false` at the timeout. */
  waitForChange(namespace: string, request: WaitRequest): Promise<Waited>;
  cluster(): Promise<ClusterStatus>;
  /**
   * Starts a cluster operation (membership, leadership), or returns the one a request with the
   * same idempotency key started; throws ClusterOperationError when it must be refused. Absent on
   * a backend without replicas (solo).
   */
  startOperation?(request: OperationRequest, idempotencyKey?: string): Promise<OperationStart>;
  /** An operation's record, after driving it for up to `waitMs` while it runs; null: unknown. */
  operation?(id: string, waitMs: number): Promise<ClusterOperation | null>;
  /** Local development only (the API offers it only with the EDGECFG_DEV binding): faults. */
  injectFault?(fault: FaultAction, window?: FaultWindow): Promise<ReplicaFaults[]>;
  listFaults?(): Promise<ReplicaFaults[]>;
}

/**
 * The backend cannot answer now (an election, an overloaded replica, too many waiters); the API
 * answers 503 with `Retry-After`. Anything else a router throws is a bug (500, logged).
 */
export class ShardUnavailableError extends Error {
  override name = "ShardUnavailableError";
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number) {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
}

/** A consistency token the backend cannot honour: it is malformed or from the future (400). */
export class BadTokenError extends Error {
  override name = "BadTokenError";
}

export const routerLimits = {
  /** Longest long poll (`?wait=`), and longest single wait of a watch stream. */
  waitMsMax: 60_000,
  /** How long a read waits for its replica to reach `minToken` before giving up (503). */
  minTokenWaitMsMax: 5_000,
} as const;

const tokenPattern = /^s(\d{1,9})\.(\d{1,15})$/;

export function formatToken(shard: number, revision: Revision): ConsistencyToken {
  return `s${shard}.${revision}`;
}

/** Shards a multi-shard token may name: as many as a txn can touch namespaces. */
const tokenPartsMax = 128;

/** One part per shard, in shard order. */
export function formatTokens(revisions: ReadonlyMap<number, Revision>): ConsistencyToken {
  return [...revisions]
    .sort(([a], [b]) => a - b)
    .map(([shard, revision]) => formatToken(shard, revision))
    .join(",");
}

/**
 * What a token asks of `shard`: the revision of its part for it, undefined when it names no
 * part for it, null when it is malformed. A single-shard token costs one regex, as before.
 */
export function revisionFor(token: string, shard: number): Revision | undefined | null {
  if (!token.includes(",")) {
    const t = parseToken(token);
    return t === null ? null : t.shard === shard ? t.revision : undefined;
  }
  const parts = token.split(",");
  if (parts.length > tokenPartsMax) return null;
  let found: Revision | undefined;
  for (const part of parts) {
    const t = parseToken(part);
    if (t === null) return null;
    if (t.shard === shard) found = t.revision;
  }
  return found;
}

/** Null when `token` is malformed. */
export function parseToken(token: string): { shard: number; revision: Revision } | null {
  const m = tokenPattern.exec(token.trim());
  if (!m) return null;
  return { shard: Number(m[1]), revision: Number(m[2]) };
}
