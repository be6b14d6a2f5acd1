// The HTTP API as a Hono app: every route of http-api.md, declared once (schemas → validation and
// OpenAPI 3.1), behind one error model (problem+json) and one door to the data (the Router).
import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import type { Env } from "../env.ts";
import { BadTokenError, UnavailableError, type Router } from "../router/types.ts";
import { revisionHeader } from "./consistency.ts";
import type { AppEnv, Ctx } from "./context.ts";
import { ApiProblem, problem, problemTypes, type ProblemInit } from "./problem.ts";
import { mountRoute, type MountedPattern } from "./route.ts";
import { routerContext } from "./router-context.ts";
import { routes } from "./routes/index.ts";

const apiDescription = [
  "A strongly consistent configuration store on Cloudflare Workers (the contract: docs http-api.md).",
  "Auth: Authorization: Bearer <token>, the ADMIN_TOKEN secret or a token minted by POST /v1/tokens. A namespace marked " +
    "public-read (PUT /v1/ns/{namespace}/settings {publicRead: true}) is readable without a token. Without ADMIN_TOKEN every " +
    "write is refused (503).",
  "Errors are application/problem+json (RFC 9457). Responses that read or wrote state carry X-Edgecfg-Revision, a consistency " +
    "token (s<shard>.<revision>) to send back as X-Edgecfg-Min-Revision.",
  "Keys may not end in the segment \"history\": GET /v1/kv/{key}/history reads a key's history.",
].join("\n\n");

export interface AppOptions {
  /** The Router backing the API, chosen per deployment (see src/index.ts). */
  router: (env: Env) => Router;
}

function withToken(c: Ctx, init: ProblemInit): ProblemInit {
  const token = c.get("observedToken");
  return token ? { ...init, headers: { [revisionHeader]: token, ...init.headers } } : init;
}

function errorProblem(err: unknown): ProblemInit {
  if (err instanceof ApiProblem) return err.init;
  if (err instanceof UnavailableError) {
    const retryAfter = Math.max(1, Math.ceil(err.retryAfterMs / 1000));
    return { status: 503, type: problemTypes.unavailable, detail: `${err.message}; retry after ${retryAfter} s`,
      extensions: { retryAfter }, headers: { "Retry-After": String(retryAfter) } };
  }
  if (err instanceof Error && err.name === "TopologyError") {
    return { status: 503, type: problemTypes.misconfigured, detail: `the deployment is misconfigured: ${err.message}`,
      extensions: { retryAfter: 60 }, headers: { "Retry-After": "60" } };
  }
  if (err instanceof BadTokenError) return { status: 400, type: problemTypes.badRequest, detail: err.message };
  if (err instanceof HTTPException && err.status < 500) {
    return { status: err.status, type: problemTypes.badRequest, detail: err.message || "the request is malformed" };
  }
  console.error("edgecfg: unexpected error", err);
  return { status: 500, type: problemTypes.internal,
    detail: "an unexpected error occurred; nothing is known to have been written unless a retry with the same Idempotency-Key says so" };
}

function allowed(patterns: MountedPattern[], path: string): string[] {
  const methods = new Set(patterns.filter((p) => p.regex.test(path)).map((p) => p.method));
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods].sort();
}

export function createApp(options: AppOptions): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  const patterns: MountedPattern[] = [];
  app.use(routerContext({ create: options.router }));
  app.use(async function revisionOnResponses(c, next) {
    await next();
    const token = c.get("observedToken");
    if (token && !c.res.headers.has(revisionHeader)) c.res.headers.set(revisionHeader, token);
  });
  for (const route of routes) mountRoute(app, route, patterns);
  app.get("/v1/openapi.json", (c) => c.json(app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: { title: "edgecfg", version: "1", description: apiDescription },
    security: [{ bearer: [] }],
  })));
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer",
    description: "The ADMIN_TOKEN secret or a token minted by POST /v1/tokens; none for public-read namespaces" });
  patterns.push({ method: "GET", regex: /^\/v1\/openapi\.json$/ });
  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    const methods = allowed(patterns, path);
    if (methods.length === 0) {
      return problem({ status: 404, type: problemTypes.notFound, detail: `no endpoint at ${path}; GET /v1/openapi.json lists them` });
    }
    if (c.req.method === "OPTIONS") return new Response(null, { status: 204, headers: { Allow: methods.join(", ") } });
    return problem({ status: 405, type: problemTypes.methodNotAllowed, headers: { Allow: methods.join(", ") },
      detail: `${c.req.method} is not allowed on ${path}; use ${methods.join(", ")}` });
  });
  app.onError((err, c) => problem(withToken(c as Ctx, errorProblem(err))));
  return app;
}
