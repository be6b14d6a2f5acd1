// The HTTP API as a Hono app: every route of http-api.md, declared once (schemas → validation and
// OpenAPI 3.1), behind one error model (problem+json) and one door to the data (the Router).
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { PatternRouter } from "hono/router/pattern-router";
import type { Router } from "../router/index.ts";
import type { ApiBindings, AppEnv } from "./context.ts";
import { auditContext } from "./audit.ts";
import { cors } from "./cors.ts";
import { errorHandler, notFoundHandler } from "./errors.ts";
import { defineRoute, mountRoute, type MountedPattern, type RouteSpec } from "./route.ts";
import { problems } from "./schemas.ts";
import { routerContext } from "./router-context.ts";
import { mountDevFaults } from "./routes/dev-faults.ts";
import { routes } from "./routes/index.ts";

const apiDescription = [
  "A strongly consistent configuration store on Cloudflare Workers (the contract: docs http-api.md).",
  "Auth: Authorization: Bearer <token>, the ADMIN_TOKEN secret or a token minted by POST /v1/tokens. A namespace marked " +
    "public-read (PUT /v1/ns/{namespace}/settings {publicRead: true}) is readable without a token. Without ADMIN_TOKEN every " +
    "write is refused (503).",
  "Errors are application/problem+json (RFC 9457). Responses that read or wrote state carry X-Edgecfg-Revision, a consistency " +
    "token (s<shard>.<revision>) to send back as X-Edgecfg-Min-Revision.",
  "A key is {namespace}/{name}: in paths /v1/kv/{namespace}/{name}, the name's " +
    '"/" sent as %2F or as "/" itself. Keys may not end in the segment "history": ' +
    "GET /v1/kv/{namespace}/{name}/history reads a key's history.",
].join("\n\n");

/** The OpenAPI 3.1 document of `app`, served from `origin` (the request's own, when served). */
export function openApiDocument(app: OpenAPIHono<AppEnv>, origin: string) {
  return app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: { title: "edgecfg", version: "1", description: apiDescription },
    servers: [{ url: origin, description: "This deployment" }],
    security: [{ bearer: [] }],
    tags: [
      { name: "kv", description: "Keys: read, write, list, history, transactions, watch" },
      { name: "namespaces", description: "Namespace bundles and settings" },
      { name: "tokens", description: "Scoped bearer tokens (admin)" },
      { name: "coordination", description: "Leases, and locks with fencing tokens" },
      { name: "cluster", description: "Topology, health and this document" },
    ],
  });
}

function openApiRoute(app: OpenAPIHono<AppEnv>) {
  return defineRoute({
    method: "get",
    path: "/v1/openapi.json",
    operationId: "getOpenApiDocument",
    summary: "This document (OpenAPI 3.1)",
    tags: ["cluster"],
    auth: "none",
    query: z.object({}).strict(),
    responses: {
      200: {
        description: "OpenAPI 3.1",
        content: { "application/json": { schema: z.object({}) } },
      },
      400: problems()[400]!,
      414: problems()[414]!,
    },
    handler: async (c) => c.json(openApiDocument(app, new URL(c.req.url).origin)),
  }) as unknown as RouteSpec<z.ZodType, z.ZodType | undefined>;
}

export interface AppOptions {
  /** The Router backing the API, chosen per deployment (see src/index.ts). */
  router: (env: ApiBindings) => Router;
}

export function createApp(options: AppOptions): OpenAPIHono<AppEnv> {
  // PatternRouter: one regex per route, tried in order. Keys span segments (`:key{.+}`), which
  // Hono's default RegExpRouter refuses, and its TrieRouter fallback costs ~2 µs more per
  // request (profiled): a fifth of what a cached stale read costs beyond /healthz.
  const app = new OpenAPIHono<AppEnv>({ router: new PatternRouter() });
  const patterns: MountedPattern[] = [];
  // Browsers may call the API from any origin (public-read config is fetched by apps); bearer
  // tokens are not cookies, so allowing any origin exposes nothing a script could not send anyway.
  app.use(cors());
  app.use(auditContext());
  app.use(routerContext({ create: options.router }));
  for (const route of routes) mountRoute(app, route, patterns);
  mountRoute(app, openApiRoute(app), patterns);
  mountDevFaults(app);
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description:
      "The ADMIN_TOKEN secret or a token minted by POST /v1/tokens; none for public-read namespaces",
  });
  app.notFound(notFoundHandler(patterns));
  app.onError(errorHandler());
  return app;
}
