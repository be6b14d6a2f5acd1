// The edgecfg Worker as edgecfg/miniflare ships it (npm run build:worker bundles this file): the
// Worker of src/index.ts, which first brings the store to the fixtures its EDGECFG_SEED binding
// carries, before it answers anything, and back to them on reset: `env.EDGECFG.reset()` over the
// binding, `POST /_edgecfg/reset` over HTTP (admin token); `env.EDGECFG.faults()` switches a
// replica's faults. For tests only: a deployment runs src/index.ts, which has none of these.
import app, { EdgecfgEntrypoint as Served } from "../index.ts";
import type { Env } from "../env.ts";
import { replicaStub, stubOptionsFor, type ReplicaDO } from "../replica/index.ts";
import { restore, type Fixture } from "./seed.ts";
import { namespaceOfKey, namespacesWritten } from "./written.ts";

export { ReplicaDO, SoloShardDO } from "../index.ts";

interface TestEnv extends Env {
  /** The fixtures, one per namespace, as edgecfgWorker() read them from their files. */
  EDGECFG_SEED?: Fixture[];
}

/** The served binding's instance type, whose methods this one wraps. */
type Base = InstanceType<typeof Served>;

const resetPath = "/_edgecfg/reset";

// Per isolate, and Miniflare keeps one isolate per Worker for its whole life: the seeding or
// reset last started (every request waits for it), and the namespaces written since.
let settled: Promise<void> | undefined;
const written = new Set<string>();

/** Seeded namespaces back to their fixtures, the other written ones emptied; after any earlier. */
function reset(env: TestEnv, ctx: ExecutionContext): Promise<void> {
  const fixtures = env.EDGECFG_SEED ?? [];
  const named = new Set(fixtures.map((f) => f.namespace));
  const others = [...written].filter((ns) => !named.has(ns));
  written.clear();
  const run = async () => {
    for (const fixture of fixtures) await restore(env, ctx, fixture);
    for (const namespace of others) await restore(env, ctx, { namespace, entries: {} });
  };
  settled = (settled ?? Promise.resolve()).catch(() => {}).then(run);
  return settled;
}

/** The seeding, started by the first request; a failed one fails every request with its cause. */
function ready(env: TestEnv, ctx: ExecutionContext): Promise<void> {
  return settled ?? reset(env, ctx);
}

async function track(request: Request): Promise<void> {
  for (const namespace of await namespacesWritten(request)) written.add(namespace);
}

function isReset(request: Request): boolean {
  return request.method === "POST" && new URL(request.url).pathname === resetPath;
}

export default {
  async fetch(request: Request, env: TestEnv, ctx: ExecutionContext): Promise<Response> {
    if (isReset(request)) {
      if (request.headers.get("Authorization") !== `Bearer ${env.ADMIN_TOKEN ?? ""}`)
        return Response.json({ detail: "send the admin token to reset" }, { status: 401 });
      await reset(env, ctx);
      return new Response(null, { status: 204 });
    }
    await ready(env, ctx);
    await track(request);
    return app.fetch(request, env, ctx);
  },
};

/** The binding: every method waits for the seeding; writes are noted for the next reset. */
export class EdgecfgEntrypoint extends Served {
  get #env(): TestEnv {
    return this.env as TestEnv;
  }
  override async fetch(request: Request): Promise<Response> {
    if (isReset(request))
      return reset(this.#env, this.ctx).then(() => new Response(null, { status: 204 }));
    await ready(this.#env, this.ctx);
    await track(request);
    return super.fetch(request);
  }
  override async read(...args: Parameters<Base["read"]>) {
    await ready(this.#env, this.ctx);
    return super.read(...args);
  }
  override async bundle(...args: Parameters<Base["bundle"]>) {
    await ready(this.#env, this.ctx);
    return super.bundle(...args);
  }
  override async write(...args: Parameters<Base["write"]>) {
    await ready(this.#env, this.ctx);
    const namespace = namespaceOfKey(args[0]);
    if (namespace !== undefined) written.add(namespace);
    return super.write(...args);
  }
  override async remove(...args: Parameters<Base["remove"]>) {
    await ready(this.#env, this.ctx);
    const namespace = namespaceOfKey(args[0]);
    if (namespace !== undefined) written.add(namespace);
    return super.remove(...args);
  }
  override async evaluate(...args: Parameters<Base["evaluate"]>) {
    await ready(this.#env, this.ctx);
    return super.evaluate(...args);
  }
  override async evaluateAll(...args: Parameters<Base["evaluateAll"]>) {
    await ready(this.#env, this.ctx);
    return super.evaluateAll(...args);
  }
  /** Tests only: seeded namespaces back to their fixtures, other written ones emptied. */
  async reset(): Promise<void> {
    await reset(this.#env, this.ctx);
  }
  /**
   * Tests only: one replica's fault switch (src/replica/faults.ts), by its id in GET /v1/cluster,
   * e.g. {stopped: true} to crash the leader; a user's tests have no stub of edgecfg's objects.
   */
  async faults(replica: string, faults: Parameters<ReplicaDO["setFaults"]>[0]) {
    await ready(this.#env, this.ctx);
    // Location hints only place objects at the edge; the name alone finds one locally.
    return replicaStub(this.#env.REPLICA, replica, stubOptionsFor("")).setFaults(faults);
  }
}
