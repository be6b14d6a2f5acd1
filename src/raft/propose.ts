// Proposals from the local application: accepted by the leader, forwarded by a follower,
// refused (with a reason the caller can act on) otherwise.
import { confChangeError, decodeConfChange, encodeConfChange } from "./confchange.ts";
import type { Raft } from "./raft.ts";
import { wake } from "./quiesce.ts";
import type { ConfChange, Entry, EntryType } from "./types.ts";

export type ProposeRefusal =
  | "noLeader" // no known leader: retry after an election (or on another replica)
  | "transferring" // leadership is being handed over: retry on the new leader
  | "tooLarge" // the command exceeds messageBytesMax: it can never be replicated
  | "backpressure" // uncommittedBytesMax reached: retry once the log commits
  | "confChangePending" // a membership change is not yet committed: one at a time
  | "leaderNotReady" // no entry of the leader's term is committed yet (Ongaro 2015 fix)
  | "invalidConfChange"; // e.g. adding an existing member or removing the last voter

export type ProposeResult = { ok: true } | { ok: false; reason: ProposeRefusal; message: string };

const accepted: ProposeResult = { ok: true };

function refuse(reason: ProposeRefusal, message: string): ProposeResult {
  return { ok: false, reason, message };
}

/**
 * Leader-side rules for a membership change. One at a time (§4.1); and not before the leader
 * committed an entry of its term: otherwise a change in an old term, uncommitted and unknown to
 * it, could combine with a new one into two disjoint majorities (Ongaro, raft-dev, 2015).
 */
export function confChangeRefusal(r: Raft, cc: ConfChange): ProposeResult | undefined {
  if (r.pendingConfIndex > r.log.committed) {
    return refuse(
      "confChangePending",
      `the membership change at index ${r.pendingConfIndex} is not yet committed; retry after it commits`,
    );
  }
  if (r.log.term(r.log.committed) !== r.term) {
    return refuse(
      "leaderNotReady",
      "the new leader has not yet committed an entry of its term; retry shortly",
    );
  }
  const error = confChangeError(r.trk.conf, cc);
  return error === undefined ? undefined : refuse("invalidConfChange", error);
}

export function propose(r: Raft, type: EntryType, data: Uint8Array): ProposeResult {
  wake(r);
  if (data.byteLength > r.cfg.messageBytesMax) {
    return refuse(
      "tooLarge",
      `the command has ${data.byteLength} bytes; messageBytesMax is ${r.cfg.messageBytesMax}`,
    );
  }
  if (r.role === "leader") return proposeAsLeader(r, type, data);
  if (r.role === "follower" && r.lead !== "") {
    r.send({ type: "prop", to: r.lead, entries: [{ term: 0, index: 0, type, data }] });
    return accepted;
  }
  return refuse("noLeader", "no leader is known (an election may be running); retry shortly");
}

function proposeAsLeader(r: Raft, type: EntryType, data: Uint8Array): ProposeResult {
  if (r.leadTransferee !== "") {
    return refuse("transferring", `leadership is moving to ${r.leadTransferee}; retry there`);
  }
  if (type === "conf") {
    const refusal = confChangeRefusal(r, decodeConfChange(data));
    if (refusal !== undefined) return refusal;
  }
  if (!appendProposals(r, [{ type, data }])) {
    return refuse(
      "backpressure",
      `more than uncommittedBytesMax (${r.cfg.uncommittedBytesMax}) bytes are uncommitted; retry later`,
    );
  }
  return accepted;
}

export function proposeConfChange(r: Raft, cc: ConfChange): ProposeResult {
  return propose(r, "conf", encodeConfChange(cc));
}

/** Leader: appends proposals, recording a conf entry as pending *before* it can commit. */
export function appendProposals(
  r: Raft,
  proposals: readonly Pick<Entry, "type" | "data">[],
): boolean {
  const previous = r.pendingConfIndex;
  const confAt = proposals.findIndex((p) => p.type === "conf");
  if (confAt >= 0) r.pendingConfIndex = r.log.lastIndex() + 1 + confAt;
  if (r.appendEntries(proposals)) return true;
  r.pendingConfIndex = previous;
  return false;
}
