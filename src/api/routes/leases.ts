// /v1/leases: grant, keep alive, inspect and revoke leases (http-api.md "Leases and locks"). A
// lease lives in its namespace's shard; its id ("{namespace}~{n}") says which.
import { commandAudit } from "../audit.ts";
import { z } from "@hono/zod-openapi";
import type { Lease, WriteOutcome } from "../../store/index.ts";
import { authorize } from "../auth.ts";
import { leaseJson, leaseNamespace } from "../coordination.ts";
import { revisionHeader } from "../consistency.ts";
import type { Ctx } from "../context.ts";
import { idempotencyKey, replayedHeader } from "../idempotency.ts";
import { storeLimits } from "../limits.ts";
import { outcomeProblem } from "../outcomes.ts";
import { notFound } from "../problem.ts";
import { defineRoute } from "../route.ts";
import { headers, problems, stateHeaders } from "../schemas.ts";

const LeaseBody = z
  .object({
    id: z.string().openapi({ example: "app~17" }),
    namespace: z.string(),
    ttlSeconds: z.number(),
    expiresAt: z.string().openapi({ format: "date-time" }),
  })
  .openapi("Lease");

const LeaseWithKeys = LeaseBody.extend({
  keys: z.array(z.string()).openapi({ description: "Keys attached (X-Edgecfg-Lease on PUT)" }),
}).openapi("LeaseWithKeys");

const GrantRequest = z
  .object({
    namespace: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/),
    ttlSeconds: z
      .number()
      .int()
      .min(storeLimits.leaseTtlMsMin / 1000)
      .max(storeLimits.leaseTtlMsMax / 1000),
  })
  .strict()
  .openapi("LeaseGrantRequest");

const IdParams = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, example: "app~17" }),
});

/** The lease's namespace, after the caller's scope is checked; 404 for an id never given out. */
async function leaseTarget(c: Ctx, op: "read" | "write"): Promise<[string, string]> {
  const id = c.req.param("id") ?? "";
  const namespace = leaseNamespace(id);
  if (namespace === null) throw notFound(`no lease ${JSON.stringify(id)}: ids look like app~17`);
  await authorize(c, namespace, op);
  return [id, namespace];
}

function leaseOutcome(o: WriteOutcome, id: string): Lease {
  if (o.type === "lease") return o.lease;
  if (o.type === "notFound") throw gone(id);
  throw outcomeProblem(o) ?? new Error(`unexpected outcome ${o.type}`);
}

const gone = (id: string) => notFound(`lease ${id} has expired or was revoked (or never was)`);

export const leaseGrant = defineRoute({
  method: "post",
  path: "/v1/leases",
  operationId: "grantLease",
  tags: ["coordination"],
  summary: "Grant a lease",
  description:
    "A TTL the holder keeps alive (POST .../keepalive, e.g. every third of it). " +
    "Keys written with " +
    "X-Edgecfg-Lease are deleted when it ends; locks it holds are released.",
  query: z.object({}).strict(),
  body: GrantRequest,
  headers: z.object({ "idempotency-key": z.string().optional() }),
  responses: {
    201: {
      description: "Granted",
      content: { "application/json": { schema: LeaseBody } },
      headers: headers("X-Edgecfg-Revision", "Idempotent-Replayed"),
    },
    ...problems(422, 507),
  },
  handler: async (c, { body }) => {
    await authorize(c, body.namespace, "write");
    const idem = await idempotencyKey(c);
    const { outcome, token } = await c.get("router").write(body.namespace, {
      type: "leaseGrant",
      atMs: Date.now(),
      namespace: body.namespace,
      ttlMs: body.ttlSeconds * 1000,
      ...(idem === undefined ? {} : { idempotencyKey: idem }),
    });
    const lease = leaseOutcome(outcome, "");
    const h: Record<string, string> = { [revisionHeader]: token };
    if (outcome.deduplicated) h[replayedHeader] = "true";
    return c.json(leaseJson(lease), 201, h);
  },
});

export const leaseKeepAlive = defineRoute({
  method: "post",
  path: "/v1/leases/{id}/keepalive",
  operationId: "keepAliveLease",
  tags: ["coordination"],
  summary: "Keep a lease alive",
  description: "Its expiry becomes now + its TTL. 404 once it has ended: grant a new one.",
  params: IdParams,
  query: z.object({}).strict(),
  responses: {
    200: {
      description: "Kept alive",
      content: { "application/json": { schema: LeaseBody.omit({ namespace: true }) } },
      headers: headers(...stateHeaders),
    },
    ...problems(404),
  },
  handler: async (c) => {
    const [id, namespace] = await leaseTarget(c, "write");
    const { outcome, token } = await c
      .get("router")
      .write(namespace, { type: "leaseKeepAlive", atMs: Date.now(), id });
    const { namespace: _, ...kept } = leaseJson(leaseOutcome(outcome, id));
    return c.json(kept, 200, { [revisionHeader]: token });
  },
});

export const leaseGet = defineRoute({
  method: "get",
  path: "/v1/leases/{id}",
  operationId: "getLease",
  tags: ["coordination"],
  summary: "Inspect a lease",
  params: IdParams,
  query: z.object({}).strict(),
  responses: {
    200: {
      description: "The lease",
      content: { "application/json": { schema: LeaseWithKeys } },
      headers: headers(...stateHeaders),
    },
    ...problems(404),
  },
  handler: async (c) => {
    const [id, namespace] = await leaseTarget(c, "read");
    const read = await c
      .get("router")
      .read(namespace, { type: "lease", id }, { consistency: "linearizable" });
    const lease = read.result.lease;
    if (lease === null) throw gone(id);
    return c.json({ ...leaseJson(lease), keys: lease.keys }, 200, { [revisionHeader]: read.token });
  },
});

export const leaseRevoke = defineRoute({
  method: "delete",
  path: "/v1/leases/{id}",
  operationId: "revokeLease",
  tags: ["coordination"],
  summary: "Revoke a lease",
  description: "Deletes every key attached (one delete revision, seen by watch); frees its locks.",
  params: IdParams,
  query: z.object({}).strict(),
  responses: {
    204: { description: "Revoked", headers: headers(...stateHeaders) },
    ...problems(404),
  },
  handler: async (c) => {
    const [id, namespace] = await leaseTarget(c, "write");
    const { outcome, token } = await c
      .get("router")
      .write(namespace, { type: "leaseRevoke", atMs: Date.now(), id, audit: commandAudit(c) });
    if (outcome.type === "notFound") throw gone(id);
    if (outcome.type !== "leaseEnded")
      throw outcomeProblem(outcome) ?? new Error(`unexpected outcome ${outcome.type}`);
    return c.body(null, 204, { [revisionHeader]: token });
  },
});
