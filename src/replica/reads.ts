// Reads and long polls on one member. Linearizable reads pass a ReadIndex barrier first (on any
// member, followers included); stale reads answer from the applied state at once; a minimum
// revision (read-your-writes) waits briefly for the applied state to get there.
import type { NodeId } from "../raft/types.ts";
import type { Query, QueryResult } from "../router/types.ts";
import type { Revision } from "../store/types.ts";
import type { Member } from "./member.ts";
// The same answers and change checks as the single-object backend: one meaning for every query.
import { answer, changedSince } from "../router/answer.ts";

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
  /** Even the linearizable state is older than `minRevision`: the token is not from this shard's past. */
  | { type: "futureRevision"; revision: Revision };

/** `onLease`: the caller found this member may serve linearizable reads on its lease (Member.leaseRead). */
export async function readOnMember(
  member: Member,
  query: Query,
  request: ReadRequest,
  onLease: boolean,
): Promise<ReadAnswer> {
  if (request.consistency === "linearizable" && !onLease) {
    const index = await member.readBarrier();
    if (index === null) {
      const leader = member.basicStatus().leader;
      return {
        type: "unavailable",
        reason: `no leader confirmed a read on ${member.id} in time`,
        leaderHint: leader === "" ? null : leader,
      };
    }
  }
  const min = request.minRevision;
  if (min !== undefined) {
    const reached = await member.waiters.until(
      () => member.applied.store.revision >= min,
      request.minRevisionWaitMs ?? 0,
    );
    if (!reached) {
      const revision = member.applied.store.revision;
      return request.consistency === "linearizable"
        ? { type: "futureRevision", revision }
        : { type: "behind", appliedRevision: revision };
    }
  }
  return answerNow(member, query);
}

/** The answer from this member's applied state, as it is now. */
export function answerNow(member: Member, query: Query): ReadAnswer {
  const store = member.applied.store;
  return { type: "ok", result: answer(store, query), appliedRevision: store.revision };
}

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

export async function waitOnMember(
  member: Member,
  request: WaitRequestOnReplica,
): Promise<WaitAnswer> {
  // A barrier first, so a change acknowledged before the wait began ends it at once. Without a
  // leader the wait still watches what this member applies.
  await member.readBarrier();
  const changed = await member.waiters.until(
    () => changedSince(member.applied.store, request.namespace, request.key, request.afterRevision),
    request.timeoutMs,
  );
  return { type: "waited", changed, revision: member.applied.store.revision };
}
