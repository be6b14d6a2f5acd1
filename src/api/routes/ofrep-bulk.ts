// POST /v1/ns/{namespace}/ofrep/v1/evaluate/flags: OFREP 0.3.0 bulk evaluation. Every flag of
// the namespace, evaluated against one revision; ETag = that revision, If-None-Match → 304.
import { z } from "@hono/zod-openapi";
import { authorize, authorizedNow } from "../auth.ts";
import { readHeaders, readOptions } from "../consistency.ts";
import type { Ctx } from "../context.ts";
import { formatETag, noneMatchHits, parseIfNoneMatchRead } from "../etag.ts";
import { checkNamespace } from "../keys.ts";
import { readAnswerHeaders } from "../read-response.ts";
import { ofrepAnswer, ofrepJson } from "../ofrep-answers.ts";
import { evaluationContext } from "../ofrep-context.ts";
import { flagSetOf, readFlagBundle } from "../ofrep-flags.ts";
import { minRevisionOf } from "../ofrep-min-revision.ts";
import { streamTicket } from "../ofrep-tickets.ts";
import { OfrepBulk, OfrepFailure, ofrepErrorResponses, ofrepQuery } from "../ofrep-schemas.ts";
import { defineRoute } from "../route.ts";
import { NamespaceParam } from "../schemas.ts";

/** The change stream to name: with a ticket, unless anyone may read the namespace anyway. */
async function eventStreamsOf(c: Ctx, namespace: string) {
  const path = `/v1/ns/${namespace}/ofrep/v1/events`;
  const open = c.get("principal")?.type === "anonymous";
  const ticket = open ? undefined : await streamTicket(c, namespace, Date.now());
  if (!open && ticket === undefined) return undefined;
  const requestUri = ticket === undefined ? path : `${path}?ticket=${ticket}`;
  return [{ type: "sse", endpoint: { requestUri }, inactivityDelaySec: 120 }];
}

async function bulk(
  c: Ctx,
  q: { consistency?: "linearizable" | "stale"; flagConfigEtag?: string },
) {
  const namespace = checkNamespace(c.req.param("namespace") ?? "");
  if (!authorizedNow(c, "read")) await authorize(c, namespace, "read");
  let options = readOptions(c, q.consistency);
  let { read, bundle } = await readFlagBundle(c.get("router"), namespace, options);
  const notified = minRevisionOf(q.flagConfigEtag);
  const stale = options.consistency === "stale";
  if (stale && notified !== undefined && bundle.namespaceRevision < notified) {
    // A change notification named a revision this replica has not applied yet: ask the leader.
    options = { ...options, consistency: "linearizable" };
    ({ read, bundle } = await readFlagBundle(c.get("router"), namespace, options));
  }
  const revision = bundle.namespaceRevision;
  const headers = () => ({
    ...readHeaders(read, options),
    ETag: formatETag(revision),
    "Cache-Control": "no-cache",
  });
  // What polling clients get nearly every time: the body is not read, since no evaluation is
  // sent (a malformed one is refused on the next 200), and the headers of a cached read are
  // built once.
  if (noneMatchHits(parseIfNoneMatchRead(c.req.header("If-None-Match")), revision)) {
    const answerHeaders = readAnswerHeaders(read, options, "ofrep-304", headers);
    return new Response(null, { status: 304, headers: answerHeaders });
  }
  const context = await evaluationContext(c);
  const flags = flagSetOf(namespace, bundle).evaluateAll(context);
  const eventStreams = await eventStreamsOf(c, namespace);
  const body = { flags, metadata: { namespace, revision }, ...(eventStreams && { eventStreams }) };
  return ofrepJson(200, body, headers());
}

export const ofrepBulk = defineRoute({
  method: "post",
  path: "/v1/ns/{namespace}/ofrep/v1/evaluate/flags",
  operationId: "evaluateFlags",
  tags: ["flags"],
  summary: "Evaluate every flag (OFREP bulk)",
  description:
    "OFREP 0.3.0 bulk evaluation over one namespace revision: flagd definitions with flagd's " +
    "semantics, other JSON values as static flags (reason STATIC, variant = the value's ETag). " +
    "ETag = the namespace revision; If-None-Match → 304. The request's location fills the " +
    "context's country and colo when it does not set them.",
  params: NamespaceParam,
  query: ofrepQuery,
  headers: z.object({ "if-none-match": z.string().optional() }),
  rawBody: { description: "OFREP evaluation request: {context: {…}}" },
  responses: {
    200: { description: "Every flag", content: { "application/json": { schema: OfrepBulk } } },
    304: { description: "Not modified: the namespace is still at the ETag sent" },
    400: { description: "Bad request", content: { "application/json": { schema: OfrepFailure } } },
    ...ofrepErrorResponses,
  },
  handler: (c, { query }) => ofrepAnswer(undefined, () => bulk(c, query)),
});
