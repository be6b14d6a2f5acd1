import { messageBytesCeiling } from "../raft/index.ts";

// Timing and limits of one replica, with units last in their names. Read once from the Worker's
// vars (TICK_MS, SNAPSHOT_ENTRIES_INTERVAL, LEARNER_BYTES_PER_TICK) so tests and deployments can
// tune them without code.

export interface ReplicaConfig {
  /** Wall-clock length of one Raft tick: the alarm fires this often while the group is awake. */
  tickMs: number;
  /** Election timeout, in ticks (randomized by the core in [n, 2n)). */
  electionTimeoutTicks: number;
  heartbeatIntervalTicks: number;
  /**
   * Read leases (src/raft/lease.ts): a leader a quorum answered within this long serves
   * linearizable reads from its state, with no round; 0 turns them off. Must leave a wide margin
   * below voteRefusalMs: the margin absorbs clock-rate drift and clock-reading lag.
   */
  readLeaseMs: number;
  /**
   * How long a member refuses votes after hearing from the leader: the election timeout in wall
   * time (alarms fire late, never early, so no member campaigns sooner than this by itself).
   */
  voteRefusalMs: number;
  /** Idle ticks before the leader puts the group to sleep (no alarms, no requests). */
  quiesceAfterTicks: number;
  /** Take a store snapshot and compact the log every this many applied entries (members staggered). */
  snapshotEntriesInterval: number;
  /** How long a proposal waits to be applied before the caller hears "outcome unknown". */
  proposalWaitMsMax: number;
  /** How long a linearizable read waits for its ReadIndex before the caller should retry. */
  readIndexWaitMsMax: number;
  /**
   * RPCs to one peer in flight at once on the data lane (appends, votes, snapshots). Proposals
   * made while they are all on the wire leave together in the next one; 1 would batch a little
   * more (0.091 vs 0.155 DO requests per write at 64 writers) at the cost of commit latency.
   */
  peerRpcsInFlightMax: number;
  /** RPCs with only heartbeats and commit-only appends in flight to one peer (see transport.ts). */
  peerControlRpcsInFlightMax: number;
  /** A peer RPC unanswered this long counts as failed, so a black-holed peer cannot hold its queue. */
  peerRpcTimeoutMs: number;
  /** Entry and snapshot bytes in one peer RPC (Durable Object RPC messages are limited to ~32 MiB). */
  peerRpcBytesMax: number;
  /** How long a proposal that reaches a candidate waits for the election to end. */
  electionWaitMsMax: number;
  /** Bytes of entry data in one append message. */
  messageBytesMax: number;
  snapshotChunkBytesMax: number;
  /** Uncommitted bytes the leader accepts before it sheds proposals (backpressure). */
  uncommittedBytesMax: number;
  inflightMessagesMax: number;
  /**
   * Catch-up pacing (src/raft/pacing.ts): entry and snapshot bytes a learner is sent per tick.
   * A learner whose shard writes faster than this never catches up (its add waits); at 50 ms
   * ticks the default is 5 MiB/s, far above what one shard's leader accepts.
   */
  learnerBytesPerTick: number;
}

const mibBytes = 1024 * 1024;

/**
 * One entry must fit one append message, so this bounds a command. The core caps messages at
 * messageBytesCeiling; use all of it (a 1 MiB value plus its command framing needs a bit more).
 */
const messageBytesMax = messageBytesCeiling;

/**
 * The lease windows follow the tick, so a faster tick keeps the same margins: followers refuse
 * votes for the election timeout in wall time, and the lease lasts half of it (at 50 ms ticks,
 * heartbeats every 100 ms renew a 250 ms lease, and 250 ms of margin remain).
 */
function leaseWindows(
  tickMs: number,
  electionTimeoutTicks: number,
): { voteRefusalMs: number; readLeaseMs: number } {
  const voteRefusalMs = electionTimeoutTicks * tickMs;
  return { voteRefusalMs, readLeaseMs: voteRefusalMs / 2 };
}

export const replicaDefaults: ReplicaConfig = {
  tickMs: 50,
  electionTimeoutTicks: 10,
  heartbeatIntervalTicks: 2,
  ...leaseWindows(50, 10),
  quiesceAfterTicks: 20,
  snapshotEntriesInterval: 5_000,
  proposalWaitMsMax: 5_000,
  readIndexWaitMsMax: 2_000,
  peerRpcsInFlightMax: 2,
  peerControlRpcsInFlightMax: 1,
  peerRpcTimeoutMs: 5_000,
  peerRpcBytesMax: 8 * mibBytes,
  electionWaitMsMax: 1_000,
  messageBytesMax,
  snapshotChunkBytesMax: 1 * mibBytes,
  uncommittedBytesMax: 32 * mibBytes,
  inflightMessagesMax: 64,
  learnerBytesPerTick: 256 * 1024,
};

export interface ReplicaVars {
  TICK_MS?: string;
  /** "0" turns read leases off (every linearizable read then takes a ReadIndex round). */
  READ_LEASE_MS?: string;
  SNAPSHOT_ENTRIES_INTERVAL?: string;
  LEARNER_BYTES_PER_TICK?: string;
}

export function replicaConfigFrom(vars: ReplicaVars): ReplicaConfig {
  const tickMs = positiveInt(vars.TICK_MS, "TICK_MS", replicaDefaults.tickMs);
  const windows = leaseWindows(tickMs, replicaDefaults.electionTimeoutTicks);
  const voteRefusalMs = windows.voteRefusalMs;
  const readLeaseMs =
    vars.READ_LEASE_MS === "0"
      ? 0
      : positiveInt(vars.READ_LEASE_MS, "READ_LEASE_MS", windows.readLeaseMs);
  if (readLeaseMs > windows.readLeaseMs) {
    throw new Error(
      `READ_LEASE_MS=${readLeaseMs} must be at most half the election timeout (${voteRefusalMs} ms at TICK_MS=${tickMs}), ` +
        "so clock drift cannot let a lease outlive the followers' promise; lower it in wrangler.toml [vars]",
    );
  }
  return {
    ...replicaDefaults,
    tickMs,
    readLeaseMs,
    voteRefusalMs,
    learnerBytesPerTick: positiveInt(
      vars.LEARNER_BYTES_PER_TICK,
      "LEARNER_BYTES_PER_TICK",
      replicaDefaults.learnerBytesPerTick,
    ),
    snapshotEntriesInterval: positiveInt(
      vars.SNAPSHOT_ENTRIES_INTERVAL,
      "SNAPSHOT_ENTRIES_INTERVAL",
      replicaDefaults.snapshotEntriesInterval,
    ),
  };
}

function positiveInt(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new Error(
      `${name}=${JSON.stringify(raw)} is not a positive integer; fix it in wrangler.toml [vars]`,
    );
  }
  return n;
}
