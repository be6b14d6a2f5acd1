// The leader's and candidates' bookkeeping over the membership: one Progress per member, the
// votes of the current election, and quorum questions answered over the voters only.
import { copyConf } from "./confchange.ts";
import { Progress } from "./progress.ts";
import { committedIndex, hasQuorum, voteResult, type VoteResult } from "./quorum.ts";
import type { ConfState, NodeId } from "./types.ts";

export class ProgressTracker {
  conf: ConfState = { voters: [], learners: [] };
  readonly progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();
  /** The leader's clock, in ticks, for CheckQuorum's "heard from within an election timeout". */
  ticks = 0;

  constructor(
    private readonly inflightMessagesMax: number,
    private readonly learnerBytesPerTick = 0,
  ) {}

  /** The bytes a member may be sent per tick (pacing.ts): finite only for a paced learner. */
  budgetFor(isLearner: boolean): number {
    return isLearner && this.learnerBytesPerTick > 0
      ? this.learnerBytesPerTick
      : Number.POSITIVE_INFINITY;
  }

  isVoter(id: NodeId): boolean {
    return this.conf.voters.includes(id);
  }

  /** Adopts `conf`, keeping the progress of members that stay; new members start probing at `next`. */
  setConf(conf: ConfState, next: number): void {
    this.conf = copyConf(conf);
    const members = new Set([...conf.voters, ...conf.learners]);
    for (const id of [...this.progress.keys()]) if (!members.has(id)) this.progress.delete(id);
    for (const id of members) {
      const isLearner = conf.learners.includes(id);
      const pr = this.progress.get(id);
      if (pr !== undefined) {
        pr.isLearner = isLearner;
        // A promoted learner is paced no more; a demoted voter is from its next message on.
        pr.budgetBytes = isLearner ? Math.min(pr.budgetBytes, this.budgetFor(true)) : Infinity;
        continue;
      }
      const fresh = new Progress(next, this.inflightMessagesMax, isLearner);
      fresh.budgetBytes = this.budgetFor(isLearner);
      // A new member gets the benefit of the doubt for one election timeout.
      fresh.lastHeardTick = this.ticks;
      this.progress.set(id, fresh);
    }
  }

  /** Resets every progress for a new leader whose last index is `lastIndex`. */
  resetProgress(selfId: NodeId, lastIndex: number): void {
    for (const [id, pr] of this.progress) {
      const fresh = new Progress(lastIndex + 1, this.inflightMessagesMax, pr.isLearner);
      fresh.budgetBytes = this.budgetFor(pr.isLearner);
      if (id === selfId) fresh.match = lastIndex;
      fresh.lastHeardTick = this.ticks;
      this.progress.set(id, fresh);
    }
  }

  committed(): number {
    return committedIndex(this.conf.voters, (id) => this.progress.get(id)?.match ?? 0);
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  voteResult(): VoteResult {
    return voteResult(this.conf.voters, this.votes);
  }

  heardFrom(id: NodeId): void {
    const pr = this.progress.get(id);
    if (pr !== undefined) pr.lastHeardTick = this.ticks;
  }

  /** Restarts every member's CheckQuorum window (after the leader slept through quiescence). */
  heardFromAll(): void {
    for (const pr of this.progress.values()) pr.lastHeardTick = this.ticks;
  }

  recentlyActive(id: NodeId, selfId: NodeId, windowTicks: number): boolean {
    const pr = this.progress.get(id);
    return id === selfId || (pr !== undefined && this.ticks - pr.lastHeardTick < windowTicks);
  }

  /** CheckQuorum: did a majority of voters (counting us) answer within `windowTicks`? */
  quorumActive(selfId: NodeId, windowTicks: number): boolean {
    return hasQuorum(this.conf.voters, (id) => this.recentlyActive(id, selfId, windowTicks));
  }
}
