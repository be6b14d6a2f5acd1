// Zod schemas shared by routes: they validate requests and, through the OpenAPI registry,
// document every request and response. Route-specific schemas live beside their routes.
import { z } from "@hono/zod-openapi";
import { apiLimits } from "./limits.ts";

export const Problem = z
  .object({
    type: z.string().openapi({ example: "https://edgecfg.dev/problems/bad-request" }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    currentETag: z.string().optional().openapi({ description: "412 only: the key's current ETag" }),
    entry: z.unknown().optional().openapi({ description: "412 only: the key's current entry" }),
    retryAfter: z
      .number()
      .int()
      .optional()
      .openapi({ description: "Seconds to wait before retrying (also in Retry-After)" }),
  })
  .openapi("Problem");

export const Entry = z
  .object({
    key: z.string(),
    contentType: z.string(),
    size: z.number().int().openapi({ description: "Value length in bytes" }),
    version: z
      .number()
      .int()
      .openapi({ description: "Writes since this life of the key began: 1 on create" }),
    createRevision: z.number().int(),
    modRevision: z.number().int().openapi({ description: "The ETag, as a number" }),
    updatedAt: z.string().openapi({ format: "date-time" }),
  })
  .openapi("Entry");

/** A value inside a JSON document: JSON values inline, others as {contentType, base64}. */
export const EncodedValue = z.unknown().openapi("EncodedValue", {
  description:
    "JSON values (content type application/json or +json) inline; any other value as {contentType, base64}",
});

export const Consistency = z.enum(["linearizable", "stale"]).optional().openapi({
  description:
    "linearizable (default) reflects every acknowledged write; stale reads the nearest replica's applied state",
});

export const Flag = z.enum(["", "true", "false"]).optional();

export const Wait = z
  .string()
  .optional()
  .openapi({
    description: `Long poll with If-None-Match: e.g. 30s, 1500ms, 1m; at most ${apiLimits.waitMsMax / 1000} s`,
    example: "30s",
  });

export const KeyParam = z.object({
  key: z.string().openapi({
    param: { name: "key", in: "path" },
    example: "app/feature-flags",
    description:
      "{namespace}/{name}: namespace [a-z0-9][a-z0-9_.-]{0,62}; name segments [A-Za-z0-9._~-]{1,128}, " +
      "never . or .. or empty, not ending in the segment history; at most 512 bytes; %2F is rejected",
  }),
});

export const NamespaceParam = z.object({
  namespace: z.string().openapi({ param: { name: "namespace", in: "path" }, example: "app" }),
});

const problemContent = { "application/problem+json": { schema: Problem } };

/** The error responses of a route, documented once. */
export function problems(
  ...statuses: number[]
): Record<string, { description: string; content: typeof problemContent }> {
  const out: Record<string, { description: string; content: typeof problemContent }> = {};
  for (const s of [400, 401, 403, ...statuses, 503])
    out[String(s)] = { description: `Problem (${s})`, content: problemContent };
  return out;
}
