// Majority arithmetic over a voter set. Knows nothing of progress or messages (etcd's quorum pkg).
import type { NodeId } from "./types.ts";

export function majority(votersCount: number): number {
  return Math.floor(votersCount / 2) + 1;
}

/**
 * The highest index acknowledged by a majority of `voters`, given each voter's match index.
 * An empty voter set commits nothing: such a group has no leader.
 */
export function committedIndex(voters: readonly NodeId[], matchOf: (id: NodeId) => number): number {
  if (voters.length === 0) return 0;
  const matches = voters.map(matchOf).sort((a, b) => b - a);
  return matches[majority(voters.length) - 1] ?? 0;
}

export type VoteResult = "won" | "lost" | "pending";

/** Only votes of members of `voters` count (learners and strangers are ignored). */
export function voteResult(
  voters: readonly NodeId[],
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  if (voters.length === 0) return "won";
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === true) granted++;
    else if (v === false) rejected++;
  }
  const needed = majority(voters.length);
  if (granted >= needed) return "won";
  if (voters.length - rejected < needed) return "lost";
  return "pending";
}

/** True when the members for which `active` holds form a majority of `voters`. */
export function hasQuorum(voters: readonly NodeId[], active: (id: NodeId) => boolean): boolean {
  return voters.filter(active).length >= majority(voters.length);
}
