// The calls cluster operations make (operations.ts, operation-steps.ts), over ReplicaDO stubs:
// each goes to the shard's members by name, follows `notLeader` hints, and never creates a
// replica except the one being added (created empty, to join).
import type { NodeId } from "../raft/index.ts";
import {
  encodeAddress,
  replicaStub,
  rpcStubOf,
  stubOptionsFor,
  type GroupSpec,
  type MembershipAnswer,
  type ReplicaEnv,
  type ReplicaStatusReport,
  type Unserved,
} from "../replica/index.ts";
import type { ClusterTopology } from "../store/index.ts";
import type { OperationsIo } from "./operations.ts";
import type { ReshardIo } from "./reshard-operation.ts";
import { raftRouterLimits, timed } from "./raft-retry.ts";
import { ShardUnavailableError } from "./types.ts";

export interface OperationsIoDeps {
  env: ReplicaEnv;
  prefix: string;
  directory(): Promise<ClusterTopology>;
  commit(next: ClusterTopology): Promise<{ applied: boolean; topology: ClusterTopology }>;
  reshard: ReshardIo;
}

/** How long a step looks for the shard's leader before it gives up for now, ms. */
const leaderWaitMs = 3_000;

export function raftOperationsIo(deps: OperationsIoDeps): OperationsIo {
  const stub = (id: NodeId, location = "") =>
    rpcStubOf(replicaStub(deps.env.REPLICA, id, stubOptionsFor(location)));
  const addr = (id: NodeId, group: GroupSpec) => encodeAddress({ self: id, group });
  const status = (id: NodeId) => timed(stub(id).status(), id, raftRouterLimits.rpcTimeoutMs);
  // The members the directory lists may never have been used: wake (or create) them, as the
  // router's first request to a shard does, so that they elect a leader.
  const wake = (group: GroupSpec) =>
    Promise.all(group.members.map((m) => stub(m.id, m.location).ensure(addr(m.id, group)))).then(
      () => undefined,
      () => undefined,
    );
  const leader = (group: GroupSpec) => findLeader(group, status, wake);
  /** Sends `call` to the leader, following one redirect. */
  const onLeader = async (
    group: GroupSpec,
    call: (id: NodeId) => Promise<MembershipAnswer | Unserved>,
  ): Promise<MembershipAnswer> => {
    const first = (await leader(group)).id;
    const answer = await call(first);
    if (answer.type === "notLeader" && answer.leaderHint !== null) {
      const again = await call(answer.leaderHint);
      if (again.type !== "unserved") return again;
    }
    if (answer.type === "unserved") throw new Error(answer.reason);
    return answer;
  };
  return {
    directory: deps.directory,
    commit: deps.commit,
    leader,
    status: (id) => status(id),
    changeMembership: (group, change) =>
      onLeader(group, (id) => stub(id).changeMembership(addr(id, group), change)),
    transfer: (group, to) => onLeader(group, (id) => stub(id).transfer(addr(id, group), to)),
    join: async (id, group, location) => {
      const joining = { shard: group.shard, members: [...group.members, { id, location }] };
      const address = encodeAddress({ self: id, group: joining, join: true });
      const answer = await stub(id, location).ensure(address);
      if ("type" in answer) throw new Error(`${id} could not be created: ${answer.reason}`);
    },
    retire: async (id, group) => {
      const answer = await stub(id).retire(addr(id, group));
      if ("type" in answer && answer.removed !== true) throw new Error(answer.reason);
    },
    prefix: deps.prefix,
    nowMs: () => Date.now(),
    newId: () => `op-${crypto.randomUUID().slice(0, 8)}`,
    reshard: deps.reshard,
  };
}

/** The status of the member every other one follows, once there is one (removed ones skipped). */
async function findLeader(
  group: GroupSpec,
  status: (id: NodeId) => Promise<ReplicaStatusReport | null>,
  wake: (group: GroupSpec) => Promise<void>,
): Promise<ReplicaStatusReport> {
  const deadline = Date.now() + leaderWaitMs;
  for (let look = 0; ; look++) {
    if (look === 1) await wake(group);
    const all = await Promise.all(group.members.map((m) => status(m.id).catch(() => null)));
    const live = all.filter((s): s is ReplicaStatusReport => s !== null && !s.removed);
    const found = live.find((s) => s.role === "leader");
    if (found !== undefined) return found;
    // A member the directory does not list yet (being added) may lead: follow a hint once.
    const hinted = live.find((s) => s.leader !== null)?.leader;
    if (hinted != null && !group.members.some((m) => m.id === hinted)) {
      const s = await status(hinted).catch(() => null);
      if (s?.role === "leader" && !s.removed) return s;
    }
    if (Date.now() >= deadline)
      throw new ShardUnavailableError(`shard ${group.shard} has no leader right now`, 1_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
