// How a router finds the cluster directory with nothing cached: it asks shard 0's replicas by
// name, with probes that create nothing (a guessed group must never start a replica), and seeds
// a directory from [vars] only when the store has none. Seeding takes each existing shard's
// members from the shard itself (its first replica's Raft configuration), so a store that ran
// before the directory existed keeps its groups even if [vars] changed meanwhile.
import type { NodeId } from "../raft/index.ts";
import type {
  GroupSpec,
  MemberSpec,
  ReadAnswer,
  ReplicaStatusReport,
  Unserved,
} from "../replica/index.ts";
import { replicaName } from "../replica/index.ts";
import type { Topology } from "../ring/index.ts";
import type { ClusterTopology } from "../store/index.ts";
import { anchorId, groupFromDirectory, seedTopology } from "./directory.ts";
import { retryAcross, Targets, type Verdict } from "./raft-retry.ts";
import { ShardUnavailableError } from "./types.ts";

/** What loading needs from the router: calls to replicas, by name. */
export interface DirectoryIo {
  vars: Topology;
  prefix: string;
  /** A linearizable read of the directory at replica `id`, creating nothing. */
  probe(id: NodeId, guess: GroupSpec): Promise<ReadAnswer | Unserved>;
  /** The replica's status, or null when it does not exist (creates nothing). */
  status(id: NodeId, guess: GroupSpec): Promise<ReplicaStatusReport | null>;
  /** Proposes the seed to shard 0 (if its epoch is still 0); the directory in force after it. */
  seed(shard0: GroupSpec, topology: ClusterTopology): Promise<ClusterTopology>;
  forgetLeader(id: NodeId): void;
}

type Found = { type: "found"; topology: ClusterTopology | null } | { type: "fresh" };

export async function loadDirectory(io: DirectoryIo): Promise<ClusterTopology> {
  const guess = groupFromDirectory(seedTopology(io.vars, io.prefix, null), 0);
  const anchor = anchorId(io.prefix);
  const ids = [anchor, ...guess.members.map((m) => m.id).filter((id) => id !== anchor)];
  const found = await retryAcross<ReadAnswer | Unserved, Found>(
    {
      targets: new Targets(() => ids, anchor),
      forgetLeader: (id) => io.forgetLeader(id),
      overloaded: (id) => unreachable(`replica ${id} of shard 0 is overloaded`),
      unavailable: (problem) => unreachable(problem),
    },
    (id) => io.probe(id, guess),
    (answer, id): Verdict<Found> => {
      if (answer.type === "ok") {
        const topology = (answer.result as { topology: ClusterTopology | null }).topology;
        return { type: "done", value: { type: "found", topology } };
      }
      if (answer.type === "unserved" && answer.absent === true && id === anchor)
        return { type: "done", value: { type: "fresh" } };
      const leaderHint = answer.type === "unavailable" ? answer.leaderHint : undefined;
      const problem = "reason" in answer ? answer.reason : `${id} answered ${answer.type}`;
      return { type: "retry", problem, ...(leaderHint === undefined ? {} : { leaderHint }) };
    },
  );
  if (found.type === "found" && found.topology !== null) return found.topology;
  const existing = found.type === "fresh" ? new Map() : await existingShards(io);
  const seed = seedFrom(io, existing);
  return io.seed(groupFromDirectory(seed, 0), seed);
}

/** The members of every shard whose first replica exists, from its Raft configuration. */
async function existingShards(io: DirectoryIo): Promise<Map<number, MemberSpec[]>> {
  const found = new Map<number, MemberSpec[]>();
  await Promise.all(
    io.vars.shards.map(async (s) => {
      const id = `${io.prefix}${replicaName(s.replicas[0]!.replicaId, 1)}`;
      const report = await io.status(id, { shard: s.index, members: [{ id, location: "" }] });
      if (report === null) return;
      if (report.shard !== s.index) throw unreachable(`${id} serves shard ${report.shard}`);
      found.set(s.index, report.members);
    }),
  );
  return found;
}

function seedFrom(io: DirectoryIo, existing: Map<number, MemberSpec[]>): ClusterTopology {
  const seed = seedTopology(io.vars, io.prefix, existing.get(0) ?? null);
  const shard0 = existing.get(0);
  if (shard0 !== undefined) {
    // The shape the store already has is what it was seeded with, whatever [vars] say now.
    seed.seed.replicasPerShard = shard0.length;
    const locations = shard0.map((m) => m.location);
    seed.seed.locations = locations.every((l) => l !== "") ? locations : [];
  }
  for (const shard of seed.shards) {
    const members = existing.get(shard.index);
    if (members === undefined || shard.index === 0) continue;
    shard.members = members.map((m) => ({ id: m.id, location: m.location, voter: true }));
    shard.nextReplica = Math.max(shard.nextReplica, members.length);
  }
  return seed;
}

function unreachable(problem: string): ShardUnavailableError {
  return new ShardUnavailableError(
    `the cluster directory (kept by shard 0) cannot be read right now: ${problem}`,
    1_000,
  );
}
