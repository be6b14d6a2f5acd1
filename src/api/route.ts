// One way to declare an endpoint: its zod schemas document it (OpenAPI 3.1, via the registry of
// @hono/zod-openapi) and validate it (here), so the two cannot drift apart. We validate ourselves
// rather than through `app.openapi()` to control every error (unknown query parameters by name,
// body limits before parsing, problem+json throughout) and to route keys that span segments.
import { boundedHeader } from "./headers.ts";
import { z, type OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import { isJsonMediaType, parseJsonBytes, readBody } from "./body.ts";
import type { AppEnv, Ctx } from "./context.ts";
import { apiLimits, storeLimits } from "./limits.ts";
import { ApiProblem, excerpt, problemTypes } from "./problem.ts";
import { headers, problems } from "./schemas.ts";
import { queryRecord, validationProblem } from "./validation.ts";

type Method = "get" | "put" | "post" | "delete";

export interface RouteSpec<Q extends z.ZodType, B extends z.ZodType | undefined> {
  method: Method;
  /** OpenAPI path, e.g. "/v1/kv/{key}". */
  path: string;
  /** Hono pattern when it differs, e.g. "/v1/kv/:key{.+}" for keys with slashes. */
  honoPath?: string;
  /** The OpenAPI operationId: what generated clients name the call. */
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  params?: z.ZodObject;
  query: Q;
  /** Documented request headers. */
  headers?: z.ZodObject;
  /** A JSON body, validated by this schema (with `bodyBytesMax`). */
  body?: B;
  bodyBytesMax?: number;
  /** A body of any media type, read by the handler itself (documented, not validated here). */
  rawBody?: { description: string };
  responses: RouteConfig["responses"];
  /**
   * What the document says about tokens (authorization itself is each handler's call): "none"
   * (health), "optional" (reads: a public-read namespace needs none), default "required".
   */
  auth?: "none" | "optional";
  handler: (
    c: Ctx,
    input: { query: z.output<Q>; body: B extends z.ZodType ? z.output<B> : undefined },
  ) => Promise<Response>;
}

export interface MountedPattern {
  method: string;
  regex: RegExp;
}

export function defineRoute<Q extends z.ZodType, B extends z.ZodType | undefined = undefined>(
  spec: RouteSpec<Q, B>,
): RouteSpec<Q, B> {
  return spec;
}

/** A value's body by media type: JSON values are JSON, text is text, anything else bytes. */
export const valueContent = {
  "application/json": { schema: z.unknown().openapi({ description: "Any JSON value" }) },
  "text/plain": { schema: z.string() },
  "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) },
  "*/*": { schema: z.string().openapi({ format: "binary" }) },
};

const security: Record<"none" | "optional", Array<Record<string, string[]>>> = {
  none: [],
  optional: [{ bearer: [] }, {}],
};

/** Every write takes a reason and a request id, and answers with the id (audit.ts). */
const writeRequestHeaders = {
  "x-edgecfg-reason": z
    .string()
    .optional()
    .openapi({
      description:
        "Why this write is made, recorded with its revision " +
        `(at most ${storeLimits.auditReasonBytesMax} bytes of UTF-8); see GET /v1/audit`,
      example: "raise the checkout timeout for the sale",
    }),
  "x-request-id": z.string().optional().openapi({
    description:
      "The request's id, recorded with the revision and echoed; the API makes one when absent",
  }),
};

function withRequestId(responses: RouteConfig["responses"]): RouteConfig["responses"] {
  const out: RouteConfig["responses"] = {};
  for (const [status, r] of Object.entries(responses)) {
    const ok = status.startsWith("2") && !("$ref" in r);
    out[status] = ok ? { ...r, headers: { ...r.headers, ...headers("X-Request-Id") } } : r;
  }
  return out;
}

function openApiConfig(spec: RouteSpec<z.ZodType, z.ZodType | undefined>): RouteConfig {
  const request: NonNullable<RouteConfig["request"]> = { query: spec.query as z.ZodObject };
  const write = spec.method !== "get";
  if (spec.params) request.params = spec.params;
  if (spec.headers || write)
    request.headers = (spec.headers ?? z.object({})).extend(write ? writeRequestHeaders : {});
  let responses = write ? withRequestId(spec.responses) : spec.responses;
  if (spec.body) {
    request.body = { required: true, content: { "application/json": { schema: spec.body } } };
    responses = { ...problems(415, 431), ...responses }; // the route's own entries win
  }
  if (spec.rawBody)
    request.body = { required: true, description: spec.rawBody.description, content: valueContent };
  return {
    method: spec.method,
    path: spec.path,
    operationId: spec.operationId,
    summary: spec.summary,
    description: spec.description,
    tags: spec.tags,
    request,
    responses,
    ...(spec.auth ? { security: security[spec.auth] } : {}),
  };
}

function honoPattern(spec: RouteSpec<z.ZodType, z.ZodType | undefined>): string {
  return spec.honoPath ?? spec.path.replaceAll(/\{(\w+)\}/g, ":$1");
}

/** Regex of a Hono pattern, for 405 detection: ":name{re}" → (re), ":name" → one segment. */
function patternRegex(pattern: string): RegExp {
  const body = pattern
    .split(/(:\w+(?:\{[^}]+\})?)/)
    .map((part) => {
      const m = /^:\w+(?:\{([^}]+)\})?$/.exec(part);
      if (m) return m[1] ? `(?:${m[1]})` : "[^/]+";
      return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("");
  return new RegExp(`^${body}$`);
}

async function jsonBody(c: Ctx, schema: z.ZodType, bytesMax: number): Promise<unknown> {
  const contentType = boundedHeader(c, "Content-Type") ?? "";
  if (!isJsonMediaType(contentType)) {
    throw new ApiProblem({
      status: 415,
      type: problemTypes.unsupportedMediaType,
      detail: `this endpoint takes a JSON body: send Content-Type: application/json (got ${excerpt(contentType)})`,
    });
  }
  const parsed = parseJsonBytes(await readBody(c.req.raw, bytesMax), "the request body");
  const result = schema.safeParse(parsed);
  if (!result.success) throw validationProblem("body", result.error, parsed);
  return result.data;
}

/** 414 as problem+json, for URLs the runtime passes on but no request of this API needs. */
export function uriTooLong(length: number): ApiProblem {
  return new ApiProblem({
    status: 414,
    type: problemTypes.uriTooLong,
    detail:
      `the URL is ${length} bytes; at most ${apiLimits.urlBytesMax} are accepted (a key is at ` +
      "most 512 bytes): send long data in a body, e.g. POST /v1/txn",
  });
}

/** Distinct query strings remembered per route (then forgotten all at once). */
const parsedQueriesMax = 256;

export function mountRoute(
  app: OpenAPIHono<AppEnv>,
  spec: RouteSpec<z.ZodType, z.ZodType | undefined>,
  patterns: MountedPattern[],
): void {
  app.openAPIRegistry.registerPath(openApiConfig(spec));
  const pattern = honoPattern(spec);
  patterns.push({ method: spec.method.toUpperCase(), regex: patternRegex(pattern) });
  // Parsed queries by their text: polling apps send the same few (`?consistency=stale`) all day.
  // Frozen, so a handler cannot change what the next request gets.
  const parsedQueries = new Map<string, unknown>();
  app.on(spec.method.toUpperCase(), pattern, async (c) => {
    const url = c.req.url;
    if (url.length > apiLimits.urlBytesMax) throw uriTooLong(url.length);
    const at = url.indexOf("?");
    const search = at < 0 ? "" : url.slice(at);
    let query = parsedQueries.get(search);
    if (query === undefined) {
      const record = queryRecord(url);
      const parsed = spec.query.safeParse(record);
      if (!parsed.success) throw validationProblem("query", parsed.error, record);
      query = Object.freeze(parsed.data);
      if (parsedQueries.size >= parsedQueriesMax) parsedQueries.clear();
      parsedQueries.set(search, query);
    }
    const body = spec.body
      ? await jsonBody(c, spec.body, spec.bodyBytesMax ?? apiLimits.smallBodyBytesMax)
      : undefined;
    return spec.handler(c, { query: query as z.output<z.ZodType>, body: body as never });
  });
}
