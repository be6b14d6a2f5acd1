// Fault injection for tests and local development: an in-memory switch on one replica.
//
// Why it cannot be enabled in a deployment: the only way in is the ReplicaDO's `setFaults` RPC
// method, and the only code holding ReplicaDO stubs is src/router and src/replica, neither of
// which calls it (the HTTP routes in src/api never see a stub). Tests reach it through a stub or
// runInDurableObject, the benchmark through Miniflare's getBindings(). It lives in memory only, so
// an eviction or restart clears it.
import type { NodeId } from "../raft/index.ts";

export interface Faults {
  /** Refuse every peer RPC that arrives (as if the network dropped it). */
  dropInbound: boolean;
  /** Fail every peer RPC this replica sends. */
  dropOutbound: boolean;
  /** Refuse every router call (a region the Workers cannot reach); it keeps running and ticking. */
  dropClients: boolean;
  /** A crashed replica: refuse everything, peers and clients alike, and stop ticking. */
  stopped: boolean;
  /** Extra latency before sending to a peer, in ms. */
  delayMsByPeer: Record<NodeId, number>;
  /** Never serve a read on the leader's lease: every linearizable read takes a ReadIndex round. */
  noLeaseReads: boolean;
  /**
   * A failing disk: the next Ready's storage write throws, which leaves the core and the disk
   * out of step, so the object resets itself and reloads from storage (its faults then gone).
   */
  failWrites: boolean;
  /** Added to this replica's clock readings, in ms (a skewed clock; the core's leases use it). */
  clockSkewMs: number;
}

/** When faults begin (`afterMs` from now) and how long they last (`forMs`; then all clear). */
export interface FaultWindow {
  afterMs?: number;
  forMs?: number;
}

export const noFaults: Faults = {
  dropInbound: false,
  dropOutbound: false,
  dropClients: false,
  stopped: false,
  delayMsByPeer: {},
  noLeaseReads: false,
  failWrites: false,
  clockSkewMs: 0,
};

export function stoppedMessage(id: NodeId): string {
  return `replica ${id} is stopped by fault injection; clear it with setFaults({ stopped: false })`;
}
