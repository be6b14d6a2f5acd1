// Cluster operations (admin): add, remove or replace a replica, move a shard's leader, reshard the
// ring, and wait
// for an operation. Each start sends an Idempotency-Key, so a retry after a lost answer gets the
// same operation back instead of starting a second one.
import type { ClientContext } from "./context.ts";
import { call, type CallOptions } from "./http.ts";
import type { ClusterOperation } from "./types.ts";

function start(
  ctx: ClientContext,
  method: "POST" | "DELETE",
  path: string,
  body: unknown,
  options: CallOptions,
): Promise<ClusterOperation> {
  const headers: Record<string, string> = { "idempotency-key": crypto.randomUUID() };
  if (body !== undefined) headers["content-type"] = "application/json";
  return ctx.http.send(
    {
      method,
      path,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...call(options),
    },
    async (res) => (await res.json()) as ClusterOperation,
  );
}

const replicas = (shard: number) => `/v1/cluster/shards/${shard}/replicas`;

export const operations = {
  addReplica: (ctx: ClientContext, shard: number, location: string, o: CallOptions = {}) =>
    start(ctx, "POST", replicas(shard), { location }, o),
  removeReplica: (
    ctx: ClientContext,
    shard: number,
    id: string,
    opts: { force?: boolean } & CallOptions = {},
  ) =>
    start(
      ctx,
      "DELETE",
      `${replicas(shard)}/${encodeURIComponent(id)}${opts.force ? "?force=true" : ""}`,
      undefined,
      opts,
    ),
  replaceReplica: (
    ctx: ClientContext,
    shard: number,
    id: string,
    opts: { location?: string } & CallOptions = {},
  ) =>
    start(
      ctx,
      "POST",
      `${replicas(shard)}/${encodeURIComponent(id)}/replace`,
      opts.location === undefined ? {} : { location: opts.location },
      opts,
    ),
  transferLeader: (ctx: ClientContext, shard: number, to: string, o: CallOptions = {}) =>
    start(ctx, "POST", `/v1/cluster/shards/${shard}/leader`, { to }, o),
  /** Grows or shrinks the ring to `shards`, moving only the namespaces whose shard changes. */
  reshard: (ctx: ClientContext, shards: number, o: CallOptions = {}) =>
    start(ctx, "POST", "/v1/cluster/reshard", { shards }, o),
  /** The operation, after waiting up to `waitSeconds` (≤ 60) while it runs. */
  get: (ctx: ClientContext, id: string, opts: { waitSeconds?: number } & CallOptions = {}) => {
    const wait = opts.waitSeconds === undefined ? "" : `?wait=${Math.min(60, opts.waitSeconds)}s`;
    const timeoutMs = Math.max(opts.timeoutMs ?? 0, ((opts.waitSeconds ?? 0) + 10) * 1000);
    return ctx.http.send(
      {
        method: "GET",
        path: `/v1/cluster/operations/${encodeURIComponent(id)}${wait}`,
        ...call({ ...opts, timeoutMs }),
      },
      async (res) => (await res.json()) as ClusterOperation,
    );
  },
};
