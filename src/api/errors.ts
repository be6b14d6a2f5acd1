// The error model's last line: anything a route throws, and any request no route takes, becomes
// a problem+json response. Known failures map to their status; anything else is a 500 whose
// detail reveals nothing (the error is logged).
import type { ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { BadTokenError, ClusterOperationError, ShardUnavailableError } from "../router/index.ts";
import { revisionHeader } from "./consistency.ts";
import type { AppEnv, Ctx } from "./context.ts";
import { pathOf } from "./keys.ts";
import { ApiProblem, problem, problemTypes, type ProblemInit } from "./problem.ts";
import { apiLimits } from "./limits.ts";
import { uriTooLong, type MountedPattern } from "./route.ts";

function withToken(c: Ctx, init: ProblemInit): ProblemInit {
  const token = c.get("observedToken");
  return token ? { ...init, headers: { [revisionHeader]: token, ...init.headers } } : init;
}

function errorProblem(err: unknown): ProblemInit {
  if (err instanceof ApiProblem) return err.init;
  if (err instanceof ShardUnavailableError) {
    const retryAfter = Math.max(1, Math.ceil(err.retryAfterMs / 1000));
    return {
      status: 503,
      type: problemTypes.unavailable,
      detail: `${err.message}; retry after ${retryAfter} s`,
      extensions: { retryAfter },
      headers: { "Retry-After": String(retryAfter) },
    };
  }
  if (err instanceof Error && err.name === "TopologyError") {
    return {
      status: 503,
      type: problemTypes.misconfigured,
      detail: `the deployment is misconfigured: ${err.message}`,
      extensions: { retryAfter: 60 },
      headers: { "Retry-After": "60" },
    };
  }
  // The runtime's own refusals that say a retry may work (a Durable Object reset or overloaded,
  // a connection to it lost): 503 with Retry-After, not the 500 of an unknown failure.
  if (isRetryable(err)) {
    return {
      status: 503,
      type: problemTypes.unavailable,
      detail:
        "the runtime could not complete the request this time; retry it (a write with the same " +
        "Idempotency-Key, which returns its outcome if it was applied)",
      extensions: { retryAfter: 1 },
      headers: { "Retry-After": "1" },
    };
  }
  if (err instanceof BadTokenError)
    return { status: 400, type: problemTypes.badRequest, detail: err.message };
  if (err instanceof ClusterOperationError) {
    const type = {
      400: problemTypes.badRequest,
      404: problemTypes.notFound,
      409: problemTypes.conflict,
    };
    return { status: err.status, type: type[err.status], detail: err.message };
  }
  if (err instanceof HTTPException && err.status < 500) {
    return {
      status: err.status,
      type: problemTypes.badRequest,
      detail: err.message || "the request is malformed",
    };
  }
  console.error("edgecfg: unexpected error", err);
  return {
    status: 500,
    type: problemTypes.internal,
    detail:
      "an unexpected error occurred (it is logged); a write may or may not have been applied: retry it with the " +
      "same Idempotency-Key to get its outcome",
  };
}

/** Workers runtime errors carry `retryable` / `overloaded` (Durable Object error handling). */
function isRetryable(err: unknown): boolean {
  const e = err as { retryable?: unknown; overloaded?: unknown } | null;
  return e !== null && typeof e === "object" && (e.retryable === true || e.overloaded === true);
}

function allowedMethods(patterns: MountedPattern[], path: string): string[] {
  const methods = new Set(patterns.filter((p) => p.regex.test(path)).map((p) => p.method));
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods].sort();
}

export function errorHandler(): ErrorHandler<AppEnv> {
  return function errorHandler(err, c) {
    return problem(withToken(c as Ctx, errorProblem(err)));
  };
}

/** 404 for paths no route takes; 405 with Allow for a known path and another method (OPTIONS never gets here: cors.ts answers it). */
export function notFoundHandler(patterns: MountedPattern[]): NotFoundHandler<AppEnv> {
  return function notFoundHandler(c) {
    if (c.req.url.length > apiLimits.urlBytesMax) return problem(uriTooLong(c.req.url.length).init);
    const path = pathOf(c.req.url);
    const methods = allowedMethods(patterns, path);
    if (methods.length === 0) {
      return problem({
        status: 404,
        type: problemTypes.notFound,
        detail: `no endpoint at ${path}; GET /v1/openapi.json lists them`,
      });
    }
    return problem({
      status: 405,
      type: problemTypes.methodNotAllowed,
      headers: { Allow: methods.join(", ") },
      detail: `${c.req.method} is not allowed on ${path}; use ${methods.join(", ")}`,
    });
  };
}
