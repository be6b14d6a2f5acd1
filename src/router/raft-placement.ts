// Where a shard's replicas are and which one to ask first: the topology (src/ring) turned into
// Raft groups, leader hints remembered per isolate, and replicas ordered by nearness to the caller.
import { replicaName, type GroupSpec } from "../replica/index.ts";
import type { NodeId } from "../raft/index.ts";
import type { ShardSpec } from "../ring/index.ts";

/**
 * Leader hints and applied revisions, kept per isolate (module scope) so the next request skips
 * the redirect. Plain strings and numbers only: stubs are bound to the request that made them.
 */
const leaderHints = new Map<number, NodeId>();
const appliedRevisions = new Map<NodeId, number>();

export const placementCache = {
  leader: (shard: number): NodeId | undefined => leaderHints.get(shard),
  setLeader(shard: number, id: NodeId | null): void {
    if (id === null) leaderHints.delete(shard);
    else leaderHints.set(shard, id);
  },
  noteApplied(id: NodeId, revision: number): void {
    appliedRevisions.set(id, Math.max(revision, appliedRevisions.get(id) ?? 0));
  },
  applied: (id: NodeId): number => appliedRevisions.get(id) ?? 0,
};

/** The Raft group of a shard: replica r of generation g is the Durable Object "s{n}-r{r}/g{g}". */
export function groupOf(shard: ShardSpec, generation: number): GroupSpec {
  return {
    shard: shard.index,
    members: shard.replicas.map((r) => ({
      id: replicaName(r.replicaId, generation),
      location: r.location ?? "",
    })),
  };
}

/** Where the caller is, from `request.cf` (colo and continent), when the router knows it. */
export interface CallerLocation {
  continent?: string;
  colo?: string;
}

/** The caller's location from an incoming request's `cf` properties (absent in local runs). */
export function callerLocationOf(request: Request | undefined): CallerLocation | null {
  const cf = request?.cf as { continent?: unknown; colo?: unknown } | undefined;
  if (cf === undefined) return null;
  const location: CallerLocation = {};
  if (typeof cf.continent === "string") location.continent = cf.continent;
  if (typeof cf.colo === "string") location.colo = cf.colo;
  return location;
}

/** Location hints from nearest to farthest, per continent of the caller (cf.continent). */
const hintsByContinent: Record<string, string[]> = {
  NA: ["enam", "wnam", "sam", "weur"],
  SA: ["sam", "enam", "wnam", "weur"],
  EU: ["weur", "eeur", "me", "enam"],
  AF: ["afr", "weur", "me", "eeur"],
  AS: ["apac", "me", "oc", "eeur"],
  OC: ["oc", "apac", "wnam"],
  AN: ["oc", "sam"],
};

function distance(location: string, caller: CallerLocation | null): number {
  const order = caller?.continent === undefined ? undefined : hintsByContinent[caller.continent];
  const at = order?.indexOf(location) ?? -1;
  return at < 0 ? Number.MAX_SAFE_INTEGER : at;
}

/**
 * Members for a stale read: nearest first (by location hint), then least lagging (highest applied
 * revision seen), then the fixed topology order, so the choice is stable without a location.
 */
export function nearestFirst(group: GroupSpec, caller: CallerLocation | null): NodeId[] {
  return group.members
    .map((m, i) => ({
      id: m.id,
      d: distance(m.location, caller),
      applied: placementCache.applied(m.id),
      i,
    }))
    .sort((a, b) => a.d - b.d || b.applied - a.applied || a.i - b.i)
    .map((m) => m.id);
}

/** The hinted leader of the group's shard, if it is a member of this group. */
export function leaderHintOf(group: GroupSpec): NodeId | undefined {
  const hint = placementCache.leader(group.shard);
  return hint !== undefined && group.members.some((m) => m.id === hint) ? hint : undefined;
}

/** Members for a write or linearizable read: the hinted leader first, then the rest nearest first. */
export function leaderFirst(group: GroupSpec, caller: CallerLocation | null): NodeId[] {
  const hint = leaderHintOf(group);
  const rest = nearestFirst(group, caller);
  return hint !== undefined ? [hint, ...rest.filter((id) => id !== hint)] : rest;
}
