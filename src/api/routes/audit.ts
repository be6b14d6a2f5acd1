// GET /v1/audit?namespace={ns}: the namespace's revisions newest first, with who made each, when
// and why (src/store/audit.ts keeps them as long as the revision's history). Who may read it: the
// same callers as a key's history (read scope on the namespace, or anyone for a public-read one),
// since history items carry the same fields; as in etcd, reading a key's past is a read. The
// reserved `_sys` (token and settings changes, kept by the `_sys` shard) needs admin on "*".
import { z } from "@hono/zod-openapi";
import { systemNamespace, type AuditItem } from "../../store/index.ts";
import { authorize } from "../auth.ts";
import { readHeaders, readOptions } from "../consistency.ts";
import { auditJson } from "../entry.ts";
import { checkNamespace } from "../keys.ts";
import { apiLimits, storeLimits } from "../limits.ts";
import { badRequest } from "../problem.ts";
import { defineRoute } from "../route.ts";
import { Consistency, headers, problems, readHeaderNames } from "../schemas.ts";

export const Actor = z
  .object({
    kind: z.enum(["admin", "token", "system"]).openapi({
      description:
        "admin: the ADMIN_TOKEN (or a service binding, named so); token: a minted token; " +
        "system: the store itself (a lease that expired deleted its keys)",
    }),
    id: z.string().optional().openapi({ description: "The token's id", example: "tok_0123" }),
    name: z.string().optional().openapi({ description: "The token's name, as minted" }),
  })
  .openapi("Actor");

/** What history items and watch events add: who and why of the version's revision. */
export const auditFields = {
  at: z.string().openapi({ format: "date-time", description: "When the write was made" }),
  actor: Actor.optional().openapi({
    description: "Absent only for versions written before audit records existed",
  }),
  reason: z.string().optional().openapi({ description: "X-Edgecfg-Reason of the write" }),
  requestId: z
    .string()
    .optional()
    .openapi({ description: "X-Request-Id of the write (absent for system revisions)" }),
};

const AuditEntry = z
  .object({
    revision: z.number().int(),
    ...auditFields,
    actor: Actor,
    op: z.string().openapi({
      description:
        "The write: put, delete, txn (also PUT with If-Match: *), leaseRevoke, leaseExpire; " +
        "in _sys tokenCreate, tokenRevoke, namespaceSet",
      example: "put",
    }),
    keys: z.array(z.string()).openapi({
      description: "Keys it wrote; in _sys _sys/tokens/{id} or _sys/settings/{namespace}",
    }),
  })
  .openapi("AuditEntry");

const AuditResponse = z
  .object({
    namespace: z.string(),
    revision: z.number().int().openapi({ description: "Shard revision of the answer" }),
    items: z.array(AuditEntry),
    cursor: z
      .string()
      .nullable()
      .openapi({ description: "Pass as ?cursor= for older revisions; null on the last page" }),
  })
  .openapi("AuditList");

const query = z
  .object({
    namespace: z.string().openapi({ description: "A namespace, or _sys (admin)", example: "app" }),
    limit: z
      .string()
      .regex(/^\d{1,4}$/, `must be an integer from 1 to ${apiLimits.listLimitMax}`)
      .optional()
      .openapi({
        type: "integer",
        minimum: 1,
        maximum: apiLimits.listLimitMax,
        description: `Revisions per page (default ${storeLimits.auditLimitDefault})`,
      }),
    cursor: z
      .string()
      .max(64)
      .optional()
      .openapi({ description: "Opaque: the cursor of the previous page" }),
    consistency: Consistency,
  })
  .strict();

function itemJson(r: AuditItem) {
  return {
    revision: r.revision,
    ...auditJson(r.atMs, r),
    actor: r.actor ?? { kind: "system" as const },
    op: r.op,
    keys: r.keys,
  };
}

export const auditList = defineRoute({
  method: "get",
  path: "/v1/audit",
  operationId: "listAudit",
  tags: ["namespaces"],
  auth: "optional",
  summary: "Who changed a namespace, when and why",
  description:
    "Revisions newest first, each with its actor, time, reason, request id, operation and keys. " +
    "Kept as long as the revision's history (see GET /v1/kv/{key}/history). Needs read on the " +
    "namespace, as history does; namespace=_sys (token and settings changes) needs admin.",
  query,
  headers: z.object({ "x-edgecfg-min-revision": z.string().optional() }),
  responses: {
    200: {
      description: "A page",
      content: { "application/json": { schema: AuditResponse } },
      headers: headers(...readHeaderNames),
    },
    ...problems(431),
  },
  handler: async (c, { query: q }) => {
    const system = q.namespace === systemNamespace;
    const namespace = system ? systemNamespace : checkNamespace(q.namespace);
    await authorize(c, system ? "*" : namespace, system ? "admin" : "read");
    const limit = q.limit === undefined ? undefined : Number(q.limit);
    if (limit !== undefined && (limit < 1 || limit > apiLimits.listLimitMax))
      throw badRequest(`limit=${limit} is out of range; use 1 to ${apiLimits.listLimitMax}`);
    const options = readOptions(c, q.consistency);
    const read = await c.get("router").read(
      namespace,
      {
        type: "audit",
        namespace,
        ...(limit === undefined ? {} : { limit }),
        ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
      },
      options,
    );
    const r = read.result;
    if (r.type === "invalid") throw badRequest(r.detail);
    const body = {
      namespace,
      revision: r.revision,
      items: r.items.map(itemJson),
      cursor: r.cursor,
    };
    return c.json(body, 200, readHeaders(read, options));
  },
});
