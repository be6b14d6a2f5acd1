// Middleware that gives each request its Router: built lazily on first use (so /healthz and the
// OpenAPI document answer even when the backend is misconfigured), cached per bindings object,
// and wrapped to remember the consistency token of every data read and write so that error
// responses (412, 404, …) carry X-Edgecfg-Revision too: it stamps every response with the last.
import type { MiddlewareHandler } from "hono";
import type { Env } from "../env.ts";
import { systemNamespace } from "../store/keys.ts";
import type { Router } from "../router/types.ts";
import { revisionHeader } from "./consistency.ts";
import type { AppEnv, Ctx } from "./context.ts";

export interface RouterContextOptions {
  /** Builds a Router for the Worker's bindings; may throw (e.g. an invalid topology). */
  create: (env: Env) => Router;
}

/** Forwards to `get()`, calling `seen` with the namespace and token of each answer. */
function forwarding(get: () => Router, seen: (namespace: string, token: string) => void): Router {
  return {
    shardOf: (namespace) => get().shardOf(namespace),
    write: async (namespace, command) => {
      const w = await get().write(namespace, command);
      seen(namespace, w.token);
      return w;
    },
    read: async (namespace, query, options) => {
      const r = await get().read(namespace, query, options);
      seen(namespace, r.token);
      return r;
    },
    waitForChange: async (namespace, request) => {
      const w = await get().waitForChange(namespace, request);
      seen(namespace, w.token);
      return w;
    },
    cluster: () => get().cluster(),
  };
}

export function routerContext(options: RouterContextOptions): MiddlewareHandler<AppEnv> {
  // One Router per bindings object (per isolate in production): backends may cache placement.
  const routers = new WeakMap<Env, Router>();
  return async function routerContext(c, next) {
    const get = () => {
      let router = routers.get(c.env);
      if (router === undefined) {
        router = options.create(c.env);
        routers.set(c.env, router);
      }
      return router;
    };
    const record = (namespace: string, token: string) => {
      if (namespace !== systemNamespace) (c as Ctx).set("observedToken", token);
    };
    c.set("backend", forwarding(get, () => {}));
    c.set("router", forwarding(get, record));
    await next();
    const token = c.get("observedToken");
    if (token && !c.res.headers.has(revisionHeader)) c.res.headers.set(revisionHeader, token);
  };
}
