// The Router over Raft groups of ReplicaDOs: namespace → shard (src/ring) → replica. Writes go to
// the leader (hinted per isolate, redirected on `notLeader`); linearizable reads to the leader
// first (ReadIndex works on any member, the leader saves a hop); stale reads and long polls to the
// nearest replica. While a shard elects a leader, requests retry briefly, then fail with
// UnavailableError (503 + Retry-After).
import type { NodeId } from "../raft/types.ts";
import { encodeAddress, type GroupSpec } from "../replica/group.ts";
import type { ProposeAnswer } from "../replica/member.ts";
import type {
  ReadAnswer,
  ReadRequest,
  WaitAnswer,
  WaitRequestOnReplica,
} from "../replica/reads.ts";
import type {
  AddressOnWire,
  ReplicaEnv,
  ReplicaStatusReport,
  Unserved,
} from "../replica/replica-do.ts";
import { parseTopology, shardFor, shardIndexFor, type Topology } from "../ring/index.ts";
import { encodeCommand } from "../store/index.ts";
import type { Command, Revision, WriteOutcome } from "../store/types.ts";
import {
  groupOf,
  leaderFirst,
  leaderHintOf,
  nearestFirst,
  placementCache,
  type CallerLocation,
} from "./raft-placement.ts";
import { Attempts, isOverloaded, raftRouterLimits, Targets, timed } from "./raft-retry.ts";
import {
  BadTokenError,
  formatToken,
  parseToken,
  UnavailableError,
  type ClusterStatus,
  type Query,
  type QueryResult,
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

/**
 * The replica's RPC methods as the router calls them. (The generated stub type wraps every result
 * in RPC-specific promise types that TypeScript cannot narrow; the shapes are the same.)
 */
interface ReplicaRpc {
  propose(to: AddressOnWire, command: Uint8Array): Promise<ProposeAnswer | Unserved>;
  read(to: AddressOnWire, query: Query, request: ReadRequest): Promise<ReadAnswer | Unserved>;
  waitForChange(to: AddressOnWire, request: WaitRequestOnReplica): Promise<WaitAnswer | Unserved>;
  status(): Promise<ReplicaStatusReport | null>;
}

type Stub = ReplicaRpc;

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
    const outcome = await this.#propose(group, bytes);
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
    const targets = new Targets(() => nearestFirst(group, this.#caller));
    const attempts = new Attempts();
    let problem = "no replica answered";
    while (await attempts.next(attempts.made > 0)) {
      const target = targets.next();
      const timeoutMs = Math.max(0, deadlineMs - Date.now());
      const wait = {
        namespace,
        afterRevision: request.afterRevision,
        timeoutMs,
        ...(request.key === undefined ? {} : { key: request.key }),
      };
      try {
        const w = await timed(
          this.#stub(group, target).waitForChange(this.#addr(group, target), wait),
          target,
          timeoutMs + raftRouterLimits.rpcTimeoutMs,
        );
        if (w.type === "waited")
          return { changed: w.changed, token: formatToken(group.shard, w.revision) };
        problem = w.reason;
      } catch (error) {
        if (isOverloaded(error)) throw overloaded(group, target);
        problem = `${target}: ${String(error)}`;
      }
    }
    throw unavailable(group, problem);
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

  async #propose(group: GroupSpec, bytes: Uint8Array): Promise<WriteOutcome> {
    const targets = new Targets(() => leaderFirst(group, this.#caller), leaderHintOf(group));
    const attempts = new Attempts();
    let backoff = false;
    let problem = "no replica answered";
    while (await attempts.next(backoff)) {
      const target = targets.next();
      let answer: ProposeAnswer | Unserved;
      try {
        answer = await this.#stub(group, target).propose(this.#addr(group, target), bytes);
      } catch (error) {
        if (isOverloaded(error)) throw overloaded(group, target);
        this.#forgetLeader(group, target);
        problem = `${target} failed: ${String(error)}`;
        backoff = true;
        continue;
      }
      switch (answer.type) {
        case "applied":
          placementCache.setLeader(group.shard, target);
          return answer.outcome;
        case "notLeader":
          this.#forgetLeader(group, target);
          backoff = !targets.redirect(answer.leaderHint);
          problem = `${target} is not the leader`;
          break;
        case "refused":
          if (answer.reason === "backpressure")
            throw new UnavailableError(
              `shard ${group.shard} is overloaded: ${answer.message}`,
              raftRouterLimits.retryAfterMs,
            );
          if (answer.reason === "tooLarge") return tooLarge(answer.message);
          problem = `${target} refused (${answer.reason}): ${answer.message}`;
          backoff = true;
          break;
        case "unknown":
          // Leadership moved while the entry was in flight: retry; the idempotency key dedupes.
          problem = `${target}: ${answer.reason}`;
          backoff = true;
          break;
        case "unserved":
          this.#forgetLeader(group, target);
          problem = answer.reason;
          backoff = true;
          break;
      }
    }
    throw unavailable(group, problem);
  }

  /** Null when no replica could serve it stale (the caller then asks linearizably). */
  async #staleRead(
    group: GroupSpec,
    query: Query,
    minRevision: Revision | undefined,
  ): Promise<Extract<ReadAnswer, { type: "ok" }> | null> {
    for (const target of nearestFirst(group, this.#caller)) {
      const request = {
        consistency: "stale" as const,
        ...(minRevision === undefined
          ? {}
          : { minRevision, minRevisionWaitMs: raftRouterLimits.staleMinRevisionWaitMs }),
      };
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

  async #linearizableRead(
    group: GroupSpec,
    query: Query,
    minRevision: Revision | undefined,
  ): Promise<Extract<ReadAnswer, { type: "ok" }>> {
    const targets = new Targets(() => leaderFirst(group, this.#caller), leaderHintOf(group));
    const attempts = new Attempts();
    let backoff = false;
    let problem = "no replica answered";
    while (await attempts.next(backoff)) {
      const target = targets.next();
      const request: ReadRequest =
        minRevision === undefined ? linearizable : { consistency: "linearizable", minRevision };
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
        if (answer.type === "futureRevision")
          throw futureToken(group, minRevision, answer.revision);
        if (answer.type === "unserved") this.#forgetLeader(group, target);
        problem =
          answer.type === "unavailable" || answer.type === "unserved"
            ? answer.reason
            : `${target} is behind`;
        backoff = answer.type !== "unavailable" || !targets.redirect(answer.leaderHint);
      } catch (error) {
        if (error instanceof BadTokenError) throw error;
        if (isOverloaded(error)) throw overloaded(group, target);
        this.#forgetLeader(group, target);
        problem = `${target} failed: ${String(error)}`;
        backoff = true;
      }
    }
    throw unavailable(group, problem);
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

  #replica(
    group: GroupSpec,
    id: NodeId,
  ): { address: string; stubOptions: DurableObjectNamespaceGetDurableObjectOptions } {
    let r = this.#replicas.get(id);
    if (r === undefined) {
      const location = group.members.find((m) => m.id === id)?.location ?? "";
      r = {
        address: encodeAddress({ self: id, group }),
        stubOptions: location === "" ? {} : { locationHint: location as DurableObjectLocationHint },
      };
      this.#replicas.set(id, r);
    }
    return r;
  }

  #addr(group: GroupSpec, id: NodeId): string {
    return this.#replica(group, id).address;
  }

  /**
   * A fresh stub per call: stubs are bound to the request that made them, and a router may be
   * reused across requests. Making one is cheap (no I/O until it is called); the id (a hash of
   * the name) is kept per isolate.
   */
  #stub(group: GroupSpec, id: NodeId): Stub {
    const ns = this.#env.REPLICA;
    return ns.get(objectId(ns, id), this.#replica(group, id).stubOptions) as unknown as ReplicaRpc;
  }

  #forgetLeader(group: GroupSpec, id: NodeId): void {
    if (placementCache.leader(group.shard) === id) placementCache.setLeader(group.shard, null);
  }
}

/** The request of nearly every linearizable read (no minimum revision), made once. */
const linearizable: ReadRequest = Object.freeze({ consistency: "linearizable" });

const objectIds = new WeakMap<DurableObjectNamespace, Map<string, DurableObjectId>>();

function objectId(ns: DurableObjectNamespace, name: string): DurableObjectId {
  let ids = objectIds.get(ns);
  if (ids === undefined) objectIds.set(ns, (ids = new Map()));
  let id = ids.get(name);
  if (id === undefined) ids.set(name, (id = ns.idFromName(name)));
  return id;
}

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

function futureToken(
  group: GroupSpec,
  minRevision: Revision | undefined,
  revision: Revision,
): BadTokenError {
  return new BadTokenError(
    `consistency token s${group.shard}.${minRevision} is ahead of shard ${group.shard} (at revision ${revision}): it was not ` +
      "issued by this deployment; drop X-Edgecfg-Min-Revision or send a token this deployment returned",
  );
}

function unavailable(group: GroupSpec, problem: string): UnavailableError {
  return new UnavailableError(
    `shard ${group.shard} has no reachable leader right now (an election may be running; last: ${problem})`,
    raftRouterLimits.retryAfterMs,
  );
}

function overloaded(group: GroupSpec, target: NodeId): UnavailableError {
  return new UnavailableError(
    `replica ${target} of shard ${group.shard} is overloaded`,
    raftRouterLimits.retryAfterMs * 2,
  );
}

/** The core refuses entries larger than one message: the API should have refused the body already. */
function tooLarge(message: string): WriteOutcome {
  return {
    type: "invalid",
    reason: "valueTooLarge",
    detail: `the write is too large to replicate: ${message}`,
    revision: 0,
  };
}
