// Cluster operations (http-api.md "Cluster operations"): starting one is a compare-and-set of its
// record into the directory; driving it runs its steps, each idempotent and re-checked against the
// shard's own state after every await (its Raft configuration is the authority, the directory a
// copy). Anyone may drive a running operation (the request that started it, then whoever waits on
// it), so a Worker restart in the middle only pauses it until the next driver arrives.
import type { NodeId } from "../raft/index.ts";
import type { GroupSpec, MembershipAnswer, ReplicaStatusReport } from "../replica/index.ts";
import { locationHints } from "../ring/index.ts";
import type { ClusterOperation, ClusterTopology } from "../store/index.ts";
import { groupFromDirectory } from "./directory.ts";
import type { ReshardIo } from "./reshard-operation.ts";
import { planReshard } from "./reshard-plan.ts";
import {
  ClusterOperationError,
  type OperationRequest,
  type OperationStart,
} from "./operation-types.ts";

/** What the operations need from the router: the directory and calls to one shard. */
export interface OperationsIo {
  /** The directory as committed now (a linearizable read of shard 0). */
  directory(): Promise<ClusterTopology>;
  /** Compare-and-set of the directory; the one in force afterwards (mine when applied). */
  commit(next: ClusterTopology): Promise<{ applied: boolean; topology: ClusterTopology }>;
  /** The status of the shard's leader (found by asking its members). */
  leader(group: GroupSpec): Promise<ReplicaStatusReport>;
  status(id: NodeId, group: GroupSpec): Promise<ReplicaStatusReport | null>;
  changeMembership(group: GroupSpec, change: MembershipChange): Promise<MembershipAnswer>;
  transfer(group: GroupSpec, to: NodeId): Promise<MembershipAnswer>;
  /** Creates `id` empty, to join the shard (with its location hint). */
  join(id: NodeId, group: GroupSpec, location: string): Promise<void>;
  retire(id: NodeId, group: GroupSpec): Promise<void>;
  prefix: string;
  nowMs(): number;
  newId(): string;
  /** The calls a reshard makes to the shards (reshard-operation.ts). */
  reshard: ReshardIo;
}

export interface MembershipChange {
  type: "addLearner" | "promoteLearner" | "removeVoter" | "removeLearner";
  nodeId: NodeId;
}

export const operationLimits = {
  /** Finished operations kept in the directory beside running ones. */
  finishedKept: 16,
  /** How long a leadership transfer may take before its operation fails, ms. */
  transferMsMax: 10_000,
  /** A learner is caught up when it is at most this many entries behind the leader. */
  caughtUpEntriesMax: 8,
  /** Pause between two looks at a shard while a step waits for it, ms. */
  pollMs: 100,
  /**
   * Pause after a step asked for a membership change, ms: it commits in one round trip to a
   * quorum, and until the old replica is removed a replace runs a fourth voter (a third more
   * apply work per write), so the next step should not wait a whole poll for it.
   */
  changePollMs: 10,
} as const;

/** Starts the operation `request` describes (or returns the one the same key started). */
export async function startOperation(
  io: OperationsIo,
  request: OperationRequest,
  idempotencyKey: string | undefined,
): Promise<OperationStart> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const topology = await io.directory();
    const replay = topology.operations.find(
      (o) => idempotencyKey !== undefined && o.idempotencyKey === idempotencyKey,
    );
    if (replay !== undefined) return { operation: replay, started: false };
    const plan =
      request.kind === "reshard"
        ? reshardPlan(io, topology, request.shards)
        : await planOperation(io, topology, request);
    if ("done" in plan) return { operation: plan.done, started: false };
    const operation: ClusterOperation = {
      ...plan.operation,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    };
    const next = {
      ...withOperation(topology, operation, plan.nextReplica),
      ...(plan.shards === undefined ? {} : { shards: plan.shards }),
    };
    const { applied } = await io.commit(next);
    if (applied) return { operation, started: true };
  }
  throw new ClusterOperationError(409, "the cluster directory kept changing; retry the request");
}

interface Plan {
  operation: ClusterOperation;
  /** The shard's next replica number once this operation took one. */
  nextReplica?: number;
  /** The directory's shards with this operation (a reshard that grows adds the new ones). */
  shards?: ClusterTopology["shards"];
}

function reshardPlan(
  io: OperationsIo,
  topology: ClusterTopology,
  shards: number,
): Plan | { done: ClusterOperation } {
  const base = baseOperation(io, { kind: "reshard", shards });
  const plan = planReshard(topology, shards, base, io.prefix);
  if (plan.operation.state === "done") return { done: plan.operation };
  return plan;
}

async function planOperation(
  io: OperationsIo,
  topology: ClusterTopology,
  request: Exclude<OperationRequest, { kind: "reshard" }>,
): Promise<Plan | { done: ClusterOperation }> {
  const shard = topology.shards[request.shard];
  if (shard === undefined)
    throw new ClusterOperationError(404, `there is no shard ${request.shard}`);
  const running = topology.operations.find(
    (o) => (o.shard === shard.index || o.kind === "reshard") && o.state === "running",
  );
  if (running !== undefined) {
    throw new ClusterOperationError(
      409,
      `operation ${running.id} (${running.kind}) is running on shard ${shard.index}; ` +
        `wait for it: edgecfg cluster op wait ${running.id}`,
    );
  }
  const base = baseOperation(io, request);
  const group = groupFromDirectory(topology, shard.index);
  const member = (id: string) => {
    if (!shard.members.some((m) => m.id === id))
      throw new ClusterOperationError(404, `shard ${shard.index} has no replica ${id}`);
    return shard.members.find((m) => m.id === id)!;
  };
  switch (request.kind) {
    case "addReplica":
      checkLocation(request.location);
      return allocate(io, base, shard.index, shard.nextReplica, request.location, "join");
    case "replaceReplica": {
      const old = member(request.replica);
      const location = request.location ?? old.location;
      checkLocation(location);
      return allocate(
        io,
        { ...base, replica: old.id },
        shard.index,
        shard.nextReplica,
        location,
        "join",
      );
    }
    case "removeReplica": {
      const old = member(request.replica);
      if (!request.force) await checkQuorumWithout(io, group, shard.members, old.id);
      return { operation: { ...base, replica: old.id, step: "remove" } };
    }
    case "transferLeader": {
      const to = member(request.to);
      if (!to.voter) throw new ClusterOperationError(409, `${to.id} is a learner: it cannot lead`);
      const leader = await io.leader(group);
      if (leader.id === to.id)
        return {
          done: {
            ...base,
            replica: to.id,
            step: "done",
            state: "done",
            finishedAtMs: base.startedAtMs,
          },
        };
      return { operation: { ...base, replica: to.id, step: "transfer" } };
    }
  }
}

function baseOperation(io: OperationsIo, request: OperationRequest): ClusterOperation {
  const now = io.nowMs();
  return {
    id: io.newId(),
    kind: request.kind,
    shard: request.kind === "reshard" ? 0 : request.shard,
    state: "running",
    step: "start",
    progress: { done: 0, total: 1, unit: "steps" },
    startedAtMs: now,
    updatedAtMs: now,
  };
}

function allocate(
  io: OperationsIo,
  base: ClusterOperation,
  shard: number,
  nextReplica: number,
  location: string,
  step: string,
): Plan {
  const added = `${io.prefix}s${shard}-r${nextReplica}/g1`;
  return { operation: { ...base, added, location, step }, nextReplica: nextReplica + 1 };
}

function checkLocation(location: string): void {
  if (location !== "" && !(locationHints as readonly string[]).includes(location)) {
    throw new ClusterOperationError(
      400,
      `location ${JSON.stringify(location)} is not a location hint; ` +
        `use one of ${locationHints.join(", ")}`,
    );
  }
}

/** 409 unless at least three voters are left without `id`, a majority of them reachable. */
async function checkQuorumWithout(
  io: OperationsIo,
  group: GroupSpec,
  members: ClusterTopology["shards"][number]["members"],
  id: string,
): Promise<void> {
  const voters = members.filter((m) => m.voter && m.id !== id);
  if (voters.length < 3) {
    throw new ClusterOperationError(
      409,
      `removing ${id} would leave shard ${group.shard} with ${voters.length} voters, fewer than ` +
        "three: add a replica first (or replace this one), or pass force=true",
    );
  }
  const reachable = await Promise.all(
    voters.map((v) =>
      io.status(v.id, group).then(
        (s) => s !== null && !s.removed,
        () => false,
      ),
    ),
  );
  const up = reachable.filter(Boolean).length;
  if (up < Math.floor(voters.length / 2) + 1) {
    throw new ClusterOperationError(
      409,
      `removing ${id} would leave shard ${group.shard} with ${up} of ${voters.length} voters ` +
        "reachable, not a majority: bring them back first, or pass force=true",
    );
  }
}

/** The directory with `operation` recorded (the oldest finished ones beyond the limit dropped). */
export function withOperation(
  topology: ClusterTopology,
  operation: ClusterOperation,
  nextReplica?: number,
): ClusterTopology {
  const others = topology.operations.filter((o) => o.id !== operation.id);
  const finished = others.filter((o) => o.state !== "running");
  const dropped = new Set(
    finished.slice(0, Math.max(0, finished.length - operationLimits.finishedKept)).map((o) => o.id),
  );
  return {
    ...topology,
    epoch: topology.epoch + 1,
    shards: topology.shards.map((s) =>
      s.index === operation.shard && nextReplica !== undefined ? { ...s, nextReplica } : s,
    ),
    operations: [...others.filter((o) => !dropped.has(o.id)), operation],
  };
}
