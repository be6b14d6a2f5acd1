// The Worker: the HTTP API (src/api) over the Router the BACKEND var chooses (src/router), plus
// the Durable Object classes the backends use.
import { createApp, edgecfgEntrypoint } from "./api/index.ts";
import type { Env } from "./env.ts";
import { routerFor } from "./router/index.ts";

export { SoloShardDO } from "./solo/index.ts";
export { ReplicaDO } from "./replica/index.ts";

// The API types `c.env` by the bindings it reads itself; the runtime hands it the whole Env.
const app = createApp({ router: (env) => routerFor(env as Env) });

// The Workers binding: other Workers call edgecfg over RPC with [[services]] ... entrypoint =
// "EdgecfgEntrypoint" (README, "Feature flags"), on the same Router as the API.
export const EdgecfgEntrypoint = edgecfgEntrypoint({
  router: (env) => routerFor(env as Env),
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
});

export default app;
