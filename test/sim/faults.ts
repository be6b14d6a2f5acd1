// The fault schedule: crashes (often of the leader), partitions (leader isolated, random splits,
// one-way cuts, one link cut both ways), changing link quality, skewed tick rates and stalled ticks (late alarms), forced
// elections and leadership transfers.
// Rates are per simulator tick and high on purpose: crashes must land during elections, and a
// leader must often be cut off after it replicated an entry to only some followers (Figure 8).
import type { NodeId } from "../../src/raft/types.ts";
import type { Cluster } from "./cluster.ts";
import { perfectLinks, type LinkQuality } from "./network.ts";
import type { NodeHost } from "./node-host.ts";
import type { Prng } from "./prng.ts";

export interface FaultRates {
  crashPerTick: number;
  /** Of crashes, the share aimed at the current leader. */
  crashLeaderShare: number;
  /** Most outages are short (a restart races with the election); the rest last up to downTicksMax. */
  shortDownTicksMax: number;
  downTicksMax: number;
  partitionPerTick: number;
  /** Of partitions, the share that cut off the current leader. */
  leaderPartitionShare: number;
  partitionTicksMax: number;
  linkChangePerTick: number;
  transferPerTick: number;
  campaignPerTick: number;
  /**
   * Node tick rates are drawn from [1 / skew, skew]: alarms late, or ticks faster than real time
   * (never in production; see cluster.ts on clocks for why the sim keeps them with read leases).
   */
  tickRateSkewMax: number;
  /**
   * Stalls: a member's ticks stop for a while (an alarm very late) while it still handles
   * messages and clients. A stalled leader neither heartbeats nor steps down by CheckQuorum, so
   * only its clock ends its read lease. Mostly aimed at the leader.
   */
  stallPerTick: number;
  stallTicksMax: number;
}

export class FaultInjector {
  private readonly cluster: Cluster;
  private readonly prng: Prng;
  private readonly rates: FaultRates;
  private partitionHealTick = Infinity;
  active = true;

  constructor(cluster: Cluster, prng: Prng, rates: FaultRates) {
    this.cluster = cluster;
    this.prng = prng;
    this.rates = rates;
    for (const host of cluster.hosts.values()) host.tickRate = this.randomTickRate();
  }

  step(nowTick: number): void {
    this.restartDue(nowTick);
    if (nowTick >= this.partitionHealTick) this.healPartitions();
    if (!this.active) return;
    const r = this.rates;
    if (this.prng.chance(r.crashPerTick)) this.crashSomeone();
    if (this.prng.chance(r.partitionPerTick)) this.partition(nowTick);
    if (this.prng.chance(r.linkChangePerTick)) this.changeLinks();
    if (this.prng.chance(r.transferPerTick)) this.transferLeadership();
    if (this.prng.chance(r.campaignPerTick)) this.forceCampaign();
    if (this.prng.chance(r.stallPerTick)) this.stallTicks(nowTick);
  }

  /** End of the fault phase: a perfect network, every replica up. */
  healAll(): void {
    this.active = false;
    this.cluster.crashMidReadyProbability = 0;
    this.healPartitions();
    this.cluster.network.quality = perfectLinks;
    for (const host of this.cluster.hosts.values()) {
      // Healthy clocks tick at one rate: only the core's randomized timeouts can break a tie.
      host.tickRate = 1;
      host.ticksStalledUntil = 0;
      this.cluster.restart(host);
    }
  }

  private restartDue(nowTick: number): void {
    for (const host of this.cluster.hosts.values()) {
      if (!host.up && !host.destroyed && nowTick >= host.restartAtTick) {
        host.tickRate = this.active ? this.randomTickRate() : 1;
        this.cluster.restart(host);
      }
    }
  }

  private crashSomeone(): void {
    const up = this.cluster.upHosts();
    if (up.length === 0) return;
    const leader = this.cluster.leader();
    const victim =
      leader !== undefined && this.prng.chance(this.rates.crashLeaderShare)
        ? leader
        : this.prng.pick(up);
    // Mostly short outages (a restart races with the election), sometimes long ones.
    const r = this.rates;
    const downTicks = this.prng.chance(0.7)
      ? this.prng.range(1, r.shortDownTicksMax)
      : this.prng.range(r.shortDownTicksMax, r.downTicksMax);
    this.cluster.crash(victim, downTicks, victim === leader ? "leader" : "random");
  }

  private partition(nowTick: number): void {
    const net = this.cluster.network;
    net.healPartitions();
    const ids = [...this.cluster.hosts.keys()];
    const leader = this.cluster.leader();
    const kind = this.prng.chance(this.rates.leaderPartitionShare)
      ? this.prng.pick([0, 1, 4])
      : this.prng.pick([2, 3, 5]);
    let what: string;
    if (kind === 0 && leader !== undefined) {
      net.split(
        [leader.id],
        ids.filter((id) => id !== leader.id),
      );
      what = `isolate leader ${leader.id}`;
    } else if (kind === 1 && leader !== undefined) {
      // The leader still hears everyone but nobody hears it: followers time out and elect a
      // new leader while the old one keeps accepting proposals it can never commit.
      for (const id of ids) if (id !== leader.id) net.block(leader.id, id);
      what = `leader ${leader.id} cannot send`;
    } else if (kind === 2) {
      const shuffled = this.shuffle(ids);
      const cut = this.prng.range(1, Math.floor(ids.length / 2));
      net.split(shuffled.slice(0, cut), shuffled.slice(cut));
      what = `split [${shuffled.slice(0, cut).join(",")}] | [${shuffled.slice(cut).join(",")}]`;
    } else if (kind === 4 || kind === 5) {
      // A partial partition: the two lose each other but still reach everyone else, so others
      // relay between them. The leader may stay leader for some members while one it cannot
      // reach (and that cannot reach it) campaigns through a member that hears both: exactly
      // where a read lease must rest on that member's promise.
      const a = kind === 4 && leader !== undefined ? leader.id : this.prng.pick(ids);
      const voters = this.cluster.committedConf.voters.filter((id) => id !== a);
      const b = this.prng.pick(voters.length > 0 ? voters : ids.filter((id) => id !== a));
      net.split([a], [b]);
      what = `cut ${a} <-/-> ${b}`;
    } else {
      const a = this.prng.pick(ids);
      const b = this.prng.pick(ids.filter((id) => id !== a));
      net.block(a, b);
      what = `one-way ${a} -/-> ${b}`;
    }
    this.partitionHealTick = nowTick + this.prng.range(5, this.rates.partitionTicksMax);
    if (this.cluster.trace.enabled)
      this.cluster.trace.log(`PARTITION ${what} until ${this.partitionHealTick}`);
  }

  private healPartitions(): void {
    if (this.partitionHealTick === Infinity) return;
    this.partitionHealTick = Infinity;
    this.cluster.network.healPartitions();
    if (this.cluster.trace.enabled) this.cluster.trace.log("PARTITION healed");
  }

  private changeLinks(): void {
    const delayTicksMax = this.prng.range(1, 6);
    const quality: LinkQuality = {
      dropProbability: this.prng.chance(0.3) ? 0 : this.prng.next() * 0.3,
      duplicateProbability: this.prng.next() * 0.1,
      delayTicksMin: 1,
      delayTicksMax,
      longDelayProbability: this.prng.next() * 0.05,
      longDelayTicksMax: delayTicksMax + this.prng.range(5, 60),
      reorder: true,
    };
    this.cluster.network.quality = quality;
    if (this.cluster.trace.enabled) this.cluster.trace.log(`LINKS ${JSON.stringify(quality)}`);
  }

  private transferLeadership(): void {
    const leader = this.cluster.leader();
    if (leader === undefined) return;
    const to = this.prng.pick(this.cluster.committedConf.voters);
    if (this.cluster.trace.enabled)
      this.cluster.trace.log(`TRANSFER leadership ${leader.id} -> ${to}`);
    this.cluster.act(leader, (raw) => raw.transferLeadership(to));
  }

  private forceCampaign(): void {
    const up = this.cluster.upHosts();
    if (up.length === 0) return;
    const host: NodeHost = this.prng.pick(up);
    if (this.cluster.trace.enabled) this.cluster.trace.log(`CAMPAIGN ${host.id}`);
    this.cluster.act(host, (raw) => raw.campaign(this.cluster.clockMs(host)));
  }

  private stallTicks(nowTick: number): void {
    const up = this.cluster.upHosts();
    if (up.length === 0) return;
    const leader = this.cluster.leader();
    const host = leader !== undefined && this.prng.chance(0.7) ? leader : this.prng.pick(up);
    host.ticksStalledUntil = nowTick + this.prng.range(5, this.rates.stallTicksMax);
    if (this.cluster.trace.enabled)
      this.cluster.trace.log(
        `STALL ${host.id}: no ticks (alarm late) until ${host.ticksStalledUntil}`,
      );
  }

  private randomTickRate(): number {
    const skew = this.rates.tickRateSkewMax;
    const lo = 1 / skew;
    return lo + this.prng.next() * (skew - lo);
  }

  private shuffle(ids: NodeId[]): NodeId[] {
    const out = [...ids];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.prng.int(i + 1);
      [out[i], out[j]] = [out[j] as NodeId, out[i] as NodeId];
    }
    return out;
  }
}
