// The Hono environment shared by every middleware and route.
import type { Context } from "hono";
import type { Router } from "../router/index.ts";
import type { TokenRecord } from "../store/index.ts";

/**
 * The bindings the API reads itself. The Worker passes its whole Env (src/env.ts); the backend's
 * bindings reach the Router through the `router` factory of createApp, not through the API.
 */
export interface ApiBindings {
  /**
   * The admin bearer token (a secret: `wrangler secret put ADMIN_TOKEN`). Without it every write
   * is refused with 503. Local runs pass the development token "dev-admin-token".
   */
  ADMIN_TOKEN?: string;
  /** Local development only: present when the local server runs the Worker (fault injection). */
  EDGECFG_DEV?: unknown;
}

/** Who is calling (auth.ts decides it). */
export type Principal =
  | { type: "admin" }
  | { type: "token"; record: TokenRecord }
  | { type: "anonymous" };

export interface AppEnv {
  Bindings: ApiBindings;
  Variables: {
    /** The router; records the consistency token of each data read or write (for the response). */
    router: Router;
    /** The same router, unrecorded: for lookups that are not the request's subject (auth). */
    backend: Router;
    /** The last consistency token the request observed (set by the recording router). */
    observedToken: string | undefined;
    principal: Principal;
    /** X-Request-Id: the client's, or made for a write (audit.ts); echoed on the response. */
    requestId: string | undefined;
    /** X-Edgecfg-Reason of a write, checked (audit.ts). */
    reason: string | undefined;
  };
}

/** Read variables with `c.get(name)`: Hono's `c.var` copies every variable into a new object on each access. */
export type Ctx = Context<AppEnv>;
