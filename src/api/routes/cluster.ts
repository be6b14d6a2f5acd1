// GET /v1/cluster: topology and health of every shard and replica; GET /healthz: liveness.
import { z } from "@hono/zod-openapi";
import { authenticated } from "../auth.ts";
import { defineRoute } from "../route.ts";
import { problems } from "../schemas.ts";
import { Operation, operationJson } from "./cluster-ops.ts";

const Replica = z.object({
  id: z.string(),
  location: z.string(),
  role: z.string(),
  term: z.number().int(),
  commitIndex: z.number().int(),
  appliedIndex: z.number().int(),
  lastContact: z.string().nullable().openapi({ format: "date-time" }),
  voter: z.boolean(),
  matchIndex: z.number().int().nullable(),
  lag: z.number().int().nullable().openapi({ description: "entries behind the leader" }),
  snapshot: z
    .object({ done: z.number().int(), total: z.number().int() })
    .nullable()
    .openapi({ description: "a snapshot being sent to it: bytes confirmed of total" }),
  operation: z.string().nullable().openapi({ description: "the running operation touching it" }),
});

const PendingChange = z
  .object({
    variable: z.enum(["SHARDS", "REPLICAS_PER_SHARD", "REPLICA_LOCATIONS", "RAFT_GENERATION"]),
    stored: z.unknown(),
    configured: z.unknown(),
    apply: z.string(),
  })
  .openapi("PendingChange");

const Cluster = z
  .object({
    backend: z.string(),
    ring: z.record(z.string(), z.unknown()),
    operations: z.array(Operation),
    pendingConfig: z
      .array(PendingChange)
      .nullable()
      .openapi({
        description:
          "wrangler.toml [vars] entries changed since the store was seeded: never acted on; " +
          "each says what applying it takes",
      }),
    shards: z.array(
      z.object({
        shard: z.number().int(),
        revision: z.number().int().nullable(),
        replicas: z.array(Replica),
        error: z.string().optional(),
      }),
    ),
  })
  .openapi("Cluster");

export const cluster = defineRoute({
  method: "get",
  path: "/v1/cluster",
  operationId: "getCluster",
  tags: ["cluster"],
  summary: "Topology and health",
  description:
    "The ring, each shard and each replica's id, location, role, term, commit and applied index, last contact. " +
    "Needs any valid token.",
  query: z.object({}).strict(),
  responses: {
    200: { description: "Status", content: { "application/json": { schema: Cluster } } },
    ...problems(),
  },
  handler: async (c) => {
    await authenticated(c);
    const status = await c.get("router").cluster();
    const shards = status.shards.map((s) => ({
      ...s,
      replicas: s.replicas.map(({ lastContactMs, ...r }) => ({
        ...r,
        lastContact: lastContactMs === null ? null : new Date(lastContactMs).toISOString(),
      })),
    }));
    const { backend, ring, pendingConfig } = status;
    const operations = (status.operations ?? []).map(operationJson);
    return c.json({ backend, ring, pendingConfig, operations, shards }, 200);
  },
});

export const health = defineRoute({
  method: "get",
  path: "/healthz",
  operationId: "getHealth",
  tags: ["cluster"],
  auth: "none",
  summary: "Liveness of the Worker",
  description:
    "Always 200 while the Worker runs; it does not touch any shard (see /v1/cluster for that).",
  query: z.object({}).strict(),
  responses: {
    200: {
      description: "Alive",
      content: { "application/json": { schema: z.object({ ok: z.boolean() }) } },
    },
    400: problems()[400]!,
    414: problems()[414]!,
  },
  handler: async (c) => c.json({ ok: true }, 200),
});
