// The ReplicaDO's RPC contract with the router: every method the router calls, the address it
// sends, and every answer it can get back. ReplicaDO `implements ReplicaRpc`, so the compiler
// checks the replica against this file, and the router calls a stub typed by `Remote<ReplicaRpc>`
// (rpcStubOf), so it checks the router against it too: neither side restates the other.
//
// Expected failures are answers, not thrown errors (see `Unserved`): an error thrown by an RPC
// method is reported as uncaught in the callee, which would bury real failures in noise.
//
// Versioning: the address carries `rpcVersion` (see group.ts encodeAddress). During a gradual
// deploy a Worker of one release may call a replica of the next or the last, exactly as replicas
// of two releases exchange peer messages (wire.ts); a replica refuses, as `Unserved` naming the
// older side, a call whose version it does not speak, instead of misreading its arguments.
import type { ConfChange, NodeId } from "../raft/index.ts";
import type { Query, QueryResult, Revision, WriteOutcome } from "../store/index.ts";
import type { GroupSpec } from "./group.ts";

/** The version of this contract the router speaks; bump it when a method or shape changes. */
export const rpcVersion = 2; // 2: keepAlive
/** The oldest version a replica still serves (old routers during a deploy). */
export const rpcVersionMin = 1;

/**
 * Who a router call is for: a replica's name and its group. On the wire it is one string (see
 * `encodeAddress`): the router sends the same text on every call, and a replica that accepted
 * it before compares one string instead of copying and checking a nested object (~4 µs less CPU
 * per call, measured on a local DO RPC).
 */
export interface ReplicaAddress {
  self: NodeId;
  /** The shard and the members the caller knows: used to create the replica on first contact. */
  group: GroupSpec;
  /**
   * False: the caller only guesses the group (a directory probe), so a replica that does not
   * exist yet must not be created from it; it answers `Unserved` with `absent: true`.
   */
  create?: false;
  /**
   * True: create it to join the running group `group` (a replica being added): it starts empty,
   * with no bootstrap, and the leader's snapshot brings the state once it is added as a learner.
   */
  join?: true;
}

/** The address as sent: stable for a given address (the router computes it once per replica). */
export function encodeAddress(address: ReplicaAddress): string {
  return JSON.stringify({
    v: rpcVersion,
    self: address.self,
    group: {
      shard: address.group.shard,
      members: address.group.members.map((m) => ({ id: m.id, location: m.location })),
    },
    ...(address.create === false ? { create: false } : {}),
    ...(address.join === true ? { join: true } : {}),
  });
}

/** An address from the wire (a string, or the object form tests send); a string says why not. */
export function decodeAddress(wire: unknown): ReplicaAddress | string {
  let value = wire;
  if (typeof wire === "string") {
    try {
      value = JSON.parse(wire);
    } catch {
      return (
        `the replica address ${JSON.stringify(wire.slice(0, 80))} is not JSON: ` +
        "the router and the replica run different releases?"
      );
    }
  }
  const a = value as {
    v?: unknown;
    self?: unknown;
    group?: { shard?: unknown; members?: unknown };
  } | null;
  const versionError = rpcVersionError(a?.v ?? rpcVersionMin);
  if (versionError !== null) return versionError;
  const members = a?.group?.members;
  const wellFormed =
    typeof a?.self === "string" &&
    typeof a.group?.shard === "number" &&
    Array.isArray(members) &&
    members.every(
      (m: { id?: unknown; location?: unknown } | null) =>
        typeof m?.id === "string" && typeof m.location === "string",
    );
  if (!wellFormed)
    return (
      "the replica address is malformed: " +
      "expected {self, group: {shard, members: [{id, location}]}}"
    );
  return value as ReplicaAddress;
}

/** Why a call of contract version `v` cannot be served here (which side is older), or null. */
export function rpcVersionError(v: unknown): string | null {
  if (typeof v === "number" && v >= rpcVersionMin && v <= rpcVersion) return null;
  const side =
    typeof v === "number" && v > rpcVersion ? "this replica is older" : "the router is older";
  return (
    `router call of contract v${String(v)} is not served here (this replica speaks ` +
    `v${rpcVersionMin}..v${rpcVersion}); ${side}: finish the deploy so both run the same release`
  );
}

/** Which replica a router call means: `encodeAddress` of a ReplicaAddress (or the object form). */
export type AddressOnWire = string | ReplicaAddress;

/**
 * A router call this replica cannot serve: it is stopped (fault injection), was addressed under
 * another identity, or speaks another contract version. The router tries another replica.
 */
export interface Unserved {
  type: "unserved";
  reason: string;
  /** The replica does not exist, and the call was one that may not create it. */
  absent?: true;
  /** The replica was removed from its shard; `members` are the shard's members it last knew. */
  removed?: true;
  members?: NodeId[];
}

export type ProposeAnswer =
  | { type: "applied"; outcome: WriteOutcome }
  /**
   * The entry may or may not commit later (leadership moved while it was in flight, or the wait
   * timed out): the caller retries with the same idempotency key, which the store deduplicates.
   */
  | { type: "unknown"; reason: string }
  | { type: "notLeader"; leaderHint: NodeId | null }
  /** The leader refused (backpressure, a transfer in progress): retry after a short wait. */
  | { type: "refused"; reason: string; message: string };

/** How a proposed membership change went on the member asked. */
export type MembershipAnswer =
  | { type: "proposed" }
  | { type: "notLeader"; leaderHint: NodeId | null }
  /** The leader refused (another change not yet committed, a transfer, nonsense): say why. */
  | { type: "refused"; reason: string; message: string };

export interface ReadRequest {
  consistency: "linearizable" | "stale";
  /** Answer only from a state at or past this revision (read-your-writes). */
  minRevision?: Revision;
  /** How long to wait for `minRevision` to be applied here. */
  minRevisionWaitMs?: number;
}

export type ReadAnswer =
  | { type: "ok"; result: QueryResult<Query>; appliedRevision: Revision }
  /** No leader confirmed the read in time (an election, a partition): retry elsewhere. */
  | { type: "unavailable"; reason: string; leaderHint: NodeId | null }
  /** A stale read whose replica had not reached `minRevision` in time: ask the leader. */
  | { type: "behind"; appliedRevision: Revision }
  /** Even the linearizable state is older than `minRevision`: not a token of this shard's past. */
  | { type: "futureRevision"; revision: Revision }
  /** The query's namespace was resharded away (its move flipped): ask `shard`. */
  | { type: "moved"; namespace: string; shard: number; epoch: number };

export interface WaitRequestOnReplica {
  namespace: string;
  /** One key; omitted: any key of the namespace. */
  key?: string;
  afterRevision: Revision;
  timeoutMs: number;
}

export interface WaitAnswer {
  type: "waited";
  changed: boolean;
  /** The applied revision when the wait ended. */
  revision: Revision;
}

export interface ReplicaStatusReport {
  id: NodeId;
  shard: number;
  location: string;
  role: "leader" | "follower" | "candidate" | "learner";
  term: number;
  commitIndex: number;
  appliedIndex: number;
  /** Last contact with the leader, ms since epoch; null: never. */
  lastContactMs: number | null;
  leader: NodeId | null;
  lastIndex: number;
  revision: Revision;
  quiesced: boolean;
  /** The members of its Raft configuration (voters, then learners), with their locations. */
  members: { id: NodeId; location: string }[];
  /** Its Raft configuration's learners (not counted in quorums). */
  learners: NodeId[];
  /** The members as of its applied (so committed) configuration. */
  appliedMembers: NodeId[];
  /** The leader only: each member's match index (how far its log is known to agree). */
  matchIndex?: Record<NodeId, number>;
  /** The leader only: members being sent a snapshot, and how far it got (bytes). */
  snapshots?: Record<NodeId, { done: number; total: number }>;
  /** Applied its own removal: serves nothing. */
  removed: boolean;
}

/** What the router may call on a ReplicaDO. A method may answer synchronously in the replica. */
export interface ReplicaRpc {
  /** Makes sure the replica knows its group (creating it on first contact) and is awake. */
  ensure(to: AddressOnWire): ReplicaStatusReport | Unserved;
  /** Leader: propose, wait until applied, return the outcome. Follower: `notLeader` at once. */
  propose(to: AddressOnWire, command: Uint8Array): Promise<ProposeAnswer | Unserved>;
  /** Leader: renews a lease (in memory on its read lease, else a leaseKeepAlive entry). */
  keepAlive(to: AddressOnWire, id: string, atMs: number): Promise<ProposeAnswer | Unserved>;
  /** A query, linearizable (ReadIndex or lease, any member) or stale (the applied state). */
  read(to: AddressOnWire, query: Query, request: ReadRequest): Promise<ReadAnswer | Unserved>;
  /** Long poll: resolves once the key or namespace changes after `afterRevision`, or at timeout. */
  waitForChange(to: AddressOnWire, request: WaitRequestOnReplica): Promise<WaitAnswer | Unserved>;
  /** Leader: proposes one membership change; the caller watches `status` for it to apply. */
  changeMembership(to: AddressOnWire, change: ConfChange): Promise<MembershipAnswer | Unserved>;
  /** Leader: hands leadership to `target`; the caller watches `status` for the new leader. */
  transfer(to: AddressOnWire, target: NodeId): MembershipAnswer | Unserved;
  /** After its removal committed: it stops serving and ticking (a follower never hears it). */
  retire(to: AddressOnWire): ReplicaStatusReport | Unserved;
  /** For /v1/cluster. Does not create the replica: an unknown replica answers null. */
  status(): ReplicaStatusReport | null;
}

/** How a contract looks through a DO stub: every call is a promise of the method's answer. */
export type Remote<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
};

/**
 * The router's view of a replica's stub. The stub's own type wraps results in RPC types
 * TypeScript cannot narrow; `T extends ReplicaRpc` makes the compiler check that the class
 * behind the namespace implements this contract, so the cast restates nothing.
 */
export function rpcStubOf<T extends Rpc.DurableObjectBranded & ReplicaRpc>(
  stub: DurableObjectStub<T>,
): Remote<ReplicaRpc> {
  return stub as unknown as Remote<ReplicaRpc>;
}
