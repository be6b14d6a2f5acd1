// The Worker's bindings (wrangler.toml). Secrets are optional on purpose: the Worker must run,
// and say what is missing, when they are not set.
import type { ApiBindings } from "./api/index.ts";
import type { BackendEnv } from "./router/index.ts";

/**
 * Everything the Worker reads: the API's bindings (ADMIN_TOKEN) and the backend's (BACKEND,
 * SHARDS, REPLICAS_PER_SHARD, REPLICA_LOCATIONS, STALE_CACHE_MS, the replica vars,
 * and the Durable Object namespaces REPLICA and SOLO_SHARD); each is documented where it is read.
 */
export interface Env extends ApiBindings, BackendEnv {}
