// The Router over Raft groups of ReplicaDOs: namespace → shard (src/ring) → replica. Writes go to
// the leader (hinted per isolate, redirected on `notLeader`); linearizable reads to the leader
// first (ReadIndex works on any member, the leader saves a hop); stale reads and long polls to the
// nearest replica. While a shard elects a leader, requests retry briefly (one loop for every call:
// raft-retry.ts; what each answer means: raft-answers.ts), then fail with ShardUnavailableError
// (503 + Retry-After).
import type { NodeId } from "../raft/index.ts";
import {
  encodeAddress,
  replicaStub,
  rpcStubOf,
  stubOptionsFor,
  type GroupSpec,
  type ReadRequest,
  type ReplicaEnv,
  type ReplicaRpc,
  type Remote,
} from "../replica/index.ts";
import { parseTopology, shardFor, shardIndexFor, type Topology } from "../ring/index.ts";
import {
  encodeCommand,
  type Command,
  type Query,
  type QueryResult,
  type Revision,
} from "../store/index.ts";
import {
  linearizableReadVerdict,
  overloaded,
  proposeVerdict,
  unavailable,
  waitVerdict,
  type ReadOk,
} from "./raft-answers.ts";
import {
  groupOf,
  leaderFirst,
  leaderHintOf,
  nearestFirst,
  placementCache,
  type CallerLocation,
} from "./raft-placement.ts";
import {
  isOverloaded,
  raftRouterLimits,
  retryAcross,
  Targets,
  timed,
  type RetryScope,
} from "./raft-retry.ts";
import {
  BadTokenError,
  formatToken,
  parseToken,
  type ClusterStatus,
  type Read,
  type ReadOptions,
  type ReplicaStatus,
  type Router,
  type ShardStatus,
  type WaitRequest,
  type Waited,
  type Written,
} from "./types.ts";

export interface RaftRouterEnv extends ReplicaEnv {
  SHARD_COUNT?: string;
  SHARDS?: string;
  REPLICAS_PER_SHARD?: string;
  REPLICA_LOCATIONS?: string;
  /** Incarnation of every replica (default 1). Bump it to start fresh groups under new ids. */
  RAFT_GENERATION?: string;
}

export class RaftRouter implements Router {
  readonly #env: RaftRouterEnv;
  readonly #topology: Topology;
  readonly #generation: number;
  readonly #caller: CallerLocation | null;

  constructor(env: RaftRouterEnv, caller: CallerLocation | null = null) {
    this.#env = env;
    this.#topology = parseTopology(env as unknown as Record<string, unknown>);
    this.#generation = parseGeneration(env.RAFT_GENERATION);
    this.#caller = caller;
  }

  shardOf(namespace: string): number {
    return shardIndexFor(namespace, this.#topology.shardCount);
  }

  async write(namespace: string, command: Command): Promise<Written> {
    const group = this.#group(namespace);
    // A retry after an unknown outcome must not apply twice: give every write an idempotency key.
    const keyed =
      command.idempotencyKey === undefined
        ? { ...command, idempotencyKey: `router:${crypto.randomUUID()}` }
        : command;
    const bytes = encodeCommand(keyed);
    const outcome = await retryAcross(
      this.#scope(group, new Targets(() => leaderFirst(group, this.#caller), leaderHintOf(group))),
      (target) => this.#stub(group, target).propose(this.#addr(group, target), bytes),
      (answer, target) => {
        if (answer.type === "applied") placementCache.setLeader(group.shard, target);
        return proposeVerdict(answer, target, group.shard);
      },
    );
    return { outcome, token: formatToken(group.shard, outcome.revision) } as Written;
  }

  async read<Q extends Query>(
    namespace: string,
    query: Q,
    options: ReadOptions,
  ): Promise<Read<QueryResult<Q>>> {
    const group = this.#group(namespace);
    const minRevision = minRevisionOf(options.minToken, group.shard);
    const answer =
      (options.consistency === "stale" ? await this.#staleRead(group, query, minRevision) : null) ??
      (await this.#linearizableRead(group, query, minRevision));
    const result = answer.result as QueryResult<Q>;
    const revision = (result as { revision: Revision }).revision;
    return {
      result,
      token: formatToken(group.shard, revision),
      appliedRevision: answer.appliedRevision,
    };
  }

  async waitForChange(namespace: string, request: WaitRequest): Promise<Waited> {
    const group = this.#group(namespace);
    const deadlineMs = Date.now() + request.timeoutMs;
    const { afterRevision, key } = request;
    const waited = await retryAcross(
      this.#scope(group, new Targets(() => nearestFirst(group, this.#caller))),
      (target) => {
        const timeoutMs = Math.max(0, deadlineMs - Date.now());
        const wait = { namespace, afterRevision, timeoutMs, ...(key === undefined ? {} : { key }) };
        const call = this.#stub(group, target).waitForChange(this.#addr(group, target), wait);
        return timed(call, target, timeoutMs + raftRouterLimits.rpcTimeoutMs);
      },
      waitVerdict,
    );
    return { changed: waited.changed, token: formatToken(group.shard, waited.revision) };
  }

  async cluster(): Promise<ClusterStatus> {
    const shards = await Promise.all(
      this.#topology.shards.map((s) => this.#shardStatus(groupOf(s, this.#generation))),
    );
    const { shardCount, replicasPerShard, locations } = this.#topology;
    return {
      backend: "raft",
      ring: { shards: shardCount, replicasPerShard, locations, generation: this.#generation },
      shards,
    };
  }

  // ---------------------------------------------------------------------------------------------

  #scope(group: GroupSpec, targets: Targets): RetryScope {
    return {
      targets,
      forgetLeader: (target) => this.#forgetLeader(group, target),
      overloaded: (target) => overloaded(group, target),
      unavailable: (problem) => unavailable(group, problem),
    };
  }

  /** Null when no replica could serve it stale (the caller then asks linearizably). */
  async #staleRead(
    group: GroupSpec,
    query: Query,
    minRevision: Revision | undefined,
  ): Promise<ReadOk | null> {
    const request: ReadRequest = {
      consistency: "stale",
      ...(minRevision === undefined
        ? {}
        : { minRevision, minRevisionWaitMs: raftRouterLimits.staleMinRevisionWaitMs }),
    };
    for (const target of nearestFirst(group, this.#caller)) {
      try {
        const answer = await this.#stub(group, target).read(
          this.#addr(group, target),
          query,
          request,
        );
        if (answer.type === "ok") {
          placementCache.noteApplied(target, answer.appliedRevision);
          return answer;
        }
      } catch (error) {
        if (isOverloaded(error)) throw overloaded(group, target);
      }
    }
    return null;
  }

  #linearizableRead(
    group: GroupSpec,
    query: Query,
    minRevision: Revision | undefined,
  ): Promise<ReadOk> {
    const request: ReadRequest =
      minRevision === undefined ? linearizable : { consistency: "linearizable", minRevision };
    return retryAcross(
      this.#scope(group, new Targets(() => leaderFirst(group, this.#caller), leaderHintOf(group))),
      (target) => this.#stub(group, target).read(this.#addr(group, target), query, request),
      (answer, target) => {
        if (answer.type === "ok") placementCache.noteApplied(target, answer.appliedRevision);
        return linearizableReadVerdict(answer, target, group.shard, minRevision);
      },
    );
  }

  async #shardStatus(group: GroupSpec): Promise<ShardStatus> {
    const errors: string[] = [];
    const replicas = await Promise.all(
      group.members.map(async (m): Promise<ReplicaStatus & { revision: Revision | null }> => {
        try {
          const r = await timed(
            this.#stub(group, m.id).status(),
            m.id,
            raftRouterLimits.rpcTimeoutMs,
          );
          if (r !== null) {
            const { id, location, role, term, commitIndex, appliedIndex, lastContactMs, revision } =
              r;
            return { id, location, role, term, commitIndex, appliedIndex, lastContactMs, revision };
          }
          errors.push(
            `${m.id} has not been created yet (no request has reached shard ${group.shard})`,
          );
        } catch (error) {
          errors.push(`${m.id}: ${String(error)}`);
        }
        // Unknown or not yet created: listed as configured, with nothing applied.
        return {
          id: m.id,
          location: m.location,
          role: "follower",
          term: 0,
          commitIndex: 0,
          appliedIndex: 0,
          lastContactMs: null,
          revision: null,
        };
      }),
    );
    const revisions = replicas.map((r) => r.revision).filter((r) => r !== null);
    return {
      shard: group.shard,
      revision: revisions.length === 0 ? null : Math.max(...revisions),
      replicas: replicas.map(({ revision: _revision, ...status }) => status),
      ...(errors.length === 0 ? {} : { error: errors.join("; ") }),
    };
  }

  /** Groups by shard index, built once per router (per isolate): every request needs one. */
  readonly #groups = new Map<number, GroupSpec>();

  #group(namespace: string): GroupSpec {
    const shard = shardFor(namespace, this.#topology);
    let group = this.#groups.get(shard.index);
    if (group === undefined)
      this.#groups.set(shard.index, (group = groupOf(shard, this.#generation)));
    return group;
  }

  /**
   * What a call to a replica needs besides its object id, by replica id (ids are unique across
   * shards), built once per router: the address text it expects and the stub's location hint.
   */
  readonly #replicas = new Map<
    NodeId,
    { address: string; stubOptions: DurableObjectNamespaceGetDurableObjectOptions }
  >();

  #replica(group: GroupSpec, id: NodeId) {
    let r = this.#replicas.get(id);
    if (r === undefined) {
      const location = group.members.find((m) => m.id === id)?.location ?? "";
      r = { address: encodeAddress({ self: id, group }), stubOptions: stubOptionsFor(location) };
      this.#replicas.set(id, r);
    }
    return r;
  }

  #addr(group: GroupSpec, id: NodeId): string {
    return this.#replica(group, id).address;
  }

  /**
   * A fresh stub per call: stubs are bound to the request that made them, and a router may be
   * reused across requests. Making one is cheap (no I/O until it is called).
   */
  #stub(group: GroupSpec, id: NodeId): Remote<ReplicaRpc> {
    return rpcStubOf(replicaStub(this.#env.REPLICA, id, this.#replica(group, id).stubOptions));
  }

  #forgetLeader(group: GroupSpec, id: NodeId): void {
    if (placementCache.leader(group.shard) === id) placementCache.setLeader(group.shard, null);
  }
}

/** The request of nearly every linearizable read (no minimum revision), made once. */
const linearizable: ReadRequest = Object.freeze({ consistency: "linearizable" });

function parseGeneration(raw: string | undefined): number {
  if (raw === undefined || raw === "") return 1;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(
      `RAFT_GENERATION=${JSON.stringify(raw)} must be a positive integer; fix it in wrangler.toml [vars]`,
    );
  return n;
}

/** The revision a read must reach; undefined when there is no token or it names another shard. */
function minRevisionOf(token: string | undefined, shard: number): Revision | undefined {
  if (token === undefined) return undefined;
  const t = parseToken(token);
  if (t === null)
    throw new BadTokenError(`consistency token ${JSON.stringify(token)} is malformed`);
  return t.shard === shard ? t.revision : undefined;
}
