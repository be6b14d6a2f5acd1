// What the API asks of cluster operations, and how a refusal says why (http-api.md "Cluster
// operations"). The records themselves live in the directory (src/store: ClusterOperation).
import type { ClusterOperation } from "../store/index.ts";

export type OperationRequest =
  | { kind: "addReplica"; shard: number; location: string }
  | { kind: "removeReplica"; shard: number; replica: string; force: boolean }
  | { kind: "replaceReplica"; shard: number; replica: string; location?: string }
  | { kind: "transferLeader"; shard: number; to: string }
  | { kind: "reshard"; shards: number };

export interface OperationStart {
  operation: ClusterOperation;
  /** False when the request was already satisfied (the target leads) or is a retry. */
  started: boolean;
}

/**
 * A cluster operation the store refuses: `status` is the HTTP status it means (400 bad input,
 * 404 no such shard or replica, 409 a running operation or a step that would cost the quorum).
 */
export class ClusterOperationError extends Error {
  override name = "ClusterOperationError";
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}
