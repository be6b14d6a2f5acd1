// Cluster operations (http-api.md "Cluster operations", admin token): add, remove and replace a
// replica, move a shard's leader, and follow an operation. Each answers 202 with the operation's
// record at once and keeps driving it after the answer (waitUntil); GET .../operations/{id}?wait=
// drives it too, so an operation interrupted by a restart resumes with the next look at it.
import { z } from "@hono/zod-openapi";
import { pauseP99, type OperationRequest, type Router } from "../../router/index.ts";
import { storeLimits, type ClusterOperation, type ReshardProgress } from "../../store/index.ts";
import { authorize } from "../auth.ts";
import type { Ctx } from "../context.ts";
import { parseWaitMs } from "../duration.ts";
import { idempotencyKey } from "../idempotency.ts";
import { apiLimits } from "../limits.ts";
import { ApiProblem, notFound, problemTypes } from "../problem.ts";
import { defineRoute } from "../route.ts";
import { Flag, headers, problems, Wait } from "../schemas.ts";

/** How long a request keeps driving the operation it started, after answering, ms. */
const driveAfterAnswerMs = 25_000;

export const Operation = z
  .object({
    id: z.string(),
    kind: z.enum(["addReplica", "removeReplica", "replaceReplica", "transferLeader", "reshard"]),
    shard: z.number().int(),
    state: z.enum(["running", "done", "failed"]),
    step: z.string(),
    replica: z.string().optional(),
    added: z.string().optional(),
    location: z.string().optional(),
    progress: z.object({ done: z.number(), total: z.number(), unit: z.string() }),
    startedAt: z.string().openapi({ format: "date-time" }),
    finishedAt: z.string().optional().openapi({ format: "date-time" }),
    error: z.string().optional(),
    reshard: z
      .object({
        fromShards: z.number().int(),
        toShards: z.number().int(),
        /** The namespace moving now, and its step. */
        namespace: z.string().optional(),
        namespaceStep: z.string().optional(),
        moved: z.number().int(),
        bytes: z.number().int(),
        keys: z.number().int(),
        /** The write pause of the moved namespaces (fence to activation), ms. */
        pauseMs: z.object({ p50: z.number(), p99: z.number(), max: z.number() }).openapi({
          description:
            "Write pause per moved namespace (fence to activation), ms: p50 of the latest " +
            "256, p99 of them all (the upper bound of its 10-5,000 ms histogram bucket), max.",
        }),
      })
      .optional()
      .openapi({
        description:
          "kind reshard: the ring change, the namespace moving now, namespaces moved and the " +
          "bytes and keys copied (progress counts namespaces: done of total), and the write " +
          "pause of the moved namespaces (fence to activation: p50 of the latest 256, max), ms",
      }),
  })
  .openapi("Operation");

export function operationJson(o: ClusterOperation): z.infer<typeof Operation> {
  const {
    startedAtMs,
    finishedAtMs,
    updatedAtMs: _u,
    idempotencyKey: _k,
    force: _f,
    reshard,
    ...rest
  } = o;
  return {
    ...rest,
    ...(reshard === undefined ? {} : { reshard: reshardJson(reshard) }),
    startedAt: new Date(startedAtMs).toISOString(),
    ...(finishedAtMs === undefined ? {} : { finishedAt: new Date(finishedAtMs).toISOString() }),
  };
}

function reshardJson(r: ReshardProgress): NonNullable<z.infer<typeof Operation>["reshard"]> {
  const { fromShards, toShards, moved, bytes, keys } = r;
  const move = (r.moves ?? (r.move === null ? [] : [r.move])).find((m) => m.step !== "done");
  const now = move === undefined ? {} : { namespace: move.namespace, namespaceStep: move.step };
  const sorted = [...r.pausesMs].sort((a, b) => a - b);
  const p50 = sorted[Math.floor(sorted.length / 2)] ?? 0;
  const pauseMs = { p50, p99: pauseP99(r) ?? p50, max: r.pauseMsMax };
  return { fromShards, toShards, ...now, moved, bytes, keys, pauseMs };
}

function operable(c: Ctx): Required<Pick<Router, "startOperation" | "operation">> {
  const router = c.get("router");
  const { startOperation, operation } = router;
  if (startOperation === undefined || operation === undefined) {
    throw new ApiProblem({
      status: 409,
      type: problemTypes.conflict,
      detail:
        "this deployment's backend has one Durable Object per shard and no replicas to operate " +
        'on; cluster operations need BACKEND = "raft" in wrangler.toml',
    });
  }
  return { startOperation, operation };
}

async function start(c: Ctx, request: OperationRequest): Promise<Response> {
  await authorize(c, "*", "admin");
  const ops = operable(c);
  const { operation, started } = await ops.startOperation(request, await idempotencyKey(c));
  if (operation.state === "running") {
    const drive = ops.operation(operation.id, driveAfterAnswerMs).catch((error: unknown) => {
      console.log(`operation ${operation.id}: driving paused: ${String(error)}`);
    });
    try {
      c.executionCtx.waitUntil(drive);
    } catch {
      // No execution context (app.request in a unit test): the drive runs while it can.
    }
  }
  const status = operation.state === "done" && !started ? 200 : 202;
  return c.json(operationJson(operation), status, {
    Location: `/v1/cluster/operations/${operation.id}`,
  });
}

const ShardParam = z.object({
  shard: z
    .string()
    .regex(/^\d{1,4}$/, "a shard number")
    .openapi({ param: { name: "shard", in: "path" } }),
});
const ReplicaParam = ShardParam.extend({
  id: z
    .string()
    .min(1)
    .max(200)
    .openapi({
      param: { name: "id", in: "path" },
      description: "A replica id as GET /v1/cluster lists it, e.g. s0-r1/g1 (or s0-r1%2Fg1)",
    }),
});
const accepted = (description: string) => ({
  202: {
    description,
    content: { "application/json": { schema: Operation } },
    headers: headers("Location"),
  },
});
const params = (c: Ctx) => c.req.param() as Record<string, string>;
const shardOf = (c: Ctx) => Number(params(c).shard);
const replicaOf = (c: Ctx) => decodeURIComponent(params(c).id ?? "");

export const replicaAdd = defineRoute({
  method: "post",
  path: "/v1/cluster/shards/{shard}/replicas",
  operationId: "addReplica",
  tags: ["cluster"],
  summary: "Add a replica to a shard (admin)",
  description:
    "Creates it empty at `location`, adds it as a learner, catches it up (log or snapshot), then " +
    "promotes it to voter. One operation per shard at a time.",
  params: ShardParam,
  query: z.object({}).strict(),
  body: z.object({ location: z.string().max(16) }).strict(),
  bodyBytesMax: apiLimits.smallBodyBytesMax,
  responses: { ...accepted("Started"), ...problems(404, 409) },
  handler: async (c, { body }) =>
    start(c, { kind: "addReplica", shard: shardOf(c), location: body.location }),
});

export const replicaReplace = defineRoute({
  method: "post",
  path: "/v1/cluster/shards/{shard}/replicas/{id}/replace",
  operationId: "replaceReplica",
  honoPath: "/v1/cluster/shards/:shard/replicas/:id{.+}/replace",
  tags: ["cluster"],
  summary: "Replace a replica (admin)",
  description:
    "Adds a new replica (in `location`, or where the old one is), catches it up, promotes " +
    "it, then " +
    "removes the old one: one operation.",
  params: ReplicaParam,
  query: z.object({}).strict(),
  body: z.object({ location: z.string().max(16).optional() }).strict(),
  bodyBytesMax: apiLimits.smallBodyBytesMax,
  responses: { ...accepted("Started"), ...problems(404, 409) },
  handler: async (c, { body }) =>
    start(c, {
      kind: "replaceReplica",
      shard: shardOf(c),
      replica: replicaOf(c),
      ...(body.location === undefined ? {} : { location: body.location }),
    }),
});

export const replicaRemove = defineRoute({
  method: "delete",
  path: "/v1/cluster/shards/{shard}/replicas/{id}",
  operationId: "removeReplica",
  honoPath: "/v1/cluster/shards/:shard/replicas/:id{.+}",
  tags: ["cluster"],
  summary: "Remove a replica (admin)",
  description:
    "409 when it would leave the shard with fewer than three voters or without a reachable " +
    "majority, unless force=true.",
  params: ReplicaParam,
  query: z.object({ force: Flag }).strict(),
  responses: { ...accepted("Started"), ...problems(404, 409) },
  handler: async (c, { query }) =>
    start(c, {
      kind: "removeReplica",
      shard: shardOf(c),
      replica: replicaOf(c),
      force: query.force === "" || query.force === "true",
    }),
});

export const leaderTransfer = defineRoute({
  method: "post",
  path: "/v1/cluster/shards/{shard}/leader",
  operationId: "transferLeader",
  tags: ["cluster"],
  summary: "Move a shard's leader (admin)",
  description: "202 and an operation; 200 with a finished one when `to` already leads.",
  params: ShardParam,
  query: z.object({}).strict(),
  body: z.object({ to: z.string().min(1).max(200) }).strict(),
  bodyBytesMax: apiLimits.smallBodyBytesMax,
  responses: {
    200: {
      description: "Already the leader",
      content: { "application/json": { schema: Operation } },
      headers: headers("Location"),
    },
    ...accepted("Started"),
    ...problems(404, 409),
  },
  handler: async (c, { body }) =>
    start(c, { kind: "transferLeader", shard: shardOf(c), to: body.to }),
});

export const reshard = defineRoute({
  method: "post",
  path: "/v1/cluster/reshard",
  operationId: "reshard",
  tags: ["cluster"],
  summary: "Grow or shrink the ring online (admin)",
  description:
    "Moves only the namespaces whose shard changes under jump consistent hash, one at a time: " +
    "copy at a revision, catch up while writes continue, fence that namespace's writes (a pause " +
    "of one small pass), flip, activate on the new shard, drop the old copy; then the ring " +
    "changes. Progress counts namespaces. 409 while another operation runs.",
  query: z.object({}).strict(),
  body: z.object({ shards: z.number().int().min(1).max(storeLimits.clusterShardsMax) }).strict(),
  bodyBytesMax: apiLimits.smallBodyBytesMax,
  responses: {
    200: {
      description: "The ring already has that many shards: a finished operation",
      content: { "application/json": { schema: Operation } },
      headers: headers("Location"),
    },
    ...accepted("Started"),
    ...problems(409),
  },
  handler: async (c, { body }) => start(c, { kind: "reshard", shards: body.shards }),
});

export const operationGet = defineRoute({
  method: "get",
  path: "/v1/cluster/operations/{id}",
  operationId: "getOperation",
  tags: ["cluster"],
  summary: "An operation's state (admin)",
  description: "`?wait=30s` long-polls (and drives it) until it is no longer running.",
  params: z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) }),
  query: z.object({ wait: Wait }).strict(),
  responses: {
    200: { description: "The operation", content: { "application/json": { schema: Operation } } },
    ...problems(404),
  },
  handler: async (c, { query }) => {
    await authorize(c, "*", "admin");
    const id = params(c).id ?? "";
    const op = await operable(c).operation(id, parseWaitMs(query.wait) ?? 0);
    if (op === null)
      throw notFound(`there is no operation ${id}; GET /v1/cluster lists running ones`);
    return c.json(operationJson(op), 200);
  },
});
