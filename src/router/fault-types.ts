// What fault injection (dev-faults.ts) is asked, and answers. No imports: the Router interface
// (types.ts) names these types, and dev-faults.ts needs the directory, which needs types.ts.

export type FaultAction =
  | { action: "cut" | "cutInbound" | "cutOutbound" | "stop" | "restart"; replica: string }
  | { action: "isolateLeader"; shard: number }
  | { action: "latency"; location: string; ms: number }
  /** A region outage: every replica in the location cut off both ways. */
  | { action: "cutLocation"; location: string }
  | { action: "failWrites"; replica: string }
  | { action: "skewClock"; replica: string; ms: number }
  | { action: "clear" };

/** When a fault begins (`afterMs` from now) and how long it lasts (`forMs`; then all clear). */
export interface FaultWindow {
  afterMs?: number;
  forMs?: number;
}

export interface ReplicaFaults {
  replica: string;
  shard: number;
  location: string;
  faults: Record<string, unknown>;
}

export class FaultError extends Error {
  override name = "FaultError";
}
