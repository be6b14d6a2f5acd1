// GET /v1/cluster for the Raft backend: every member the directory lists, as it reports itself,
// with what only the leader knows (each member's match index and lag) and the operation that
// touches it.
import type { NodeId } from "../raft/index.ts";
import type { GroupSpec, ReplicaStatusReport } from "../replica/index.ts";
import type { ClusterOperation, ClusterTopology } from "../store/index.ts";
import type { ReplicaStatus, ShardStatus } from "./types.ts";

export async function shardStatus(
  topology: ClusterTopology,
  group: GroupSpec,
  statusOf: (id: NodeId) => Promise<ReplicaStatusReport | null>,
): Promise<ShardStatus> {
  const errors: string[] = [];
  const reports = await Promise.all(
    group.members.map(async (m) => {
      try {
        const r = await statusOf(m.id);
        if (r === null)
          errors.push(
            `${m.id} has not been created yet (no request has reached shard ${group.shard})`,
          );
        return r;
      } catch (error) {
        errors.push(`${m.id}: ${String(error)}`);
        return null;
      }
    }),
  );
  const leader = reports.find((r) => r?.role === "leader" && !r.removed) ?? null;
  const running = topology.operations.find((o) => o.shard === group.shard && o.state === "running");
  const listed = topology.shards[group.shard]!.members;
  const replicas = group.members.map((m, i) =>
    replicaStatus(m, reports[i] ?? null, leader, running, listed.find((x) => x.id === m.id)?.voter),
  );
  const revisions = reports.flatMap((r) => (r === null ? [] : [r.revision]));
  return {
    shard: group.shard,
    revision: revisions.length === 0 ? null : Math.max(...revisions),
    replicas,
    ...(errors.length === 0 ? {} : { error: errors.join("; ") }),
  };
}

function replicaStatus(
  m: { id: NodeId; location: string },
  r: ReplicaStatusReport | null,
  leader: ReplicaStatusReport | null,
  running: ClusterOperation | undefined,
  listedVoter: boolean | undefined,
): ReplicaStatus {
  const match = leader?.matchIndex?.[m.id];
  const touching = running !== undefined && (running.replica === m.id || running.added === m.id);
  return {
    id: m.id,
    location: r?.members.find((x) => x.id === m.id)?.location || m.location,
    // Unknown or not yet created: listed as configured, with nothing applied.
    role: r === null ? "follower" : r.role,
    term: r?.term ?? 0,
    commitIndex: r?.commitIndex ?? 0,
    appliedIndex: r?.appliedIndex ?? 0,
    lastContactMs: r?.lastContactMs ?? null,
    voter: leader === null ? (listedVoter ?? true) : !leader.learners.includes(m.id),
    matchIndex: match ?? null,
    lag: match === undefined || leader === null ? null : Math.max(0, leader.lastIndex - match),
    snapshot: leader?.snapshots?.[m.id] ?? null,
    operation: touching ? running.id : null,
  };
}
