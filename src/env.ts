// The Worker's bindings (wrangler.toml). Secrets are optional on purpose: the Worker must run,
// and say what is missing, when they are not set.
import type { SoloShardDO } from "./solo/shard-do.ts";

export interface Env {
  /**
   * Which Router backs the API: "raft" (default; a Raft group of ReplicaDOs per shard, see
   * src/router/raft-router.ts for its vars) or "solo" (one Durable Object per shard, no replication).
   */
  BACKEND?: string;
  /**
   * The admin bearer token (a secret: `wrangler secret put ADMIN_TOKEN`). Without it every write
   * is refused with 503. Local runs pass the development token "dev-admin-token".
   */
  ADMIN_TOKEN?: string;
  /** Shards of the ring, e.g. "4" (src/ring's parseTopology; SHARD_COUNT wins over SHARDS). */
  SHARD_COUNT?: string;
  SHARDS?: string;
  /** Ms a stale read may be answered from the isolate's cache (src/router/isolate-cache.ts). */
  STALE_CACHE_MS?: string;
  SOLO_SHARD: DurableObjectNamespace<SoloShardDO>;
}
