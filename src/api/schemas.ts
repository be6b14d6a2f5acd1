// Zod schemas shared by routes: they validate requests and, through the OpenAPI registry,
// document every request and response. Route-specific schemas live beside their routes.
import { z } from "@hono/zod-openapi";
import { apiLimits } from "./limits.ts";

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

export const Problem = z
  .object({
    type: z.string().openapi({ example: "https://edgecfg.dev/problems/bad-request" }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    currentETag: z
      .union([z.string(), z.null()])
      .optional()
      .openapi({ description: "412 only: the key's current ETag; null when the key is absent" }),
    entry: z
      .union([Entry, z.null()])
      .optional()
      .openapi({ description: "412 only: the key's current entry; null when the key is absent" }),
    retryAfter: z
      .number()
      .int()
      .optional()
      .openapi({ description: "Seconds to wait before retrying (also in Retry-After)" }),
    errors: z
      .array(
        z
          .object({
            key: z.string(),
            pointer: z.string().openapi({ description: "RFC 6901 JSON Pointer into the value" }),
            message: z.string(),
          })
          .openapi("SchemaError"),
      )
      .optional()
      .openapi({
        description: "422 schema-violation only: each value at fault and where (bounded list)",
      }),
    dryRun: z
      .boolean()
      .optional()
      .openapi({ description: "true: a dry run (?dryRun=true) would have answered this" }),
    baseRevision: z.number().int().optional().openapi({
      description: "Dry runs judged by the shard: the namespace revision they were judged on",
    }),
    namespaceRevision: z.number().int().optional().openapi({
      description: "412 of an apply or rollback: the namespace's revision now (not ifRevision)",
    }),
  })
  .openapi("Problem");

/** A value inside a JSON document: JSON values inline, others as {contentType, base64}. */
export const EncodedValue = z.unknown().openapi("EncodedValue", {
  description:
    "JSON values (content type application/json or +json) inline; any other value as {contentType, base64}",
});

export const Consistency = z.enum(["linearizable", "stale"]).optional().openapi({
  description:
    "linearizable (default) reflects every acknowledged write; stale reads the nearest replica's applied state",
});

/** A flag in the query: `?meta` (empty), `?meta=true` or `?meta=false`; a boolean to tools. */
export const Flag = z
  .enum(["", "true", "false"])
  .optional()
  .openapi({ type: "boolean", param: { allowEmptyValue: true } } as never);

export const Wait = z
  .string()
  .optional()
  .openapi({
    description: `Long poll with If-None-Match: e.g. 30s, 1500ms, 1m; at most ${apiLimits.waitMsMax / 1000} s`,
    example: "30s",
  });

const namespacePattern = "^[a-z0-9][a-z0-9_.-]{0,62}$";

/**
 * A key in a URL: /v1/kv/{namespace}/{name}. Tools encode a path parameter's "/" as %2F, which the
 * server takes as a separator like "/" itself (src/api/keys.ts), so both forms name the same key.
 */
export const KeyParams = z.object({
  namespace: z.string().openapi({
    param: { name: "namespace", in: "path" },
    pattern: namespacePattern,
    example: "app",
    description: "The key's namespace (the first segment of the key)",
  }),
  name: z.string().openapi({
    param: { name: "name", in: "path" },
    example: "feature-flags",
    description:
      "The rest of the key: segments [A-Za-z0-9._~-]{1,128} separated by / (sent as %2F " +
      "when the name is a path parameter; a raw / works too), never . or .. or empty, not " +
      "ending in the segment history. The whole key is at most 512 bytes",
  }),
});

export const NamespaceParam = z.object({
  namespace: z.string().openapi({
    param: { name: "namespace", in: "path" },
    pattern: namespacePattern,
    example: "app",
  }),
});

type HeaderObject = { description: string; schema: { type: "string" }; required?: boolean };

function header(description: string, required = false): HeaderObject {
  return { description, schema: { type: "string" }, ...(required ? { required: true } : {}) };
}

/** X-Edgecfg-Fence of a fenced write (PUT, DELETE, txn). */
export const fenceHeaderSchema = z
  .string()
  .optional()
  .openapi({
    description:
      "{namespace}/{name}={fencing token}: applied only if that lock (of the same namespace) is " +
      "held with that token when the write commits; else 412 with problem type .../fenced",
    example: "app/migrations=1042",
  });

/** Response headers, documented once; each route lists the ones it sends. */
export const responseHeaders = {
  ETag: header("The entry's (or bundle's) strong validator, e.g. \"r1042\""),
  "Last-Modified": header("When the entry was last written (HTTP date)"),
  "X-Edgecfg-Version": header("The key's version (writes since it was created)"),
  "X-Edgecfg-Revision": header(
    "Consistency token of the state that answered (s<shard>.<revision>); " +
      "send it back as X-Edgecfg-Min-Revision",
  ),
  "X-Edgecfg-Applied-Revision": header(
    "Stale reads only: the answering replica's applied state, " +
      "a consistency token like X-Edgecfg-Revision",
  ),
  "Idempotent-Replayed": header(
    "true when the answer is the replayed first outcome of this Idempotency-Key",
  ),
  "X-Request-Id": header(
    "The request's id (the client's X-Request-Id, else made for the write): " +
      "the requestId its revision records",
  ),
  Location: header("The created key's URL, or the started operation's"),
  "X-Edgecfg-Dry-Run": header("true: a dry run answered; nothing was written"),
  "Retry-After": header("Seconds to wait before retrying"),
  "WWW-Authenticate": header('Bearer realm="edgecfg"'),
  "Cache-Control": header(
    "no-cache on reads (revalidate by ETag), no-store on problems and secrets",
  ),
} as const;

export type ResponseHeader = keyof typeof responseHeaders;

export function headers(...names: ResponseHeader[]): Record<string, HeaderObject> {
  return Object.fromEntries(names.map((n) => [n, responseHeaders[n]]));
}

/** Headers of every answer about stored state. */
export const stateHeaders: ResponseHeader[] = ["X-Edgecfg-Revision"];
/** Headers of a read. */
export const readHeaderNames: ResponseHeader[] = [
  "X-Edgecfg-Revision",
  "X-Edgecfg-Applied-Revision",
];

const problemContent = { "application/problem+json": { schema: Problem } };

type ProblemResponse = {
  description: string;
  content: typeof problemContent;
  headers: Record<string, HeaderObject>;
};

const problemDescriptions: Record<number, string> = {
  400: "The request is malformed (the detail says what to send)",
  401: "No token, or an unknown, revoked or expired one",
  403: "The token's scopes do not cover this",
  404: "Not found",
  409: "Conflict (e.g. a key held by a cross-shard txn being committed: see Retry-After)",
  410: "That version is no longer retained",
  412: "A precondition did not hold: currentETag and entry say what is there",
  413: "The body or a value is too large",
  414: "The URL is too long",
  415: "The body must be JSON (Content-Type: application/json)",
  431: "A request header is longer than any valid value of it",
  422: "Well-formed but refused (e.g. an Idempotency-Key reused for another request)",
  500: "An unexpected error (logged); retry a write with the same Idempotency-Key",
  503: "Unavailable for now (an election, no ADMIN_TOKEN, a misconfiguration): see Retry-After",
  507: "The shard's quota would be exceeded",
};

/** A route's error responses, documented once: every route may answer 400/401/403/414/500/503. */
export function problems(...statuses: number[]): Record<string, ProblemResponse> {
  const out: Record<string, ProblemResponse> = {};
  for (const s of [...new Set([400, 401, 403, 414, ...statuses, 500, 503])].sort()) {
    const names: ResponseHeader[] = ["X-Edgecfg-Revision", "Cache-Control"];
    if (s === 401) names.push("WWW-Authenticate");
    // 409: also a key held by a cross-shard txn being committed, which a retry soon finds free.
    if (s === 503 || s === 409) names.push("Retry-After");
    if (s === 412) names.push("ETag");
    if (s === 404) names.push("X-Edgecfg-Applied-Revision"); // a stale read's 404 says how old
    out[String(s)] = {
      description: problemDescriptions[s] ?? `Problem (${s})`,
      content: problemContent,
      headers: headers(...names),
    };
  }
  return out;
}
