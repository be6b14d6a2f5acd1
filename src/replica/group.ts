// Who a replica is and who its peers are. A replica learns this from the first RPC that reaches
// it (from the router, or from a peer's envelope) and keeps it in SQLite, so it survives eviction.
//
// Replica ids are Durable Object names, `${replica}/g${generation}` (e.g. "s0-r1/g1"), never
// reused: the cluster directory (src/store/cluster.ts) names every member, and a replacement is a
// new id that joins by a membership change, so no stale vote or log can ever be attributed to the
// wrong member.
import type { NodeId } from "../raft/index.ts";

export interface MemberSpec {
  /** The member's Durable Object name, also its Raft id. */
  id: NodeId;
  /** Durable Object location hint (e.g. "weur"), "" when none. */
  location: string;
}

export interface GroupSpec {
  shard: number;
  /** The initial voters; the Raft log is authoritative after bootstrap. */
  members: MemberSpec[];
}

/** The Durable Object name (and Raft id) of incarnation `generation` of a replica. */
export function replicaName(replicaId: string, generation: number): NodeId {
  return `${replicaId}/g${generation}`;
}

/** Why `group` is malformed, or null. */
export function groupError(group: GroupSpec, self: NodeId): string | null {
  if (!Number.isSafeInteger(group.shard) || group.shard < 0)
    return `shard ${group.shard} is not a shard number`;
  if (group.members.length === 0) return "a group needs at least one member";
  const ids = new Set(group.members.map((m) => m.id));
  if (ids.size !== group.members.length) return "member ids repeat";
  if (!ids.has(self)) return `${self} is not among the members ${[...ids].join(", ")}`;
  return null;
}

/** True when `a` and `b` name the same group (locations may move; ids may not). */
export function sameGroup(a: GroupSpec, b: GroupSpec): boolean {
  if (a.shard !== b.shard || a.members.length !== b.members.length) return false;
  // Asked on every router call: a loop over a handful of members, no allocation.
  return b.members.every((m) => a.members.some((x) => x.id === m.id));
}

const metaSchema = "CREATE TABLE IF NOT EXISTS replica_meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)";

export interface StoredIdentity {
  self: NodeId;
  /** The group as first addressed: its initial members (a joiner: the members it joins). */
  group: GroupSpec;
  /** Created to join a running group: no bootstrap; the leader's snapshot brings the state. */
  join?: true;
  /** Applied its own removal: it serves nothing and arms no alarm again. */
  removed?: true;
}

export function loadIdentity(sql: SqlStorage): StoredIdentity | null {
  // Looked up before any CREATE: a status probe must not give a never-used object a database.
  const exists =
    sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'replica_meta'").toArray()
      .length > 0;
  if (!exists) return null;
  const row = sql
    .exec<{ v: string }>("SELECT v FROM replica_meta WHERE k = 'identity'")
    .toArray()[0];
  return row ? (JSON.parse(row.v) as StoredIdentity) : null;
}

export function saveIdentity(sql: SqlStorage, identity: StoredIdentity): void {
  sql.exec(metaSchema);
  sql.exec(
    "INSERT OR REPLACE INTO replica_meta (k, v) VALUES ('identity', ?)",
    JSON.stringify(identity),
  );
}
