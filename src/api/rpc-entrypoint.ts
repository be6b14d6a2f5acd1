// The Workers binding: a WorkerEntrypoint another Worker binds to with [[services]] (entrypoint
// "EdgecfgEntrypoint") and calls over RPC, with no HTTPS hop and no token: a service binding is
// granted by the deployment itself, so a bound Worker may read and write every namespace, as the
// admin token may (bind only Workers you would give that token). Consistency, validation and
// outcomes are the HTTP API's; errors arrive as Error("edgecfg <status> <type>: <detail>").
// Its fetch() is the HTTP API acting with the ADMIN_TOKEN secret: the SDK's transport.
import { WorkerEntrypoint } from "cloudflare:workers";
import type { Router } from "../router/index.ts";
import type { ApiBindings } from "./context.ts";
import { rpc } from "./rpc-errors.ts";
import { rpcEvaluate, rpcEvaluateAll, type RpcEvaluateOptions } from "./rpc-flags.ts";
import {
  rpcBundle,
  rpcDelete,
  rpcGet,
  rpcPut,
  type RpcPutOptions,
  type RpcReadOptions,
} from "./rpc-kv.ts";

export interface EntrypointOptions {
  /** The Router for the Worker's bindings, as createApp's. */
  router: (env: ApiBindings) => Router;
  /** The HTTP API, for the binding's fetch(). */
  fetch: (
    request: Request,
    env: ApiBindings,
    ctx: ExecutionContext,
  ) => Response | Promise<Response>;
}

/**
 * A request through the binding acts with the admin token: the binding is the grant, so the SDK
 * and the providers can use it as their transport (their `fetch` option) without a token.
 */
function asAdmin(request: Request, env: ApiBindings): Request {
  if (!env.ADMIN_TOKEN) return request;
  const granted = new Request(request);
  granted.headers.set("Authorization", `Bearer ${env.ADMIN_TOKEN}`);
  return granted;
}

export function edgecfgEntrypoint(options: EntrypointOptions) {
  // One Router per bindings object, as the HTTP API keeps (backends cache placement).
  const routers = new WeakMap<ApiBindings, Router>();
  const routerOf = (env: ApiBindings): Router => {
    let router = routers.get(env);
    if (router === undefined) routers.set(env, (router = options.router(env)));
    return router;
  };
  return class EdgecfgEntrypoint extends WorkerEntrypoint<ApiBindings> {
    /** The HTTP API, as the bound Worker's own: `env.EDGECFG.fetch` is the SDK's transport. */
    override fetch(request: Request) {
      return options.fetch(asAdmin(request, this.env), this.env, this.ctx);
    }
    // Not get/put/delete: a service binding's Fetcher has methods of those names (HTTP verbs)
    // that shadow RPC methods for callers with compatibility dates before 2024-03-26.
    /** A key's value (JSON parsed, text, or bytes) with its ETag; null when absent. */
    read(key: string, o?: RpcReadOptions) {
      return rpc(() => rpcGet(routerOf(this.env), key, o));
    }
    /** The namespace's bundle: every entry at one revision (etag = that revision). */
    bundle(namespace: string, o?: RpcReadOptions) {
      return rpc(() => rpcBundle(routerOf(this.env), namespace, o));
    }
    /** Writes a value: JSON by default, a string as text, bytes as application/octet-stream. */
    write(key: string, value: unknown, o?: RpcPutOptions) {
      return rpc(() => rpcPut(routerOf(this.env), key, value, o));
    }
    /** Deletes a key; false when it did not exist. */
    remove(key: string, o?: { ifMatch?: string; reason?: string }) {
      return rpc(() => rpcDelete(routerOf(this.env), key, o));
    }
    /** One flag, as OFREP evaluates it (reason, variant, value, or errorCode). */
    evaluate(namespace: string, key: string, context?: unknown, o?: RpcEvaluateOptions) {
      return rpc(() => rpcEvaluate(routerOf(this.env), namespace, key, context, o));
    }
    /** Every flag of the namespace from one revision, as an OFREP bulk evaluation. */
    evaluateAll(namespace: string, context?: unknown, o?: RpcEvaluateOptions) {
      return rpc(() => rpcEvaluateAll(routerOf(this.env), namespace, context, o));
    }
  };
}
