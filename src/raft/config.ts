// Validation and defaults for RaftConfig. Limits carry their units in their names.
import { assert } from "./assert.ts";
import type { NodeId, RaftConfig } from "./types.ts";

/**
 * Entry bytes in one append stay under this, whatever the configuration says. It exceeds 1 MiB
 * because one entry must carry a 1 MiB value (the API's valueBytesMax) plus its command framing.
 */
export const messageBytesCeiling = 2 * 1024 * 1024;

/** Snapshot chunks stay at or under 1 MiB on the wire. */
export const snapshotChunkBytesCeiling = 1024 * 1024;

export function validateConfig(cfg: RaftConfig): void {
  assert(cfg.id !== "", "config.id must not be empty");
  assert(cfg.heartbeatIntervalTicks >= 1, "heartbeatIntervalTicks must be at least 1");
  assert(
    cfg.electionTimeoutTicks > cfg.heartbeatIntervalTicks,
    "electionTimeoutTicks must exceed heartbeatIntervalTicks",
  );
  assert(cfg.inflightMessagesMax >= 1, "inflightMessagesMax must be at least 1");
  assert(
    cfg.messageBytesMax >= 1 && cfg.messageBytesMax <= messageBytesCeiling,
    "messageBytesMax must be in [1, 2 MiB]",
  );
  assert(
    cfg.snapshotChunkBytesMax >= 1 && cfg.snapshotChunkBytesMax <= snapshotChunkBytesCeiling,
    "snapshotChunkBytesMax must be in [1, 1 MiB]",
  );
  assert(cfg.uncommittedBytesMax >= 1, "uncommittedBytesMax must be at least 1");
  assert((cfg.learnerBytesPerTick ?? 0) >= 0, "learnerBytesPerTick must not be negative");
  assert(cfg.quiesceAfterTicks >= 0, "quiesceAfterTicks must not be negative");
  const leaseMs = cfg.readLeaseMs ?? 0;
  assert(leaseMs >= 0, "readLeaseMs must not be negative");
  if (leaseMs > 0)
    assert(
      (cfg.voteRefusalMs ?? 0) > leaseMs,
      "voteRefusalMs must exceed readLeaseMs (followers must promise longer than the leader relies on)",
    );
}

/**
 * A production-minded configuration for member `id`: PreVote and CheckQuorum on, 1 MiB
 * messages and chunks at most, quiescence after 20 idle ticks. Override what you need.
 */
export function defaultRaftConfig(
  id: NodeId,
  seed: number,
  overrides: Partial<RaftConfig> = {},
): RaftConfig {
  return {
    id,
    seed,
    electionTimeoutTicks: 10,
    heartbeatIntervalTicks: 1,
    inflightMessagesMax: 64,
    messageBytesMax: 512 * 1024,
    snapshotChunkBytesMax: 512 * 1024,
    uncommittedBytesMax: 16 * 1024 * 1024,
    quiesceAfterTicks: 20,
    preVote: true,
    checkQuorum: true,
    ...overrides,
  };
}
