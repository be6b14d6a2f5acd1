// Reads and long polls on one member. Linearizable reads pass a ReadIndex barrier first (on any
// member, followers included); stale reads answer from the applied state at once; a minimum
// revision (read-your-writes) waits briefly for the applied state to get there.
// Queries are answered by the store itself (src/store/query.ts), as in the single-object backend.
import type { LeaseResult, Query } from "../store/index.ts";
import type { Member } from "./member.ts";
import type { ReadAnswer, ReadRequest, WaitAnswer, WaitRequestOnReplica } from "./rpc.ts";

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
  const moved = store.movedAway(query);
  if (moved !== null) {
    const { namespace, shard, epoch } = moved;
    return { type: "moved", namespace, shard, epoch };
  }
  const result = store.answer(query);
  // A lease's expiry counts the leader's renewals, which are not in the log.
  if (query.type === "lease") {
    const seen = result as LeaseResult;
    const viewed: LeaseResult = { ...seen, lease: member.leaseView(seen.lease) };
    return { type: "ok", result: viewed, appliedRevision: store.revision };
  }
  return { type: "ok", result, appliedRevision: store.revision };
}

export async function waitOnMember(
  member: Member,
  request: WaitRequestOnReplica,
): Promise<WaitAnswer> {
  // A barrier first, so a change acknowledged before the wait began ends it at once. Without a
  // leader the wait still watches what this member applies.
  await member.readBarrier();
  // A namespace resharded away (its move flipped) ends the wait as a change: the caller reads
  // next, and that read is redirected to the shard that has it now.
  const changed = await member.waiters.until(() => {
    const store = member.applied.store;
    if (store.changedSince(request.namespace, request.key, request.afterRevision)) return true;
    return store.fenceOf(request.namespace)?.flipped === true;
  }, request.timeoutMs);
  return { type: "waited", changed, revision: member.applied.store.revision };
}
