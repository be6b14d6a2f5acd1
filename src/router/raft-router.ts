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
import { parseTopology, shardIndexFor, type Topology } from "../ring/index.ts";
import {
  encodeCommand,
  repeatSafe,
  systemNamespace,
  type ClusterOperation,
  type ClusterTopology,
  type Command,
  type Query,
  type QueryResult,
  type Revision,
} from "../store/index.ts";
import {
  clusterNamespace,
  directoryLimits,
  groupFromDirectory,
  pendingConfigOf,
} from "./directory.ts";
import { loadDirectory, type DirectoryIo } from "./directory-load.ts";
import { applyFault, listFaults } from "./dev-faults.ts";
import type { FaultAction, FaultWindow, ReplicaFaults } from "./fault-types.ts";
import { driveOperation } from "./operation-steps.ts";
import type { OperationRequest, OperationStart } from "./operation-types.ts";
import { startOperation, type OperationsIo } from "./operations.ts";
import { raftOperationsIo } from "./raft-operations-io.ts";
import { intentLimits, systemIo } from "./intents.ts";
import { recoverIntent } from "./txn-recovery.ts";
import { shardStatus } from "./raft-status.ts";
import { NamespaceMovedError, namespaceRoutes } from "./namespace-routes.ts";
import {
  linearizableReadVerdict,
  overloaded,
  proposeVerdict,
  unavailable,
  waitVerdict,
  type ReadOk,
} from "./raft-answers.ts";
import {
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
  revisionFor,
  type ClusterStatus,
  type Read,
  type ReadOptions,
  type Router,
  type WaitRequest,
  type Waited,
  type Written,
} from "./types.ts";

/** The [vars] that seed the directory of a fresh store (src/ring/topology.ts reads them). */
export interface RaftRouterEnv extends ReplicaEnv {
  SHARDS?: string;
  REPLICAS_PER_SHARD?: string;
  REPLICA_LOCATIONS?: string;
  /** No longer read (replica ids come from the directory); reported in pendingConfig if set. */
  RAFT_GENERATION?: string;
}

export interface RaftRouterOptions {
  /** Where the caller is (request.cf), to prefer replicas near it. */
  caller?: CallerLocation | null;
  /**
   * Tests only: a separate cluster under replica names starting with this text, with its own
   * directory. Not a [vars] entry on purpose: no setting may start empty groups beside the stored
   * ones.
   */
  clusterPrefix?: string;
}

/** The directory an isolate uses, and what it derived from it (rebuilt when the epoch moves). */
interface DirectoryView {
  topology: ClusterTopology;
  fetchedAtMs: number;
  groups: Map<number, GroupSpec>;
}

interface ReplicaCall {
  address: string;
  stubOptions: DurableObjectNamespaceGetDurableObjectOptions;
}

/** Per isolate, by cluster prefix: every request of a deployment shares its directory. */
const directories = new Map<string, DirectoryView>();

export class RaftRouter implements Router {
  readonly #env: RaftRouterEnv;
  /** What [vars] say: the seed of a fresh store, and what pendingConfig compares with. */
  readonly #vars: Topology;
  readonly #caller: CallerLocation | null;
  readonly #prefix: string;

  /** Throws TopologyError (naming the [vars] entry to fix) when [vars] are invalid. */
  constructor(env: RaftRouterEnv, options: RaftRouterOptions = {}) {
    this.#env = env;
    this.#vars = parseTopology(env as unknown as Record<string, unknown>);
    this.#caller = options.caller ?? null;
    this.#prefix = options.clusterPrefix ?? "";
  }

  async shardOf(namespace: string): Promise<number> {
    return (await this.#group(namespace)).shard;
  }

  /**
   * A write of `namespace`, following a reshard: a `moved` outcome names the shard that has it
   * now (asked next), a `moving` one the pause of its move (asked again shortly, within
   * raftRouterLimits.moveWaitMsMax; after that the outcome goes to the caller: 503).
   */
  async write(namespace: string, command: Command): Promise<Written> {
    const deadlineMs = Date.now() + raftRouterLimits.moveWaitMsMax;
    // The target of a move in its pause, for this write only: the isolate's reads of the
    // namespace stay on the source until it flips (the target's copy is not whole before).
    let pausedAt: number | undefined;
    for (let hops = 0; ; ) {
      const found = pausedAt === undefined ? this.#group(namespace) : this.#groupOf(pausedAt);
      const group = "then" in found ? await found : found;
      const written = await this.#writeOn(group, command);
      const { outcome } = written;
      const again = Date.now() < deadlineMs;
      if (outcome.type === "moved" && again && hops < raftRouterLimits.moveHopsMax) {
        hops += 1;
        if (outcome.flipped === true) namespaceRoutes.learn(this.#prefix, namespace, outcome.shard);
        pausedAt = outcome.flipped === true ? undefined : outcome.shard;
        continue;
      }
      if (outcome.type !== "moving" || !again) return written;
      await new Promise((resolve) => setTimeout(resolve, raftRouterLimits.movePollMs));
    }
  }

  /** A write on one shard's group (the reshard driver's proposals, and every write above). */
  async writeOnShard(shard: number, command: Command): Promise<Written> {
    return this.#writeOn(await this.#groupOf(shard), command);
  }

  async #groupOf(shard: number): Promise<GroupSpec> {
    return this.#groupAt(await this.#directory(), shard);
  }

  async #writeOn(group: GroupSpec, command: Command): Promise<Written> {
    // A retry after an unknown outcome must not apply twice: give every write an idempotency key,
    // but for the txn protocol's, which a repeat cannot apply twice (the store's repeatSafe).
    const keyed =
      command.idempotencyKey === undefined && !repeatSafe(command)
        ? { ...command, idempotencyKey: `router:${crypto.randomUUID()}` }
        : command;
    // A keep-alive is renewed by the leader in memory: no log entry (src/replica/lease-expiry.ts).
    const bytes = command.type === "leaseKeepAlive" ? null : encodeCommand(keyed);
    const outcome = await retryAcross(
      this.#scope(group, new Targets(() => leaderFirst(group, this.#caller), leaderHintOf(group))),
      (target) => {
        const stub = this.#stub(group, target);
        const to = this.#addr(group, target);
        if (bytes !== null) return stub.propose(to, bytes);
        const { id, atMs } = command as Extract<Command, { type: "leaseKeepAlive" }>;
        return stub.keepAlive(to, id, atMs);
      },
      (answer, target) => {
        if (answer.type === "applied") placementCache.setLeader(group.shard, target);
        this.#noteRemoved(answer);
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
    for (let hop = 0; ; hop++) {
      const found = this.#group(namespace);
      const group = "then" in found ? await found : found;
      try {
        return await this.#readOn(group, query, options);
      } catch (error) {
        if (!(error instanceof NamespaceMovedError) || hop >= raftRouterLimits.moveHopsMax)
          throw error;
        namespaceRoutes.learn(this.#prefix, error.namespace, error.shard);
      }
    }
  }

  /** A linearizable read on one shard's group (the reshard driver's chunks). */
  async readOnShard<Q extends Query>(shard: number, query: Q): Promise<QueryResult<Q>> {
    const view = await this.#directory();
    return (await this.#readOn(this.#groupAt(view, shard), query, linearizable)).result;
  }

  async #readOn<Q extends Query>(
    group: GroupSpec,
    query: Q,
    options: ReadOptions,
  ): Promise<Read<QueryResult<Q>>> {
    const minRevision = minRevisionOf(options.minToken, group.shard);
    // A token of another shard (issued before its namespace was resharded here) has no floor
    // on this shard's revisions: only a linearizable read is sure to include what it saw.
    // (minRevisionOf answers undefined for a token with no part for this shard.)
    const foreign = options.minToken !== undefined && minRevision === undefined;
    const stale = options.consistency === "stale" && !foreign;
    const answer =
      (stale ? await this.#staleRead(group, query, minRevision) : null) ??
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
    const found = this.#group(namespace);
    const group = "then" in found ? await found : found;
    const deadlineMs = Date.now() + request.timeoutMs;
    const { afterRevision, key } = request;
    const targets =
      request.atLeader === true
        ? new Targets(() => leaderFirst(group, this.#caller), leaderHintOf(group))
        : new Targets(() => nearestFirst(group, this.#caller));
    const waited = await retryAcross(
      this.#scope(group, targets),
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
    const view = await this.#directory();
    const { topology } = view;
    const statusOf = (group: GroupSpec) => (id: NodeId) =>
      timed(this.#stub(group, id).status(), id, raftRouterLimits.rpcTimeoutMs);
    const shards = await Promise.all(
      topology.shards.map((s) => {
        const group = this.#groupAt(view, s.index);
        return shardStatus(topology, group, statusOf(group));
      }),
    );
    const pending = pendingConfigOf(this.#vars, topology, this.#env.RAFT_GENERATION);
    return {
      backend: "raft",
      ring: { shards: topology.shardCount, epoch: topology.epoch },
      shards,
      pendingConfig: pending.length === 0 ? null : pending,
      operations: topology.operations.filter((o) => o.state === "running"),
    };
  }

  async startOperation(
    request: OperationRequest,
    idempotencyKey?: string,
  ): Promise<OperationStart> {
    return startOperation(this.#operationsIo(), request, idempotencyKey);
  }

  async operation(id: string, waitMs: number): Promise<ClusterOperation | null> {
    return driveOperation(this.#operationsIo(), id, Date.now() + waitMs);
  }

  async injectFault(fault: FaultAction, window?: FaultWindow): Promise<ReplicaFaults[]> {
    const { topology } = await this.#loadDirectory(directories.get(this.#prefix));
    return applyFault(this.#env, topology, fault, window);
  }

  async listFaults(): Promise<ReplicaFaults[]> {
    const { topology } = await this.#loadDirectory(directories.get(this.#prefix));
    return listFaults(this.#env, topology);
  }

  // ---------------------------------------------------------------------------------------------

  #operationsIo(): OperationsIo {
    return raftOperationsIo({
      env: this.#env,
      prefix: this.#prefix,
      directory: async () => {
        const read = await this.read(clusterNamespace, { type: "cluster" }, linearizable);
        if (read.result.topology === null) throw new Error("the cluster directory is not seeded");
        return read.result.topology;
      },
      commit: async (next) => {
        const { outcome } = await this.write(clusterNamespace, {
          type: "clusterSet",
          atMs: Date.now(),
          ifEpoch: next.epoch - 1,
          topology: next,
        });
        if (outcome.type !== "clusterSet" || outcome.topology === null)
          throw new Error(`the cluster directory answered ${outcome.type}`);
        this.#adopt(outcome.topology);
        return { applied: outcome.applied, topology: outcome.topology };
      },
      reshard: {
        exportChunk: (shard, query) =>
          this.readOnShard(shard, { type: "namespaceExport", ...query }),
        propose: async (shard, command) => (await this.writeOnShard(shard, command)).outcome,
        servedNamespaces: async (shard, leaving) => {
          const look = await this.readOnShard(shard, { type: "servedNamespaces", leaving });
          return { namespaces: look.namespaces, total: look.total };
        },
        nowMs: () => Date.now(),
        // A cross-shard txn holds the namespace (src/store/moves-fence.ts): finished from its
        // record once its deadline has passed, else the fence is tried again after a pause.
        txnInTheWay: async (intent) => {
          const finished = await recoverIntent(this, intent, systemIo).catch(() => false);
          if (!finished) await new Promise((r) => setTimeout(r, intentLimits.pollMs));
        },
      },
    });
  }

  /** A replica says it was removed: this isolate's directory is out of date; read it again. */
  #noteRemoved(answer: { type: string; removed?: true }): void {
    if (answer.type === "unserved" && answer.removed === true) directories.delete(this.#prefix);
  }

  /** Uses `topology` from now on in this isolate, if it is newer than the one in use. */
  #adopt(topology: ClusterTopology): void {
    const view = directories.get(this.#prefix);
    if (view !== undefined && view.topology.epoch >= topology.epoch) return;
    directories.set(this.#prefix, { topology, fetchedAtMs: Date.now(), groups: new Map() });
  }

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
        if (answer.type === "moved") throw new NamespaceMovedError(answer.namespace, answer.shard);
      } catch (error) {
        if (error instanceof NamespaceMovedError) throw error;
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
        this.#noteRemoved(answer);
        return linearizableReadVerdict(answer, target, group.shard, minRevision);
      },
    );
  }

  /**
   * The group of the shard that holds `namespace`, by the stored directory: at hand (no promise)
   * while the isolate's directory is fresh, which is nearly every request.
   */
  #group(namespace: string): GroupSpec | Promise<GroupSpec> {
    const view = this.#directory();
    return "then" in view
      ? view.then((v) => this.#groupIn(v, namespace))
      : this.#groupIn(view, namespace);
  }

  #groupIn(view: DirectoryView, namespace: string): GroupSpec {
    const moved = namespaceRoutes.get(this.#prefix, namespace);
    // Tokens and settings (`_sys`) stay on the shard of the ring the store was seeded with: a
    // reshard moves namespaces, not them (and refuses to remove their shard).
    const ring =
      namespace === systemNamespace ? view.topology.seed.shardCount : view.topology.shardCount;
    const shard =
      namespace === clusterNamespace
        ? 0
        : moved !== undefined && moved < view.topology.shards.length
          ? moved
          : shardIndexFor(namespace, ring);
    return this.#groupAt(view, shard);
  }

  #groupAt(view: DirectoryView, shard: number): GroupSpec {
    let group = view.groups.get(shard);
    if (group === undefined)
      view.groups.set(shard, (group = groupFromDirectory(view.topology, shard)));
    return group;
  }

  /** The isolate's directory, read again once it is older than directoryLimits.freshMsMax. */
  #directory(): DirectoryView | Promise<DirectoryView> {
    const view = directories.get(this.#prefix);
    if (view !== undefined && Date.now() - view.fetchedAtMs < directoryLimits.freshMsMax)
      return view;
    return this.#loadDirectory(view);
  }

  #directoryIo(): DirectoryIo {
    const addressed = (id: NodeId, group: GroupSpec, create?: false) =>
      encodeAddress({ self: id, group, ...(create === false ? { create } : {}) });
    const stubOf = (id: NodeId, group: GroupSpec) => {
      const location = group.members.find((m) => m.id === id)?.location ?? "";
      return rpcStubOf(replicaStub(this.#env.REPLICA, id, stubOptionsFor(location)));
    };
    return {
      vars: this.#vars,
      prefix: this.#prefix,
      probe: (id, guess) =>
        stubOf(id, guess).read(addressed(id, guess, false), { type: "cluster" }, linearizable),
      status: (id, guess) => timed(stubOf(id, guess).status(), id, raftRouterLimits.rpcTimeoutMs),
      seed: async (group, topology) => {
        const bytes = encodeCommand({
          type: "clusterSet",
          atMs: Date.now(),
          idempotencyKey: `router:${crypto.randomUUID()}`,
          ifEpoch: 0,
          topology,
        });
        const outcome = await retryAcross(
          this.#scope(group, new Targets(() => group.members.map((m) => m.id))),
          (target) => stubOf(target, group).propose(addressed(target, group), bytes),
          (answer, target) => proposeVerdict(answer, target, 0),
        );
        if (outcome.type !== "clusterSet" || outcome.topology === null)
          throw new Error(`seeding the cluster directory answered ${outcome.type}`);
        return outcome.topology;
      },
      forgetLeader: (id) => {
        if (placementCache.leader(0) === id) placementCache.setLeader(0, null);
      },
    };
  }

  async #loadDirectory(previous: DirectoryView | undefined): Promise<DirectoryView> {
    const fetchedAtMs = Date.now();
    const topology = await loadDirectory(this.#directoryIo());
    const view: DirectoryView =
      previous !== undefined && previous.topology.epoch === topology.epoch
        ? { ...previous, fetchedAtMs }
        : { topology, fetchedAtMs, groups: new Map() };
    directories.set(this.#prefix, view);
    return view;
  }

  /**
   * What a call to a replica needs besides its object id, per group (a new directory epoch makes
   * new groups) and replica id: the address text it expects and the stub's location hint.
   */
  readonly #replicasByGroup = new WeakMap<GroupSpec, Map<NodeId, ReplicaCall>>();

  #replica(group: GroupSpec, id: NodeId): ReplicaCall {
    let byId = this.#replicasByGroup.get(group);
    if (byId === undefined) this.#replicasByGroup.set(group, (byId = new Map()));
    let r = byId.get(id);
    if (r === undefined) {
      const location = group.members.find((m) => m.id === id)?.location ?? "";
      r = { address: encodeAddress({ self: id, group }), stubOptions: stubOptionsFor(location) };
      byId.set(id, r);
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

/** The revision a read must reach; undefined when there is no token or it names another shard. */
function minRevisionOf(token: string | undefined, shard: number): Revision | undefined {
  if (token === undefined) return undefined;
  const revision = revisionFor(token, shard);
  if (revision === null)
    throw new BadTokenError(`consistency token ${JSON.stringify(token)} is malformed`);
  return revision;
}
