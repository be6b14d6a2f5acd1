// GET /v1/ns/{namespace}: the whole namespace as one JSON document; what apps poll.
import { boundedHeader } from "../headers.ts";
import { z } from "@hono/zod-openapi";
import type { BundleResult } from "../../store/index.ts";
import type { Read, ReadOptions } from "../../router/index.ts";
import { authorize, authorizedNow } from "../auth.ts";
import { readHeaders, readOptions } from "../consistency.ts";
import type { Ctx } from "../context.ts";
import { parseWaitMs } from "../duration.ts";
import { formatETag, noneMatchHits, parseIfNoneMatchRead } from "../etag.ts";
import { checkNamespace } from "../keys.ts";
import { badRequest } from "../problem.ts";
import { readAnswerHeaders } from "../read-response.ts";
import { defineRoute } from "../route.ts";
import {
  Consistency,
  EncodedValue,
  NamespaceParam,
  problems,
  Wait,
  headers,
  readHeaderNames,
} from "../schemas.ts";
import { encodeValue } from "../values.ts";

const Bundle = z
  .object({
    namespace: z.string(),
    revision: z.number().int().openapi({
      description: "The namespace's last modRevision (the ETag); 0 when never written",
    }),
    entries: z
      .record(z.string(), EncodedValue)
      .openapi({ description: "name → value: JSON inline, others {contentType, base64}" }),
    meta: z
      .record(
        z.string(),
        z.object({
          contentType: z.string(),
          version: z.number().int(),
          modRevision: z.number().int(),
        }),
      )
      .openapi({ description: "name → content type and versions of each entry" }),
  })
  .openapi("Bundle");

function bundleOf(read: Read<BundleResult>) {
  if (read.result.type === "invalid") throw badRequest(read.result.detail);
  return { read, bundle: read.result as Extract<BundleResult, { type: "bundle" }> };
}

async function readBundle(c: Ctx, namespace: string, options: ReadOptions) {
  return bundleOf(await c.get("router").read(namespace, { type: "bundle", namespace }, options));
}

/** readBundle's answer when the Router has it at hand (a cached stale poll), without a promise. */
function readBundleNow(c: Ctx, namespace: string, options: ReadOptions) {
  const read = c.get("router").readNow?.(namespace, { type: "bundle", namespace }, options);
  return read === undefined ? undefined : bundleOf(read);
}

export const nsBundle = defineRoute({
  method: "get",
  path: "/v1/ns/{namespace}",
  operationId: "getBundle",
  tags: ["namespaces"],
  auth: "optional",
  summary: "The namespace bundle",
  description:
    "Every live key of the namespace in one document. ETag = the namespace's last modRevision; " +
    "If-None-Match → 304; ?wait= long-polls until it changes.",
  params: NamespaceParam,
  query: z.object({ wait: Wait, consistency: Consistency }).strict(),
  headers: z.object({
    "if-none-match": z.string().optional(),
    "x-edgecfg-min-revision": z.string().optional(),
  }),
  responses: {
    200: {
      description: "The bundle",
      content: { "application/json": { schema: Bundle } },
      headers: headers("ETag", "Cache-Control", ...readHeaderNames),
    },
    304: {
      description: "Not modified (or the wait ended)",
      headers: headers("ETag", "Cache-Control", ...readHeaderNames),
    },
    ...problems(431),
  },
  handler: async (c, { query: q }) => {
    const namespace = checkNamespace(c.req.param("namespace") ?? "");
    if (!authorizedNow(c, "read")) await authorize(c, namespace, "read");
    const options = readOptions(c, q.consistency);
    const waitMs = parseWaitMs(q.wait);
    const inm = parseIfNoneMatchRead(boundedHeader(c, "If-None-Match"));
    let { read, bundle } =
      readBundleNow(c, namespace, options) ?? (await readBundle(c, namespace, options));
    if (waitMs && noneMatchHits(inm, bundle.namespaceRevision)) {
      const waited = await c
        .get("router")
        .waitForChange(namespace, { afterRevision: bundle.namespaceRevision, timeoutMs: waitMs });
      if (waited.changed)
        ({ read, bundle } = await readBundle(c, namespace, { ...options, minToken: waited.token }));
    }
    const revision = bundle.namespaceRevision;
    const headers = () => ({
      ...readHeaders(read, options),
      ETag: formatETag(revision),
      "Cache-Control": "no-cache",
    });
    if (noneMatchHits(inm, revision)) {
      // What polling apps get nearly every time: from the isolate cache, with headers built once.
      return new Response(null, {
        status: 304,
        headers: readAnswerHeaders(read, options, "304", headers),
      });
    }
    const entries: Record<string, unknown> = {};
    const meta: Record<string, { contentType: string; version: number; modRevision: number }> = {};
    for (const item of bundle.items) {
      entries[item.name] = encodeValue(item.entry.contentType, item.value);
      meta[item.name] = {
        contentType: item.entry.contentType,
        version: item.entry.version,
        modRevision: item.entry.modRevision,
      };
    }
    return c.json({ namespace, revision, entries, meta }, 200, headers());
  },
});
