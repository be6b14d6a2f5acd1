// Fault injection for local development and tests (issue 17), in the cluster's own terms: cut a
// replica off (both ways or one), isolate a shard's leader, slow a location down, stop or restart
// a replica, clear everything. It drives the ReplicaDO switch (src/replica/faults.ts) through the
// stubs the router holds. The API offers it only when the Worker has the EDGECFG_DEV binding,
// which only the local server (scripts/local-server.ts) creates: see src/api/routes/dev-faults.ts.
import type { NodeId } from "../raft/index.ts";
import { replicaStub, stubOptionsFor, type GroupSpec, type ReplicaEnv } from "../replica/index.ts";
import type { ClusterTopology } from "../store/index.ts";
import { groupFromDirectory } from "./directory.ts";
import {
  FaultError,
  type FaultAction,
  type FaultWindow,
  type ReplicaFaults,
} from "./fault-types.ts";

const none = {
  dropInbound: false,
  dropOutbound: false,
  dropClients: false,
  stopped: false,
  delayMsByPeer: {},
  failWrites: false,
  clockSkewMs: 0,
};

/** The faults each action sets, by replica id. */
export async function applyFault(
  env: ReplicaEnv,
  topology: ClusterTopology,
  fault: FaultAction,
  window?: FaultWindow,
): Promise<ReplicaFaults[]> {
  const members = allMembers(topology);
  const stub = (id: NodeId) => replicaStub(env.REPLICA, id, stubOptionsFor(""));
  const member = (id: string) => {
    const m = members.find((x) => x.id === id);
    if (m === undefined)
      throw new FaultError(`there is no replica ${id} (GET /v1/cluster lists them)`);
    return m;
  };
  switch (fault.action) {
    case "cut":
      return [await set(member(fault.replica), { dropInbound: true, dropOutbound: true })];
    case "cutInbound":
      return [await set(member(fault.replica), { dropInbound: true })];
    case "cutOutbound":
      return [await set(member(fault.replica), { dropOutbound: true })];
    case "stop":
      return [await set(member(fault.replica), { stopped: true })];
    case "restart":
      await stub(member(fault.replica).id)
        .evict()
        .catch(() => undefined);
      return [];
    case "failWrites":
      return [await set(member(fault.replica), { failWrites: true })];
    case "skewClock":
      return [await set(member(fault.replica), { clockSkewMs: fault.ms })];
    case "isolateLeader": {
      const leader = await leaderOf(env, topology, fault.shard);
      return [
        await set(member(leader), { dropInbound: true, dropOutbound: true, dropClients: true }),
      ];
    }
    case "cutLocation": {
      const inside = members.filter((m) => m.location === fault.location);
      if (inside.length === 0)
        throw new FaultError(`no replica is in location "${fault.location}"`);
      const off = { dropInbound: true, dropOutbound: true, dropClients: true };
      return Promise.all(inside.map((m) => set(m, off)));
    }
    case "latency":
      return Promise.all(members.map((m) => set(m, { delayMsByPeer: delays(members, m, fault) })));
    case "clear":
      return Promise.all(members.map((m) => set(m, none)));
  }

  async function set(m: Member, faults: Record<string, unknown>): Promise<ReplicaFaults> {
    const now = await stub(m.id).setFaults(faults, fault.action === "clear" ? undefined : window);
    return { replica: m.id, shard: m.shard, location: m.location, faults: plain(now) };
  }
}

/** Every replica's faults now (reading them sets nothing). */
export async function listFaults(env: ReplicaEnv, topology: ClusterTopology) {
  return Promise.all(
    allMembers(topology).map(async (m) => ({
      replica: m.id,
      shard: m.shard,
      location: m.location,
      faults: plain(await replicaStub(env.REPLICA, m.id, stubOptionsFor("")).setFaults({})),
    })),
  );
}

/** The faults as plain data (an RPC result also carries a disposer). */
function plain(faults: object): Record<string, unknown> {
  const f = faults as Record<string, unknown>;
  return {
    dropInbound: f.dropInbound,
    dropOutbound: f.dropOutbound,
    dropClients: f.dropClients,
    stopped: f.stopped,
    delayMsByPeer: f.delayMsByPeer,
    failWrites: f.failWrites,
    clockSkewMs: f.clockSkewMs,
  };
}

interface Member {
  id: NodeId;
  shard: number;
  location: string;
}

function allMembers(topology: ClusterTopology): Member[] {
  return topology.shards.flatMap((s) =>
    s.members.map((m) => ({ id: m.id, shard: s.index, location: m.location })),
  );
}

/** `m`'s delays to its shard's peers: `ms` to and from replicas in the slowed location. */
function delays(members: Member[], m: Member, fault: { location: string; ms: number }) {
  const peers = members.filter((p) => p.shard === m.shard && p.id !== m.id);
  const slowed = (p: Member) => p.location === fault.location || m.location === fault.location;
  return Object.fromEntries(peers.filter(slowed).map((p) => [p.id, fault.ms]));
}

async function leaderOf(
  env: ReplicaEnv,
  topology: ClusterTopology,
  shard: number,
): Promise<NodeId> {
  let group: GroupSpec;
  try {
    group = groupFromDirectory(topology, shard);
  } catch {
    throw new FaultError(`there is no shard ${shard}`);
  }
  const reports = await Promise.all(
    group.members.map((m) =>
      replicaStub(env.REPLICA, m.id, stubOptionsFor(""))
        .status()
        .catch(() => null),
    ),
  );
  const leader = reports.find((r) => r?.role === "leader" && !r.removed);
  if (!leader) throw new FaultError(`shard ${shard} has no leader right now (write to it first)`);
  return leader.id;
}
