// POST /v1/ns/{namespace}/ofrep/v1/evaluate/flags/{key}: OFREP 0.3.0 single evaluation. The
// key is the name in the namespace, `/` percent-encoded (%2F) or not. 404 FLAG_NOT_FOUND, 400
// for a flag that fails to evaluate (PARSE_ERROR, GENERAL) or a bad context.
import { authorize, authorizedNow } from "../auth.ts";
import { readHeaders, readOptions } from "../consistency.ts";
import type { Ctx } from "../context.ts";
import { isFailure } from "../../flags/index.ts";
import { checkNamespace, pathOf } from "../keys.ts";
import { ofrepAnswer, ofrepJson } from "../ofrep-answers.ts";
import { evaluationContext } from "../ofrep-context.ts";
import { flagSetOf, readFlagBundle } from "../ofrep-flags.ts";
import { OfrepFailure, ofrepErrorResponses, ofrepQuery, OfrepSuccess } from "../ofrep-schemas.ts";
import { defineRoute } from "../route.ts";
import { NamespaceParam } from "../schemas.ts";
import { z } from "@hono/zod-openapi";

const marker = "/ofrep/v1/evaluate/flags/";

/** The flag key from the raw path: everything after the marker, percent-decoded. */
function flagKeyOf(url: string): string {
  const path = pathOf(url);
  const raw = path.slice(path.indexOf(marker) + marker.length);
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw; // not valid percent-encoding: no flag has that name, so FLAG_NOT_FOUND
  }
}

async function single(c: Ctx, key: string, consistency: "linearizable" | "stale" | undefined) {
  const namespace = checkNamespace(c.req.param("namespace") ?? "");
  if (!authorizedNow(c, "read")) await authorize(c, namespace, "read");
  const context = await evaluationContext(c);
  const options = readOptions(c, consistency);
  const { read, bundle } = await readFlagBundle(c.get("router"), namespace, options);
  const evaluation = flagSetOf(namespace, bundle).evaluate(key, context);
  const headers = { ...readHeaders(read, options), "Cache-Control": "no-store" };
  if (!isFailure(evaluation)) return ofrepJson(200, evaluation, headers);
  return ofrepJson(evaluation.errorCode === "FLAG_NOT_FOUND" ? 404 : 400, evaluation, headers);
}

export const ofrepSingle = defineRoute({
  method: "post",
  path: "/v1/ns/{namespace}/ofrep/v1/evaluate/flags/{key}",
  operationId: "evaluateFlag",
  honoPath: "/v1/ns/:namespace/ofrep/v1/evaluate/flags/:key{.+}",
  tags: ["flags"],
  summary: "Evaluate one flag (OFREP single)",
  description:
    "OFREP 0.3.0 single evaluation of the name {key} (percent-encode /) in the namespace, " +
    "against the context of the body; the request's location fills country and colo.",
  params: NamespaceParam.extend({
    key: z.string().openapi({ param: { name: "key", in: "path" }, example: "beta" }),
  }),
  query: ofrepQuery,
  rawBody: { description: "OFREP evaluation request: {context: {…}}" },
  responses: {
    200: { description: "The flag", content: { "application/json": { schema: OfrepSuccess } } },
    400: {
      description: "Bad request or evaluation error",
      content: { "application/json": { schema: OfrepFailure } },
    },
    404: { description: "No such flag", content: { "application/json": { schema: OfrepFailure } } },
    ...ofrepErrorResponses,
  },
  handler: (c, { query }) => {
    const key = flagKeyOf(c.req.url);
    return ofrepAnswer(key, () => single(c, key, query.consistency));
  },
});
