// GET /v1/ns/{namespace}/ofrep/v1/events: the change stream a bulk evaluation names in its
// eventStreams (OFREP ADR-0008). Server-Sent Events, each `message` with data
// {"type":"refetchEvaluation","etag":"\"r<revision>\""} and id = that revision; the first tells
// the namespace's revision at connect (so a change between the bulk read and the connection is
// not lost), unless Last-Event-ID already names it. Admission: ?ticket= from the bulk answer, or
// a read like any other (public-read, or an Authorization header).
import { z } from "@hono/zod-openapi";
import type { Router } from "../../router/index.ts";
import { authorize } from "../auth.ts";
import type { Ctx } from "../context.ts";
import { formatETag } from "../etag.ts";
import { checkNamespace } from "../keys.ts";
import { apiLimits } from "../limits.ts";
import { readFlagBundle } from "../ofrep-flags.ts";
import { ticketAdmits } from "../ofrep-tickets.ts";
import { ApiProblem, problemTypes } from "../problem.ts";
import { defineRoute } from "../route.ts";
import { NamespaceParam, problems } from "../schemas.ts";
import { sseStream } from "../sse.ts";

type Stream = ReturnType<typeof sseStream>;

function refetch(stream: Stream, revision: number) {
  const data = { type: "refetchEvaluation", etag: formatETag(revision) };
  return stream.write({ event: "message", data, id: revision });
}

async function pump(router: Router, ns: string, from: number, seen: number | undefined, s: Stream) {
  const deadline = Date.now() + apiLimits.watchStreamMsMax;
  let revision = from;
  let alive = seen === revision ? true : await refetch(s, revision);
  while (alive && Date.now() < deadline) {
    const timeoutMs = Math.min(apiLimits.watchProgressMs, deadline - Date.now());
    const waited = await router.waitForChange(ns, { afterRevision: revision, timeoutMs });
    if (!waited.changed) {
      alive = await s.write({ event: "ping", data: { revision } });
      continue;
    }
    const options = { consistency: "linearizable", minToken: waited.token } as const;
    const { bundle } = await readFlagBundle(router, ns, options);
    if (bundle.namespaceRevision <= revision) continue;
    revision = bundle.namespaceRevision;
    alive = await refetch(s, revision);
  }
  await s.close();
}

async function admit(c: Ctx, namespace: string, ticket: string | undefined) {
  if (ticket === undefined) return authorize(c, namespace, "read");
  if (await ticketAdmits(c, namespace, ticket, Date.now())) return;
  throw new ApiProblem({
    status: 401,
    type: problemTypes.unauthorized,
    detail:
      "the ticket is not valid for this namespace or has expired: " +
      "evaluate again (bulk) for a new stream URL",
  });
}

function lastEventId(c: Ctx): number | undefined {
  const id = c.req.header("Last-Event-ID")?.trim();
  return id !== undefined && /^\d{1,15}$/.test(id) ? Number(id) : undefined;
}

export const ofrepEvents = defineRoute({
  method: "get",
  path: "/v1/ns/{namespace}/ofrep/v1/events",
  operationId: "flagEvents",
  tags: ["flags"],
  summary: "Flag change notifications (OFREP event stream)",
  description:
    "Server-Sent Events: message {type: refetchEvaluation, etag} on every change of the " +
    "namespace (id = its revision), first the revision at connect. The URL with its ticket " +
    "comes from a bulk evaluation's eventStreams.",
  params: NamespaceParam,
  query: z.object({ ticket: z.string().optional() }),
  headers: z.object({ "last-event-id": z.string().optional() }),
  responses: {
    200: {
      description: "An event stream",
      content: { "text/event-stream": { schema: z.string() } },
    },
    ...problems(),
  },
  handler: async (c, { query }) => {
    const namespace = checkNamespace(c.req.param("namespace") ?? "");
    await admit(c, namespace, query.ticket);
    const router = c.get("router");
    const { bundle } = await readFlagBundle(router, namespace, { consistency: "linearizable" });
    const stream = sseStream();
    const done = pump(router, namespace, bundle.namespaceRevision, lastEventId(c), stream).catch(
      () => stream.close(),
    );
    try {
      c.executionCtx.waitUntil(done);
    } catch {
      // No execution context (app.request in tests): the stream still runs while it is read.
    }
    const headers = { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" };
    return new Response(stream.readable, { status: 200, headers });
  },
});
