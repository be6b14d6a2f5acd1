// Middleware that gives each request its Router: built lazily on first use (so /healthz and the
// OpenAPI document answer even when the backend is misconfigured), cached per bindings object,
// and wrapped to remember the consistency token of every data read and write so that error
// responses (412, 404, …) carry X-Edgecfg-Revision too: it stamps every response with the last.
// A write to `_sys` (tokens, namespace settings) also drops the isolate's authorization lookups.
import type { MiddlewareHandler } from "hono";
import type {
  ClusterStatus,
  Read,
  ReadOptions,
  Router,
  WaitRequest,
  Waited,
  Written,
} from "../router/index.ts";
import { systemNamespace, type Command, type Query, type QueryResult } from "../store/index.ts";
import { forgetLookups } from "./auth-lookups.ts";
import { revisionHeader } from "./consistency.ts";
import type { ApiBindings, AppEnv, Ctx } from "./context.ts";

export interface RouterContextOptions {
  /** Builds a Router for the Worker's bindings; may throw (e.g. an invalid topology). */
  create: (env: ApiBindings) => Router;
}

/**
 * Forwards to the isolate's Router, calling `seen` with the namespace and token of each answer.
 * A class, not an object of closures: two are made per request, on the hot path of every read.
 */
class Forwarding implements Router {
  constructor(
    private readonly get: () => Router,
    private readonly seen: ((namespace: string, token: string) => void) | null,
    private readonly env: ApiBindings,
  ) {}

  shardOf(namespace: string): Promise<number> {
    return this.get().shardOf(namespace);
  }

  async write(namespace: string, command: Command): Promise<Written> {
    try {
      const w = await this.get().write(namespace, command);
      this.seen?.(namespace, w.token);
      return w;
    } finally {
      // Also after a failure: the write may have applied (an unknown outcome).
      if (namespace === systemNamespace) forgetLookups(this.env);
    }
  }

  async read<Q extends Query>(
    namespace: string,
    query: Q,
    options: ReadOptions,
  ): Promise<Read<QueryResult<Q>>> {
    const r = await this.get().read(namespace, query, options);
    this.seen?.(namespace, r.token);
    return r;
  }

  readNow<Q extends Query>(
    namespace: string,
    query: Q,
    options: ReadOptions,
  ): Read<QueryResult<Q>> | undefined {
    const r = this.get().readNow?.(namespace, query, options);
    if (r !== undefined) this.seen?.(namespace, r.token);
    return r;
  }

  async waitForChange(namespace: string, request: WaitRequest): Promise<Waited> {
    const w = await this.get().waitForChange(namespace, request);
    this.seen?.(namespace, w.token);
    return w;
  }

  cluster(): Promise<ClusterStatus> {
    return this.get().cluster();
  }

  /** Absent on a backend without replicas: the API then answers that it has nothing to operate. */
  get startOperation(): Router["startOperation"] {
    const inner = this.get();
    return inner.startOperation?.bind(inner);
  }

  get operation(): Router["operation"] {
    const inner = this.get();
    return inner.operation?.bind(inner);
  }

  get injectFault(): Router["injectFault"] {
    const inner = this.get();
    return inner.injectFault?.bind(inner);
  }

  get listFaults(): Router["listFaults"] {
    const inner = this.get();
    return inner.listFaults?.bind(inner);
  }
}

export function routerContext(options: RouterContextOptions): MiddlewareHandler<AppEnv> {
  // One Router per bindings object (per isolate in production): backends may cache placement.
  const routers = new WeakMap<ApiBindings, Router>();
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
    c.set("backend", new Forwarding(get, null, c.env));
    c.set("router", new Forwarding(get, record, c.env));
    await next();
    const token = c.get("observedToken");
    if (token && !c.res.headers.has(revisionHeader)) c.res.headers.set(revisionHeader, token);
  };
}
