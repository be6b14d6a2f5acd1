// The Worker: the HTTP API (src/api) over the Router chosen by the BACKEND var, plus the Durable
// Object classes the backends use.
import { createApp } from "./api/app.ts";
import type { Env } from "./env.ts";
import { isolateCacheOptionsFrom, withIsolateCache } from "./router/isolate-cache.ts";
import { callerLocationOf } from "./router/raft-placement.ts";
import { RaftRouter, type RaftRouterEnv } from "./router/raft-router.ts";
import { SoloRouter } from "./router/solo-router.ts";
import type { Router } from "./router/types.ts";

export { SoloShardDO } from "./solo/shard-do.ts";
export { ReplicaDO } from "./replica/replica-do.ts";

/**
 * Stale key reads and bundle polls are answered from the isolate while young enough
 * (STALE_CACHE_MS, router/isolate-cache.ts), on either backend.
 */
function routerFor(env: Env, request?: Request): Router {
  return withIsolateCache(backendFor(env, request), isolateCacheOptionsFrom(env));
}

/** `request`, when the API passes it, lets the Raft router prefer replicas near the caller. */
function backendFor(env: Env, request?: Request): Router {
  switch (env.BACKEND ?? "raft") {
    case "solo":
      return new SoloRouter(env);
    case "raft":
      return new RaftRouter(env as Env & RaftRouterEnv, callerLocationOf(request));
    default:
      throw new Error(
        `unknown BACKEND ${JSON.stringify(env.BACKEND)}: set it to "raft" or "solo" in wrangler.toml [vars]`,
      );
  }
}

const app = createApp({ router: routerFor });

export default app;
