// The Worker's bindings (wrangler.toml). Secrets are optional on purpose: the Worker must run,
// and say what is missing, when they are not set.
import type { SoloShardDO } from "./solo/shard-do.ts";

export interface Env {
  /** Which Router backs the API: "solo" (one Durable Object per shard, no replication). */
  BACKEND?: string;
  /**
   * The admin bearer token (a secret: `wrangler secret put ADMIN_TOKEN`). Without it every write
   * is refused with 503. Local runs pass the development token "dev-admin-token".
   */
  ADMIN_TOKEN?: string;
  /** Shards of the ring, e.g. "4" (src/ring's parseTopology; SHARD_COUNT wins over SHARDS). */
  SHARD_COUNT?: string;
  SHARDS?: string;
  SOLO_SHARD: DurableObjectNamespace<SoloShardDO>;
}
