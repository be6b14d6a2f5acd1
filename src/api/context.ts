// The Hono environment shared by every middleware and route.
import type { Context } from "hono";
import type { Env } from "../env.ts";
import type { Router } from "../router/types.ts";
import type { Principal } from "./auth.ts";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** The router; records the consistency token of each data read or write (for the response). */
    router: Router;
    /** The same router, unrecorded: for lookups that are not the request's subject (auth). */
    backend: Router;
    /** The last consistency token the request observed (set by the recording router). */
    observedToken: string | undefined;
    principal: Principal;
  };
}

/** Read variables with `c.get(name)`: Hono's `c.var` copies every variable into a new object on each access. */
export type Ctx = Context<AppEnv>;
