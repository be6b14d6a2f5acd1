// GET /v1/kv?prefix={namespace}/…: entries in key order, paged by an opaque cursor.
import { z } from "@hono/zod-openapi";
import { authorize } from "../auth.ts";
import { readHeaders, readOptions } from "../consistency.ts";
import { entryJson } from "../entry.ts";
import { checkPrefix, namespaceOf } from "../keys.ts";
import { apiLimits } from "../limits.ts";
import { badRequest } from "../problem.ts";
import { defineRoute } from "../route.ts";
import {
  Consistency,
  EncodedValue,
  Entry,
  Flag,
  headers,
  problems,
  readHeaderNames,
} from "../schemas.ts";
import { encodeValue } from "../values.ts";

const query = z
  .object({
    prefix: z.string().openapi({
      description: "{namespace}/ or {namespace}/{partial name}: must name a namespace",
      example: "app/",
    }),
    limit: z
      .string()
      .regex(/^\d{1,4}$/, `must be an integer from 1 to ${apiLimits.listLimitMax}`)
      .optional()
      .openapi({
        type: "integer",
        minimum: 1,
        maximum: apiLimits.listLimitMax,

        description: `Entries per page, 1 to ${apiLimits.listLimitMax} (default ${apiLimits.listLimitMax})`,
      }),
    cursor: z
      .string()
      .max(1024)
      .optional()
      .openapi({ description: "Opaque: the cursor of the previous page" }),
    values: Flag.openapi({
      description: "true adds each value (JSON inline, others as {contentType, base64})",
    }),
    consistency: Consistency,
  })
  .strict();

const ListResponse = z
  .object({
    prefix: z.string(),
    revision: z.number().int().openapi({ description: "Shard revision of the listing" }),
    items: z.array(Entry.extend({ value: EncodedValue.optional() })),
    cursor: z
      .string()
      .nullable()
      .openapi({ description: "Pass as ?cursor= for the next page; null on the last page" }),
  })
  .openapi("List");

export const kvList = defineRoute({
  method: "get",
  path: "/v1/kv",
  operationId: "listKeys",
  tags: ["kv"],
  auth: "optional",
  summary: "List keys under a prefix",
  description: `Entries in key order (metadata; values=true adds values), at most ${apiLimits.listLimitMax} per page.`,
  query,
  headers: z.object({ "x-edgecfg-min-revision": z.string().optional() }),
  responses: {
    200: {
      description: "A page",
      content: { "application/json": { schema: ListResponse } },
      headers: headers(...readHeaderNames),
    },
    ...problems(431),
  },
  handler: async (c, { query: q }) => {
    const prefix = checkPrefix(q.prefix);
    const ns = namespaceOf(prefix);
    await authorize(c, ns, "read");
    const limit = q.limit === undefined ? undefined : Number(q.limit);
    if (limit !== undefined && (limit < 1 || limit > apiLimits.listLimitMax)) {
      throw badRequest(
        `limit=${limit} is out of range; use 1 to ${apiLimits.listLimitMax} and follow the cursor for more`,
      );
    }
    const values = q.values === "true" || q.values === "";
    const options = readOptions(c, q.consistency);
    const read = await c.get("router").read(
      ns,
      {
        type: "list",
        prefix,
        values,
        ...(limit === undefined ? {} : { limit }),
        ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
      },
      options,
    );
    const r = read.result;
    if (r.type === "invalid") throw badRequest(r.detail);
    const items = r.items.map((i) => ({
      ...entryJson(i.entry),
      ...(i.value ? { value: encodeValue(i.entry.contentType, i.value) } : {}),
    }));
    return c.json(
      { prefix, revision: r.revision, items, cursor: r.cursor },
      200,
      readHeaders(read, options),
    );
  },
});
