// GET /docs: an interactive API reference (Scalar) over GET /v1/openapi.json, when the var
// API_DOCS is "on". `npm start` turns it on; deployments have it off unless they set it: the page
// runs Scalar's script from a CDN on the API's own origin, and a reference invites pasting a
// bearer token into it, so a deployment opts in. The document itself stays public either way.
import { z } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import type { AppEnv, Ctx } from "../context.ts";
import { notFound } from "../problem.ts";
import { defineRoute } from "../route.ts";
import { problems } from "../schemas.ts";

const reference = Scalar<AppEnv>({ url: "/v1/openapi.json", pageTitle: "edgecfg API reference" });

/** Whether this deployment serves /docs (the var is not part of Env: only this route reads it). */
export function docsEnabled(c: Ctx): boolean {
  return (c.env as unknown as { API_DOCS?: string }).API_DOCS === "on";
}

export const docs = defineRoute({
  method: "get",
  path: "/docs",
  operationId: "getApiReference",
  tags: ["cluster"],
  auth: "none",
  summary: "Interactive API reference (HTML)",
  description:
    'Served when the var API_DOCS is "on" (npm start sets it; deployments opt in), else 404. ' +
    "It reads GET /v1/openapi.json.",
  query: z.object({}).strict(),
  responses: {
    200: { description: "The reference page", content: { "text/html": { schema: z.string() } } },
    404: problems(404)[404]!,
    400: problems()[400]!,
    414: problems()[414]!,
  },
  handler: async (c) => {
    if (!docsEnabled(c)) {
      throw notFound(
        "the API reference is off in this deployment: set the var " +
          'API_DOCS = "on" (wrangler.toml [vars]) to serve it, or read the document at ' +
          "GET /v1/openapi.json",
      );
    }
    return (await reference(c, async () => {})) as Response;
  },
});
