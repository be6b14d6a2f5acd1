// Which Router backs the API, from the BACKEND var: a Raft group of ReplicaDOs per shard ("raft",
// the default) or one Durable Object per shard ("solo"). Stale key reads and bundle polls are
// answered from the isolate while young enough (STALE_CACHE_MS, isolate-cache.ts), on either;
// writes and linearizable key reads that meet a cross-shard txn's intent wait it out or resolve
// it (intents.ts), on either.
import {
  isolateCacheOptionsFrom,
  withIsolateCache,
  type IsolateCacheEnv,
} from "./isolate-cache.ts";
import { withIntents } from "./intents.ts";
import { callerLocationOf } from "./raft-placement.ts";
import { RaftRouter, type RaftRouterEnv } from "./raft-router.ts";
import { SoloRouter, type SoloRouterEnv } from "./solo-router.ts";
import type { Router } from "./types.ts";

/** The [vars] and bindings every backend reads. */
export interface BackendEnv extends RaftRouterEnv, SoloRouterEnv, IsolateCacheEnv {
  /** "raft" (default) or "solo". */
  BACKEND?: string;
}

/** `request`, when the API passes it, lets the Raft router prefer replicas near the caller. */
export function routerFor(env: BackendEnv, request?: Request): Router {
  return withIsolateCache(withIntents(backendFor(env, request)), isolateCacheOptionsFrom(env));
}

function backendFor(env: BackendEnv, request?: Request): Router {
  switch (env.BACKEND ?? "raft") {
    case "solo":
      return new SoloRouter(env);
    case "raft":
      return new RaftRouter(env, { caller: callerLocationOf(request) });
    default:
      throw new Error(
        `unknown BACKEND ${JSON.stringify(env.BACKEND)}: ` +
          'set it to "raft" or "solo" in wrangler.toml [vars]',
      );
  }
}
