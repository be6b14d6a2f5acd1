// Driving a running cluster operation, one step at a time. Each step looks at the shard first
// and acts only if the shard is not there yet, so two drivers at once, or a driver resuming after
// a restart, repeat nothing harmful: the core refuses a second uncommitted configuration change
// and any change that is already in force. A step that changed the shard is recorded in the
// directory by compare-and-set; the directory's member lists follow the shard's configuration.
import type { ReplicaStatusReport } from "../replica/index.ts";
import type { ClusterOperation, ClusterTopology } from "../store/index.ts";
import { groupFromDirectory } from "./directory.ts";
import { operationLimits, withOperation, type OperationsIo } from "./operations.ts";
import { reshardStep } from "./reshard-operation.ts";

type Step = (
  io: OperationsIo,
  t: ClusterTopology,
  op: ClusterOperation,
) => Promise<Update | null | typeof asked>;

/** A step asked the shard for a membership change: look again soon (it commits in one round). */
const asked = Symbol("asked");

/** What a step changed: the operation (and the shard's members, or the ring, in the directory). */
interface Update {
  operation: ClusterOperation;
  members?: ClusterTopology["shards"][number]["members"];
  ring?: { shardCount: number; shards: ClusterTopology["shards"] };
}

/**
 * Operations a request of this isolate is driving now, with when it last took a step (ms): a
 * second look in the same isolate (`op wait` beside the request that started it) only watches,
 * so the shard is not asked twice for every step. A driver silent for `driverSilentMsMax` (stuck
 * on an unreachable replica) is taken over. Requests share no promise, only this map: workerd
 * ties I/O to the request that started it.
 */
const drivenHere = new Map<string, number>();
const driverSilentMsMax = 10_000;

/** Drives operation `id` until it is no longer running or `untilMs` passes; its record then. */
export async function driveOperation(
  io: OperationsIo,
  id: string,
  untilMs: number,
): Promise<ClusterOperation | null> {
  for (;;) {
    const topology = await io.directory();
    const op = topology.operations.find((o) => o.id === id);
    if (op === undefined || op.state !== "running" || io.nowMs() >= untilMs) return op ?? null;
    const driving = drivenHere.get(id);
    if (driving !== undefined && io.nowMs() - driving < driverSilentMsMax) {
      await sleep(operationLimits.pollMs); // another request here drives it: watch its record
      continue;
    }
    return drive(io, id, untilMs);
  }
}

async function drive(
  io: OperationsIo,
  id: string,
  untilMs: number,
): Promise<ClusterOperation | null> {
  try {
    return await driveSteps(io, id, untilMs, (atMs) => drivenHere.set(id, atMs));
  } finally {
    drivenHere.delete(id);
  }
}

async function driveSteps(
  io: OperationsIo,
  id: string,
  untilMs: number,
  alive: (atMs: number) => void,
): Promise<ClusterOperation | null> {
  for (;;) {
    alive(io.nowMs());
    const topology = await io.directory();
    const op = topology.operations.find((o) => o.id === id);
    if (op === undefined || op.state !== "running" || io.nowMs() >= untilMs) return op ?? null;
    let update: Update | null | typeof asked;
    try {
      update = await (steps[op.step] ?? unknownStep)(io, topology, op);
    } catch (error) {
      // A replica that cannot be reached now: look again shortly (the step is idempotent).
      update = null;
      console.log(`operation ${id}: step ${op.step} will be retried: ${String(error)}`);
    }
    if (update === asked) await sleep(operationLimits.changePollMs);
    else if (update === null) await sleep(operationLimits.pollMs);
    else {
      await io.commit(applyUpdate(topology, update, io.nowMs()));
      // A timer turn between steps: calls to Durable Objects of the same process can resolve
      // without one, and a reshard's hundreds of steps would then hold the isolate (locally
      // every request waited ~4 s for a 105-namespace reshard; test/workers shows the same).
      await sleep(0);
    }
  }
}

function applyUpdate(t: ClusterTopology, u: Update, nowMs: number): ClusterTopology {
  const finished = u.operation.state !== "running";
  const operation = {
    ...u.operation,
    updatedAtMs: nowMs,
    ...(finished ? { finishedAtMs: nowMs } : {}),
  };
  const next = withOperation(t, operation);
  if (u.ring !== undefined) return { ...next, ...u.ring };
  if (u.members === undefined) return next;
  return {
    ...next,
    shards: next.shards.map((s) =>
      s.index === operation.shard ? { ...s, members: u.members! } : s,
    ),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const unknownStep: Step = async (_io, _t, op) => ({
  operation: { ...op, state: "failed", error: `unknown step ${op.step} (a newer release?)` },
});

function inConf(s: ReplicaStatusReport, id: string): "voter" | "learner" | null {
  if (s.learners.includes(id)) return "learner";
  return s.members.some((m) => m.id === id) ? "voter" : null;
}

const steps: Record<string, Step> = {
  /** A reshard's next step (reshard-operation.ts); the last one changes the ring. */
  async reshard(io, t, op) {
    return reshardStep(io.reshard, t, op);
  },

  /** Creates the new replica empty, where it is to live. */
  async join(io, t, op) {
    const group = groupFromDirectory(t, op.shard);
    await io.join(op.added!, group, op.location ?? "");
    return {
      operation: { ...op, step: "learner", progress: { done: 1, total: 4, unit: "steps" } },
    };
  },

  /** Adds it as a learner (it counts in no quorum) and waits until it has caught up. */
  async learner(io, t, op) {
    const group = groupFromDirectory(t, op.shard);
    const leader = await io.leader(group);
    const role = inConf(leader, op.added!);
    if (role === null) {
      await io.changeMembership(group, { type: "addLearner", nodeId: op.added! });
      return asked;
    }
    const match = leader.matchIndex?.[op.added!] ?? 0;
    const behind = Math.max(0, leader.lastIndex - match);
    const members = t.shards[op.shard]!.members;
    const listed = members.some((m) => m.id === op.added);
    const withLearner = listed
      ? members
      : [...members, { id: op.added!, location: op.location ?? "", voter: false }];
    if (role === "voter" || behind <= operationLimits.caughtUpEntriesMax)
      return {
        operation: { ...op, step: "promote", progress: { done: 2, total: 4, unit: "steps" } },
        members: withLearner,
      };
    const snapshot = leader.snapshots?.[op.added!];
    const progress =
      snapshot === undefined
        ? { done: match, total: leader.lastIndex, unit: "entries" }
        : { done: snapshot.done, total: snapshot.total, unit: "snapshot bytes" };
    if (listed && op.progress.done === progress.done && op.progress.unit === progress.unit)
      return null;
    return { operation: { ...op, progress }, members: withLearner };
  },

  /** Promotes the caught-up learner to voter. */
  async promote(io, t, op) {
    const group = groupFromDirectory(t, op.shard);
    const leader = await io.leader(group);
    if (inConf(leader, op.added!) === "learner") {
      await io.changeMembership(group, { type: "promoteLearner", nodeId: op.added! });
      return asked;
    }
    if (!leader.appliedMembers.includes(op.added!)) return null;
    const members = t.shards[op.shard]!.members.map((m) =>
      m.id === op.added ? { ...m, voter: true } : m,
    );
    const next = op.kind === "replaceReplica" ? "remove" : "done";
    return { operation: finishOr(op, next, 3), members };
  },

  /** Removes the old replica from the configuration; waits until the removal committed. */
  async remove(io, t, op) {
    const group = groupFromDirectory(t, op.shard);
    const leader = await io.leader(group);
    const role = inConf(leader, op.replica!);
    if (role !== null) {
      const type = role === "learner" ? "removeLearner" : "removeVoter";
      await io.changeMembership(group, { type, nodeId: op.replica! });
      return asked;
    }
    if (leader.appliedMembers.includes(op.replica!)) return null;
    return { operation: { ...op, step: "retire", progress: { done: 3, total: 4, unit: "steps" } } };
  },

  /** Tells the removed replica (it never hears of it otherwise); drops it from the directory. */
  async retire(io, t, op) {
    const group = groupFromDirectory(t, op.shard);
    // A dead replica cannot be told; it was removed all the same, and stays so if it comes back
    // (the group no longer writes to it, and its own alarms find nobody to elect it).
    await io.retire(op.replica!, group).catch(() => undefined);
    const members = t.shards[op.shard]!.members.filter((m) => m.id !== op.replica);
    return { operation: finishOr(op, "done", 4), members };
  },

  /** Asks the leader to hand over to the target, and waits until the target leads. */
  async transfer(io, t, op) {
    const group = groupFromDirectory(t, op.shard);
    const leader = await io.leader(group);
    if (leader.id === op.replica) return { operation: finishOr(op, "done", 1) };
    if (io.nowMs() - op.startedAtMs > operationLimits.transferMsMax) {
      const error = `${op.replica} did not take over within ${operationLimits.transferMsMax} ms`;
      return { operation: { ...op, state: "failed", error } };
    }
    await io.transfer(group, op.replica!);
    return null;
  },
};

function finishOr(op: ClusterOperation, next: string, done: number): ClusterOperation {
  const total = op.kind === "transferLeader" ? 1 : op.kind === "addReplica" ? 3 : 4;
  const progress = { done: Math.min(done, total), total, unit: "steps" };
  return next === "done"
    ? { ...op, step: "done", state: "done", progress: { done: total, total, unit: "steps" } }
    : { ...op, step: next, progress };
}
