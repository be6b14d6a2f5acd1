// GET /v1/kv/{key}/history: retained versions, newest first.
import { z } from "@hono/zod-openapi";
import { authorize } from "../auth.ts";
import { auditFields } from "./audit.ts";
import { readHeaders, readOptions } from "../consistency.ts";
import { historyJson } from "../entry.ts";
import { keyFromPath, namespaceOf } from "../keys.ts";
import { storeLimits } from "../limits.ts";
import { badRequest, notFound } from "../problem.ts";
import { defineRoute } from "../route.ts";
import { Consistency, headers, KeyParams, problems, readHeaderNames } from "../schemas.ts";

const HistoryResponse = z
  .object({
    key: z.string(),
    revision: z.number().int(),
    items: z.array(
      z.object({
        version: z.number().int().openapi({ description: "0 for the delete that ended a life" }),
        modRevision: z.number().int(),
        createRevision: z.number().int(),
        updatedAt: z.string().openapi({ format: "date-time" }),
        size: z.number().int(),
        contentType: z.string(),
        deleted: z.boolean(),
        ...auditFields,
      }),
    ),
  })
  .openapi("History");

export const kvHistory = defineRoute({
  method: "get",
  path: "/v1/kv/{namespace}/{name}/history",
  honoPath: "/v1/kv/:key{.+/history}",
  operationId: "getKeyHistory",
  tags: ["kv"],
  auth: "optional",
  summary: "Retained versions of a key",
  description:
    `Newest first; ${storeLimits.historyVersionsPerKeyDefault} versions per key are retained by default. ` +
    "Read one with GET /v1/kv/{key}?revision=<modRevision>.",
  params: KeyParams,
  query: z.object({ consistency: Consistency }).strict(),
  headers: z.object({ "x-edgecfg-min-revision": z.string().optional() }),
  responses: {
    200: {
      description: "History",
      content: { "application/json": { schema: HistoryResponse } },
      headers: headers(...readHeaderNames),
    },
    ...problems(404, 431),
  },
  handler: async (c, { query: q }) => {
    const key = keyFromPath(c.req.url, "/v1/kv/", "/history");
    const ns = namespaceOf(key);
    await authorize(c, ns, "read");
    const options = readOptions(c, q.consistency);
    const read = await c.get("router").read(ns, { type: "history", key }, options);
    const r = read.result;
    if (r.type === "notFound") throw notFound(`key ${JSON.stringify(key)} has no retained history`);
    if (r.type === "invalid") throw badRequest(r.detail);
    return c.json(
      { key, revision: r.revision, items: r.items.map(historyJson) },
      200,
      readHeaders(read, options),
    );
  },
});
