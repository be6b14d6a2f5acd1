// GET /v1/kv/{key}: the value byte for byte, with validators; `?meta`, `?revision=N`, and long
// polls (`?wait=30s` with If-None-Match).
import { boundedHeader } from "../headers.ts";
import { z } from "@hono/zod-openapi";
import type { GetResult, KvEntry, MetaResult, Query } from "../../store/index.ts";
import type { Read, ReadOptions } from "../../router/index.ts";
import { authorize, authorizedNow } from "../auth.ts";
import { readHeaders, readOptions } from "../consistency.ts";
import type { Ctx } from "../context.ts";
import { parseWaitMs } from "../duration.ts";
import { entryJson } from "../entry.ts";
import { formatETag, noneMatchHits, parseIfNoneMatchRead } from "../etag.ts";
import { httpDate, parseHttpDate } from "../http-dates.ts";
import { keyFromPath, namespaceOf } from "../keys.ts";
import { ApiProblem, badRequest, notFound, problemTypes } from "../problem.ts";
import { readAnswerHeaders } from "../read-response.ts";
import { defineRoute, valueContent } from "../route.ts";
import {
  Consistency,
  Flag,
  headers,
  KeyParams,
  problems,
  readHeaderNames,
  type ResponseHeader,
  Wait,
} from "../schemas.ts";

const query = z
  .object({
    meta: Flag.openapi({ description: "Answer with the JSON entry instead of the value" }),
    revision: z
      .string()
      .regex(/^\d{1,15}$/, "must be a revision number")
      .optional()
      .openapi({
        type: "integer",
        minimum: 0,

        description:
          "Read the version live at this revision while it is retained (410 once compacted)",
      }),
    wait: Wait,
    consistency: Consistency,
  })
  .strict();

const keyHeaders: ResponseHeader[] = [
  "ETag",
  "Last-Modified",
  "X-Edgecfg-Version",
  "Cache-Control",
  ...readHeaderNames,
];

type Found = { entry: KvEntry; value: Uint8Array | null };

/** The entry a read found, or the problem it answers; a 404 says which state answered it. */
function found(key: string, read: Read<GetResult | MetaResult>, options: ReadOptions): Found {
  const r = read.result;
  switch (r.type) {
    case "found":
      return { entry: r.entry, value: "value" in r ? r.value : null };
    case "notFound": {
      const { init } = notFound(`key ${JSON.stringify(key)} does not exist`);
      throw new ApiProblem({ ...init, headers: readHeaders(read, options) });
    }
    case "invalid":
      throw badRequest(r.detail);
    case "compacted":
      throw new ApiProblem({
        status: 410,
        type: problemTypes.gone,
        detail: `the version of ${JSON.stringify(key)} at that revision is no longer retained; read the latest instead`,
      });
    case "futureRevision":
      throw badRequest(
        `that revision is ahead of the shard (at ${r.revision}); ask for a revision ≤ ${r.revision}`,
      );
  }
}

type KeyQuery = Extract<Query, { type: "get" | "meta" }>;

function keyQuery(key: string, revision: number | undefined, withValue: boolean): KeyQuery {
  if (!withValue && revision === undefined) return { type: "meta", key };
  return revision === undefined ? { type: "get", key } : { type: "get", key, atRevision: revision };
}

function keyAnswer(query: KeyQuery, read: Read<GetResult | MetaResult>, options: ReadOptions) {
  return { read, found: found(query.key, read, options) };
}

async function readKey(c: Ctx, ns: string, query: KeyQuery, options: ReadOptions) {
  return keyAnswer(query, await c.get("router").read(ns, query, options), options);
}

/** readKey's answer when the Router has it at hand (a cached stale poll), without a promise. */
function readKeyNow(c: Ctx, ns: string, query: KeyQuery, options: ReadOptions) {
  const read = c.get("router").readNow?.(ns, query, options);
  return read === undefined ? undefined : keyAnswer(query, read, options);
}

/** Validators and caching headers of an answer about `f` (never named by the consistency headers). */
function entryHeaders(
  read: Read<unknown>,
  options: ReadOptions,
  f: Found,
  contentType: boolean,
): Record<string, string> {
  const h: Record<string, string> = {
    ...readHeaders(read, options),
    ETag: formatETag(f.entry.modRevision),
    "Last-Modified": httpDate(f.entry.updatedAtMs),
    "X-Edgecfg-Version": String(f.entry.version),
    "Cache-Control": "no-cache",
  };
  if (contentType) h["Content-Type"] = f.entry.contentType;
  return h;
}

function respond(
  c: Ctx,
  read: Read<unknown>,
  options: ReadOptions,
  f: Found,
  meta: boolean,
  notModified: boolean,
): Response {
  if (meta && !notModified)
    return c.json(entryJson(f.entry), 200, entryHeaders(read, options, f, false));
  const status = notModified ? 304 : 200;
  // The value's bytes as a fresh ArrayBuffer: with the Uint8Array that arrived by DO RPC as the
  // body, workerd spent ~7 µs more per response (measured: stale reads 0.072 → 0.064 ms of CPU
  // each; why is inside workerd); copying a config value costs a fraction of a microsecond.
  const body = notModified || f.value === null ? null : f.value.slice().buffer;
  return new Response(body, {
    status,
    headers: readAnswerHeaders(read, options, String(status), () =>
      entryHeaders(read, options, f, !notModified),
    ),
  });
}

export const kvGet = defineRoute({
  method: "get",
  path: "/v1/kv/{namespace}/{name}",
  honoPath: "/v1/kv/:key{.+}",
  operationId: "getKey",
  tags: ["kv"],
  auth: "optional",
  summary: "Read a key",
  description:
    "The value byte for byte with its Content-Type, ETag, Last-Modified and X-Edgecfg-Version. " +
    "If-None-Match → 304; with ?wait= the request long-polls until the ETag differs or the wait ends (304).",
  params: KeyParams,
  query,
  headers: z.object({
    "if-none-match": z.string().optional(),
    "if-modified-since": z.string().optional(),
    "x-edgecfg-min-revision": z.string().optional(),
  }),
  responses: {
    200: {
      description:
        "The value byte for byte, with the Content-Type it was written with; " +
        "with ?meta the Entry (application/json)",
      content: {
        ...valueContent,
        "application/json": {
          schema: z.unknown().openapi({ description: "A JSON value, or with ?meta the Entry" }),
        },
      },
      headers: headers(...keyHeaders),
    },
    304: { description: "Not modified (or the wait ended)", headers: headers(...keyHeaders) },
    ...problems(404, 410, 431),
  },
  handler: async (c, { query: q }) => {
    const key = keyFromPath(c.req.url, "/v1/kv/");
    const ns = namespaceOf(key);
    if (!authorizedNow(c, "read")) await authorize(c, ns, "read");
    const options = readOptions(c, q.consistency);
    const meta = q.meta !== undefined && q.meta !== "false";
    const revision = q.revision === undefined ? undefined : Number(q.revision);
    const waitMs = parseWaitMs(q.wait);
    if (waitMs !== undefined && revision !== undefined)
      throw badRequest("wait and revision cannot be combined: an old revision never changes");
    const inm = parseIfNoneMatchRead(boundedHeader(c, "If-None-Match"));
    const query = keyQuery(key, revision, !meta);
    let { read, found: f } =
      readKeyNow(c, ns, query, options) ?? (await readKey(c, ns, query, options));
    if (waitMs && noneMatchHits(inm, f.entry.modRevision)) {
      const waited = await c
        .get("router")
        .waitForChange(ns, { key, afterRevision: f.entry.modRevision, timeoutMs: waitMs });
      if (waited.changed)
        ({ read, found: f } = await readKey(c, ns, query, { ...options, minToken: waited.token }));
    }
    // If-Modified-Since counts only without If-None-Match (RFC 9110 §13.1.3): not even read then.
    const ims = inm === undefined ? parseHttpDate(boundedHeader(c, "If-Modified-Since")) : null;
    const notModified =
      noneMatchHits(inm, f.entry.modRevision) ||
      (ims !== null && Math.floor(f.entry.updatedAtMs / 1000) * 1000 <= ims);
    return respond(c, read, options, f, meta, notModified);
  },
});
