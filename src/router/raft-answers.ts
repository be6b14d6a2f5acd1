// What the router makes of each replica answer (rpc.ts): a classifier per call for the one retry
// loop (raft-retry.ts), and the errors a Raft-backed request ends with.
import type { NodeId } from "../raft/index.ts";
import type {
  ProposeAnswer,
  ReadAnswer,
  Unserved,
  WaitAnswer,
  GroupSpec,
} from "../replica/index.ts";
import type { Revision, WriteOutcome } from "../store/index.ts";
import { raftRouterLimits, type Verdict } from "./raft-retry.ts";
import { NamespaceMovedError } from "./namespace-routes.ts";
import { BadTokenError, ShardUnavailableError } from "./types.ts";

export type ReadOk = Extract<ReadAnswer, { type: "ok" }>;

export function proposeVerdict(
  answer: ProposeAnswer | Unserved,
  target: NodeId,
  shard: number,
): Verdict<WriteOutcome> {
  switch (answer.type) {
    case "applied":
      return { type: "done", value: answer.outcome };
    case "notLeader":
      return {
        type: "retry",
        problem: `${target} is not the leader`,
        leaderHint: answer.leaderHint,
        forgetLeader: true,
      };
    case "refused":
      if (answer.reason === "backpressure") {
        throw new ShardUnavailableError(
          `shard ${shard} is overloaded: ${answer.message}`,
          raftRouterLimits.retryAfterMs,
        );
      }
      if (answer.reason === "tooLarge") return { type: "done", value: tooLarge(answer.message) };
      return { type: "retry", problem: `${target} refused (${answer.reason}): ${answer.message}` };
    case "unknown":
      // Leadership moved while the entry was in flight: retry; the idempotency key dedupes.
      return { type: "retry", problem: `${target}: ${answer.reason}` };
    case "unserved":
      return { type: "retry", problem: answer.reason, forgetLeader: true };
  }
}

export function linearizableReadVerdict(
  answer: ReadAnswer | Unserved,
  target: NodeId,
  shard: number,
  minRevision: Revision | undefined,
): Verdict<ReadOk> {
  switch (answer.type) {
    case "ok":
      return { type: "done", value: answer };
    case "futureRevision":
      throw futureToken(shard, minRevision, answer.revision);
    case "unavailable":
      return { type: "retry", problem: answer.reason, leaderHint: answer.leaderHint };
    case "unserved":
      return { type: "retry", problem: answer.reason, forgetLeader: true };
    case "behind":
      return { type: "retry", problem: `${target} is behind` };
    case "moved":
      throw new NamespaceMovedError(answer.namespace, answer.shard);
  }
}

export function waitVerdict(answer: WaitAnswer | Unserved): Verdict<WaitAnswer> {
  return answer.type === "waited"
    ? { type: "done", value: answer }
    : { type: "retry", problem: answer.reason };
}

function futureToken(
  shard: number,
  minRevision: Revision | undefined,
  revision: Revision,
): BadTokenError {
  return new BadTokenError(
    `consistency token s${shard}.${minRevision} is ahead of shard ${shard} ` +
      `(at revision ${revision}): it was not issued by this deployment; ` +
      "drop X-Edgecfg-Min-Revision or send a token this deployment returned",
  );
}

export function unavailable(group: GroupSpec, problem: string): ShardUnavailableError {
  return new ShardUnavailableError(
    `shard ${group.shard} has no reachable leader right now ` +
      `(an election may be running; last: ${problem})`,
    raftRouterLimits.retryAfterMs,
  );
}

export function overloaded(group: GroupSpec, target: NodeId): ShardUnavailableError {
  return new ShardUnavailableError(
    `replica ${target} of shard ${group.shard} is overloaded`,
    raftRouterLimits.retryAfterMs * 2,
  );
}

/** The core refuses entries larger than one message (the API should have refused the body). */
function tooLarge(message: string): WriteOutcome {
  return {
    type: "invalid",
    reason: "valueTooLarge",
    detail: `the write is too large to replicate: ${message}`,
    revision: 0,
  };
}
