// Counters a replica keeps in memory since it was loaded: what tests and the benchmark read to
// count DO requests per write and to prove that an idle group makes none.
export interface ReplicaStats {
  /** Peer RPCs this replica sent (one per peer per round) and how many failed. */
  rpcsSent: number;
  rpcsFailed: number;
  /** Peer RPCs this replica received (deliver calls). */
  rpcsReceived: number;
  /** Router RPCs (propose, read, waitForChange) this replica received. */
  clientRequests: number;
  messagesSent: number;
  alarmsFired: number;
  /** transactionSync calls that persisted a Ready (plus log compactions). */
  storageTransactions: number;
  readies: number;
  proposals: number;
  entriesApplied: number;
  snapshotsTaken: number;
  snapshotsRestored: number;
  /** Linearizable reads served on a read lease, with no ReadIndex round (src/raft/lease.ts). */
  leaseReads: number;
}

export function emptyStats(): ReplicaStats {
  return {
    rpcsSent: 0,
    rpcsFailed: 0,
    rpcsReceived: 0,
    clientRequests: 0,
    messagesSent: 0,
    alarmsFired: 0,
    storageTransactions: 0,
    readies: 0,
    proposals: 0,
    entriesApplied: 0,
    snapshotsTaken: 0,
    snapshotsRestored: 0,
    leaseReads: 0,
  };
}
