// Fault profiles: each seed draws one, so the sweep covers different kinds of trouble instead of
// one average. "churn" is tuned for Figure 8 of the Raft paper: leaders crash and come back
// quickly while writes are in flight, so entries of several terms sit on minorities and an old
// leader returns to find them; "lossy" stresses the network (loss, duplicates, stale deliveries);
// "mixed" does a bit of everything, including membership changes under partitions; "lease" sets
// up what read leases must survive: a read-mostly workload (a member cut off from the leader
// stays up to date, so it can win an election), partial partitions around the leader, stalled
// leader ticks, quick restarts of followers, transfers, and CheckQuorum often off.
import type { FaultRates } from "./faults.ts";
import type { Prng } from "./prng.ts";

export interface FaultProfile {
  name: string;
  rates: FaultRates;
  /** Chance, per Ready, of a crash between its stages (or halfway through sending). */
  crashMidReadyProbability: number;
  clients: number;
  thinkTicksMax: number;
  membershipChangePerTick: number;
  /** Each seed's share of gets among client operations is drawn from these. */
  readShares: number[];
  /** Chance that a seed runs with CheckQuorum off (run.ts `randomLeaseConfig`). */
  checkQuorumOffShare: number;
}

const calm: FaultRates = {
  crashPerTick: 0,
  crashLeaderShare: 0,
  shortDownTicksMax: 1,
  downTicksMax: 1,
  partitionPerTick: 0,
  leaderPartitionShare: 0,
  partitionTicksMax: 1,
  linkChangePerTick: 0,
  transferPerTick: 0,
  campaignPerTick: 0,
  tickRateSkewMax: 1,
  stallPerTick: 0,
  stallTicksMax: 5,
};

export const noFaults: FaultProfile = {
  name: "none",
  rates: calm,
  crashMidReadyProbability: 0,
  clients: 4,
  thinkTicksMax: 0,
  membershipChangePerTick: 0,
  readShares: [0.4],
  checkQuorumOffShare: 0.25,
};

/**
 * Read-mostly seeds, as a config store is: spells without appends let a member that stopped
 * hearing from the leader stay up to date and win an election, the situation in which a lease
 * must hold on the followers' promises alone.
 */
const readShares = [0.4, 0.4, 0.9, 0.99];

const mixed: FaultProfile = {
  name: "mixed",
  rates: {
    crashPerTick: 0.03,
    crashLeaderShare: 0.5,
    shortDownTicksMax: 15,
    downTicksMax: 80,
    partitionPerTick: 0.02,
    leaderPartitionShare: 0.5,
    partitionTicksMax: 80,
    linkChangePerTick: 0.02,
    transferPerTick: 0.005,
    campaignPerTick: 0.005,
    tickRateSkewMax: 1.6,
    stallPerTick: 0.01,
    stallTicksMax: 60,
  },
  crashMidReadyProbability: 0.002,
  clients: 4,
  thinkTicksMax: 10,
  membershipChangePerTick: 0.02,
  readShares,
  checkQuorumOffShare: 0.25,
};

const churn: FaultProfile = {
  name: "churn",
  rates: {
    crashPerTick: 0.08,
    crashLeaderShare: 0.95,
    shortDownTicksMax: 5,
    downTicksMax: 30,
    partitionPerTick: 0.02,
    leaderPartitionShare: 0.9,
    partitionTicksMax: 20,
    linkChangePerTick: 0.01,
    transferPerTick: 0.003,
    campaignPerTick: 0.01,
    tickRateSkewMax: 1.3,
    stallPerTick: 0.01,
    stallTicksMax: 30,
  },
  crashMidReadyProbability: 0.02,
  clients: 8,
  thinkTicksMax: 0,
  membershipChangePerTick: 0.005,
  readShares,
  checkQuorumOffShare: 0.25,
};

const lossy: FaultProfile = {
  name: "lossy",
  rates: {
    crashPerTick: 0.01,
    crashLeaderShare: 0.3,
    shortDownTicksMax: 15,
    downTicksMax: 80,
    partitionPerTick: 0.01,
    leaderPartitionShare: 0.3,
    partitionTicksMax: 60,
    linkChangePerTick: 0.06,
    transferPerTick: 0.005,
    campaignPerTick: 0.005,
    tickRateSkewMax: 2,
    stallPerTick: 0.005,
    stallTicksMax: 60,
  },
  crashMidReadyProbability: 0.002,
  clients: 4,
  thinkTicksMax: 6,
  membershipChangePerTick: 0.01,
  readShares,
  checkQuorumOffShare: 0.25,
};

const lease: FaultProfile = {
  name: "lease",
  rates: {
    crashPerTick: 0.015,
    crashLeaderShare: 0.3,
    shortDownTicksMax: 4,
    downTicksMax: 40,
    partitionPerTick: 0.03,
    leaderPartitionShare: 0.8,
    partitionTicksMax: 80,
    linkChangePerTick: 0.01,
    transferPerTick: 0.01,
    campaignPerTick: 0.01,
    tickRateSkewMax: 2,
    stallPerTick: 0.02,
    stallTicksMax: 80,
  },
  crashMidReadyProbability: 0.002,
  clients: 4,
  thinkTicksMax: 4,
  membershipChangePerTick: 0.005,
  readShares: [0.99],
  checkQuorumOffShare: 0.5,
};

export function pickProfile(prng: Prng): FaultProfile {
  const roll = prng.next();
  if (roll < 0.35) return churn;
  if (roll < 0.65) return mixed;
  if (roll < 0.85) return lossy;
  return lease;
}
