// One-server-at-a-time membership changes: wire encoding of a ConfChange (the data of a "conf"
// entry) and its effect on a ConfState.
import type { ConfChange, ConfChangeType, ConfState, NodeId } from "./types.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const confChangeTypes: readonly ConfChangeType[] = [
  "addVoter",
  "removeVoter",
  "addLearner",
  "promoteLearner",
  "removeLearner",
];

export function encodeConfChange(cc: ConfChange): Uint8Array {
  return encoder.encode(JSON.stringify({ type: cc.type, nodeId: cc.nodeId }));
}

/** Throws on bytes that are not an encoded ConfChange: a conf entry is written only by the core. */
export function decodeConfChange(data: Uint8Array): ConfChange {
  const value: unknown = JSON.parse(decoder.decode(data));
  if (typeof value !== "object" || value === null) throw new Error("conf change: not an object");
  const { type, nodeId } = value as Record<string, unknown>;
  if (
    !confChangeTypes.includes(type as ConfChangeType) ||
    typeof nodeId !== "string" ||
    nodeId === ""
  ) {
    throw new Error(`conf change: invalid ${JSON.stringify(value)}`);
  }
  return { type: type as ConfChangeType, nodeId };
}

export function copyConf(conf: ConfState): ConfState {
  return { voters: [...conf.voters], learners: [...conf.learners] };
}

export function isMember(conf: ConfState, id: NodeId): boolean {
  return conf.voters.includes(id) || conf.learners.includes(id);
}

/** Why `cc` cannot apply to `conf`, or undefined when it can. */
export function confChangeError(conf: ConfState, cc: ConfChange): string | undefined {
  const voter = conf.voters.includes(cc.nodeId);
  const learner = conf.learners.includes(cc.nodeId);
  switch (cc.type) {
    case "addVoter":
      return voter || learner
        ? `${cc.nodeId} is already a member (use promoteLearner for a learner)`
        : undefined;
    case "addLearner":
      return voter || learner ? `${cc.nodeId} is already a member` : undefined;
    case "promoteLearner":
      return learner ? undefined : `${cc.nodeId} is not a learner`;
    case "removeVoter":
      if (!voter) return `${cc.nodeId} is not a voter`;
      return conf.voters.length === 1 ? "cannot remove the last voter" : undefined;
    case "removeLearner":
      return learner ? undefined : `${cc.nodeId} is not a learner`;
  }
}

/**
 * The membership after `cc`. An invalid change (possible only for a forwarded proposal that
 * raced with another change) leaves the membership unchanged, identically on every member.
 */
export function applyConfChange(conf: ConfState, cc: ConfChange): ConfState {
  if (confChangeError(conf, cc) !== undefined) return copyConf(conf);
  const voters = conf.voters.filter((id) => id !== cc.nodeId);
  const learners = conf.learners.filter((id) => id !== cc.nodeId);
  if (cc.type === "addVoter" || cc.type === "promoteLearner") voters.push(cc.nodeId);
  if (cc.type === "addLearner") learners.push(cc.nodeId);
  return { voters, learners };
}
