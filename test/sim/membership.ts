// Membership changes during the run, one server at a time: add a learner and promote it, remove a
// voter (sometimes the leader) and later add it back. Each change is proposed to the current
// leader and re-proposed until the group has applied it; the next starts only after that.
import type { ConfChange, ConfState, NodeId } from "../../src/raft/types.ts";
import { describeConf, type Cluster } from "./cluster.ts";
import type { Prng } from "./prng.ts";

export interface MembershipOptions {
  /** Never remove a voter when that would leave fewer than this many. */
  votersMin: number;
  /** Chance per tick of starting a change when none is pending. */
  changeProbabilityPerTick: number;
  retryTicks: number;
}

export class MembershipDriver {
  private readonly cluster: Cluster;
  private readonly prng: Prng;
  private readonly opts: MembershipOptions;
  pending: { cc: ConfChange; lastProposedTick: number } | null = null;
  /** Once false no new change starts; a pending one is still retried to completion. */
  active = true;
  changesCompleted = 0;

  constructor(cluster: Cluster, prng: Prng, opts: MembershipOptions) {
    this.cluster = cluster;
    this.prng = prng;
    this.opts = opts;
  }

  step(nowTick: number): void {
    const conf = this.cluster.committedConf;
    const p = this.pending;
    if (p !== null) {
      if (isDone(conf, p.cc)) {
        this.changesCompleted++;
        this.log(`change ${p.cc.type} ${p.cc.nodeId} is applied: ${describeConf(conf)}`);
        this.pending = null;
      } else if (nowTick - p.lastProposedTick >= this.opts.retryTicks) {
        this.propose(p.cc, nowTick);
      }
      return;
    }
    if (!this.active || !this.prng.chance(this.opts.changeProbabilityPerTick)) return;
    const cc = this.nextChange(conf);
    if (cc === undefined) return;
    this.pending = { cc, lastProposedTick: nowTick };
    this.propose(cc, nowTick);
  }

  private nextChange(conf: ConfState): ConfChange | undefined {
    const ids = [...this.cluster.hosts.keys()];
    const outside = ids.filter((id) => !conf.voters.includes(id) && !conf.learners.includes(id));
    if (outside.length > 0)
      return {
        type: this.prng.chance(0.8) ? "addLearner" : "addVoter",
        nodeId: this.prng.pick(outside),
      };
    if (conf.learners.length > 0)
      return { type: "promoteLearner", nodeId: this.prng.pick(conf.learners) };
    if (conf.voters.length <= this.opts.votersMin) return undefined;
    const leader = this.cluster.leader()?.id;
    const victim: NodeId =
      leader !== undefined && this.prng.chance(0.3) ? leader : this.prng.pick(conf.voters);
    return { type: "removeVoter", nodeId: victim };
  }

  private propose(cc: ConfChange, nowTick: number): void {
    if (this.pending !== null) this.pending.lastProposedTick = nowTick;
    const leader = this.cluster.leader();
    if (leader === undefined) {
      this.log(`change ${cc.type} ${cc.nodeId}: no leader, will retry`);
      return;
    }
    const outcome = this.cluster.proposeConfChange(leader, cc);
    this.log(`propose ${cc.type} ${cc.nodeId} at ${leader.id}: ${outcome}`);
  }

  private log(text: string): void {
    if (this.cluster.trace.enabled) this.cluster.trace.log(`membership: ${text}`);
  }
}

function isDone(conf: ConfState, cc: ConfChange): boolean {
  switch (cc.type) {
    case "addLearner":
      return conf.learners.includes(cc.nodeId) || conf.voters.includes(cc.nodeId);
    case "addVoter":
    case "promoteLearner":
      return conf.voters.includes(cc.nodeId);
    case "removeVoter":
      return !conf.voters.includes(cc.nodeId);
    case "removeLearner":
      return !conf.learners.includes(cc.nodeId);
  }
}
