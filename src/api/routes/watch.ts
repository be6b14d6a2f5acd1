// GET /v1/watch?prefix=…&fromRevision=N: Server-Sent Events of changes under a prefix.
// Events: put, delete (id = modRevision, so Last-Event-ID resumes), progress (a revision
// heartbeat, also with an id), compacted (history is gone: re-read, then watch from the new
// revision; the stream ends). The stream polls the router: read changes, else wait for the namespace.
import { boundedHeader } from "../headers.ts";
import { z } from "@hono/zod-openapi";
import type { ChangeEvent } from "../../store/index.ts";
import type { Router } from "../../router/index.ts";
import { authorize } from "../auth.ts";
import { auditJson } from "../entry.ts";
import { revisionHeader } from "../consistency.ts";
import { checkPrefix, namespaceOf } from "../keys.ts";
import { apiLimits } from "../limits.ts";
import { badRequest } from "../problem.ts";
import { defineRoute } from "../route.ts";
import { Flag, headers, problems } from "../schemas.ts";
import { sseStream, type SseEvent } from "../sse.ts";
import { encodeValue } from "../values.ts";

const query = z
  .object({
    prefix: z
      .string()
      .openapi({ description: "{namespace}/ or {namespace}/{partial name}", example: "app/" }),
    fromRevision: z
      .string()
      .regex(/^\d{1,15}$/, "must be a revision number")
      .optional()
      .openapi({
        type: "integer",
        minimum: 0,

        description: "Send changes with modRevision ≥ this; default: only changes from now on",
      }),
    values: Flag.openapi({ description: "false leaves values out of put events" }),
  })
  .strict();

function eventFrames(events: ChangeEvent[]): SseEvent[] {
  return events.map((e, i) => ({
    event: e.type,
    data: {
      key: e.key,
      modRevision: e.modRevision,
      version: e.version,
      createRevision: e.createRevision,
      contentType: e.contentType,
      ...(e.value ? { value: encodeValue(e.contentType, e.value) } : {}),
      ...(e.updatedAtMs === undefined ? {} : auditJson(e.updatedAtMs, e)),
    },
    // Only the last event of a revision carries the id: a txn's events are resumed together.
    ...(events[i + 1]?.modRevision === e.modRevision ? {} : { id: e.modRevision }),
  }));
}

async function pump(
  router: Router,
  prefix: string,
  after: number,
  values: boolean,
  stream: ReturnType<typeof sseStream>,
) {
  const ns = namespaceOf(prefix);
  const deadline = Date.now() + apiLimits.watchStreamMsMax;
  let alive = await stream.write({ event: "progress", data: { revision: after }, id: after });
  while (alive && Date.now() < deadline) {
    const query = {
      type: "changes",
      prefix,
      afterRevision: after,
      values,
      limit: apiLimits.watchBatchEventsMax,
    } as const;
    const { result: r, token } = await router.read(ns, query, { consistency: "linearizable" });
    if (r.type !== "changes") {
      const data =
        r.type === "compacted"
          ? { fromRevision: after + 1, revision: r.revision }
          : { detail: r.detail };
      await stream.write({ event: r.type === "compacted" ? "compacted" : "error", data });
      break;
    }
    for (const frame of eventFrames(r.events)) alive &&= await stream.write(frame);
    after = r.nextAfterRevision;
    if (r.events.length > 0) continue;
    const waited = await router.waitForChange(ns, {
      afterRevision: after,
      timeoutMs: Math.min(apiLimits.watchProgressMs, deadline - Date.now()),
    });
    if (!waited.changed)
      alive = await stream.write({
        event: "progress",
        data: { revision: after, token },
        id: after,
      });
  }
  await stream.close();
}

export const watch = defineRoute({
  method: "get",
  path: "/v1/watch",
  operationId: "watch",
  tags: ["kv"],
  auth: "optional",
  summary: "Watch changes (Server-Sent Events)",
  description:
    "Events put and delete (key, modRevision, version, createRevision, contentType, value unless values=false), " +
    `progress (revision heartbeat at least every ${apiLimits.watchProgressMs / 1000} s) and compacted (fromRevision is too old: ` +
    "re-read, then watch from the new revision). Each event's id is its revision: reconnect with Last-Event-ID to resume. " +
    `A stream ends after ${apiLimits.watchStreamMsMax / 60_000} minutes; resume it the same way.`,
  query,
  headers: z.object({ "last-event-id": z.string().optional() }),
  responses: {
    200: {
      description: "An event stream",
      content: { "text/event-stream": { schema: z.string() } },
      headers: headers("Cache-Control", "X-Edgecfg-Revision"),
    },
    ...problems(431),
  },
  handler: async (c, { query: q }) => {
    const prefix = checkPrefix(q.prefix);
    const ns = namespaceOf(prefix);
    await authorize(c, ns, "read");
    const lastEventId = boundedHeader(c, "Last-Event-ID");
    if (lastEventId !== undefined && !/^\d{1,15}$/.test(lastEventId.trim())) {
      throw badRequest(
        `Last-Event-ID ${JSON.stringify(lastEventId)} is not a revision; send the id of the last event received`,
      );
    }
    let after: number;
    let token: string | undefined;
    if (lastEventId !== undefined) after = Number(lastEventId.trim());
    else if (q.fromRevision !== undefined) after = Math.max(0, Number(q.fromRevision) - 1);
    else {
      const read = await c
        .get("router")
        .read(ns, { type: "list", prefix, limit: 1 }, { consistency: "linearizable" });
      after = read.result.revision;
      token = read.token;
    }
    const stream = sseStream();
    const done = pump(c.get("router"), prefix, after, q.values !== "false", stream).catch(
      async () => {
        await stream.write({
          event: "error",
          data: { detail: "the stream failed; reconnect with Last-Event-ID to resume" },
        });
        await stream.close();
      },
    );
    try {
      c.executionCtx.waitUntil(done);
    } catch {
      // No execution context (app.request in tests): the stream still runs while it is read.
    }
    const headers: Record<string, string> = {
      "Content-Type": "text/event-stream",
      "Cache-Control": "no-cache",
      "X-Accel-Buffering": "no",
    };
    if (token) headers[revisionHeader] = token;
    return new Response(stream.readable, { status: 200, headers });
  },
});
