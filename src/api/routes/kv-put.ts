// PUT /v1/kv/{key}: write a value; If-Match (compare-and-set), If-None-Match: * (create only).
import { boundedHeader } from "../headers.ts";
import { z } from "@hono/zod-openapi";
import type {
  CommandAudit,
  Fence,
  KvEntry,
  PutCommand,
  TxnCommand,
  WriteOutcome,
} from "../../store/index.ts";
import { commandAudit } from "../audit.ts";
import { validateContentType } from "../../store/index.ts";
import { authorize } from "../auth.ts";
import { isJsonMediaType, parseJsonBytes, readBody } from "../body.ts";
import { revisionHeader } from "../consistency.ts";
import type { Ctx } from "../context.ts";
import { entryJson } from "../entry.ts";
import { checkFlagDefinition } from "../flag-writes.ts";
import { formatETag, parseIfMatch, parseIfNoneMatchWrite, type IfMatch } from "../etag.ts";
import { idempotencyKey, replayedHeader } from "../idempotency.ts";
import { keyFromPath, namespaceOf } from "../keys.ts";
import { apiLimits } from "../limits.ts";
import { outcomeProblem } from "../outcomes.ts";
import { badRequest } from "../problem.ts";
import { defineRoute } from "../route.ts";
import { Entry, fenceHeaderSchema, headers, KeyParams } from "../schemas.ts";
import { fenceOf, leaseHeader, leaseOf } from "../coordination.ts";
import {
  dryRunAnswer,
  dryRunProblems,
  dryRunBody,
  DryRunFlag,
  dryRunnable,
  isDryRun,
  judge,
} from "../dry-run.ts";

const DryRunPut = dryRunBody(Entry, "DryRunPut");

const defaultContentType = "application/octet-stream";

interface Preconditions {
  ifMatch: IfMatch | undefined;
  ifNoneMatch: "*" | undefined;
  idempotencyKey: string | undefined;
  lease: string | undefined;
  fence: Fence | undefined;
}

/** Header checks come before the body is read: a bad header costs no upload. */
async function preconditions(c: Ctx, namespace: string): Promise<Preconditions> {
  const ifMatch = parseIfMatch(boundedHeader(c, "If-Match"));
  const ifNoneMatch = parseIfNoneMatchWrite(boundedHeader(c, "If-None-Match"));
  if (ifMatch && ifNoneMatch) throw badRequest("send If-Match or If-None-Match: *, not both");
  const lease = leaseOf(c, namespace);
  // If-Match: * is a txn, whose puts carry no lease.
  if (lease !== undefined && ifMatch?.type === "any")
    throw badRequest(`${leaseHeader} cannot be combined with If-Match: *`);
  const fence = fenceOf(c, namespace);
  return { ifMatch, ifNoneMatch, idempotencyKey: await idempotencyKey(c), lease, fence };
}

function command(
  key: string,
  value: Uint8Array,
  contentType: string,
  p: Preconditions,
  audit: CommandAudit,
): PutCommand | TxnCommand {
  const base = {
    atMs: Date.now(),
    audit,
    ...(p.idempotencyKey === undefined ? {} : { idempotencyKey: p.idempotencyKey }),
    ...(p.fence === undefined ? {} : { fence: p.fence }),
  };
  if (p.ifMatch?.type === "any") {
    // "Update only if it exists": a txn comparing existence, so the check and the write are atomic.
    return {
      ...base,
      type: "txn",
      compare: [{ key, target: "exists", op: "=", value: true }],
      success: [{ type: "put", key, value, contentType }],
      failure: [],
    };
  }
  return {
    ...base,
    type: "put",
    key,
    value,
    contentType,
    ...(p.ifMatch ? { ifMatch: p.ifMatch.revision } : {}),
    ...(p.ifNoneMatch ? { ifNoneMatch: p.ifNoneMatch } : {}),
    ...(p.lease === undefined ? {} : { lease: p.lease }),
  };
}

function shape(o: WriteOutcome) {
  const { entry, created } = written(o);
  return { status: created ? (201 as const) : (200 as const), result: entryJson(entry) };
}

function written(o: WriteOutcome): { entry: KvEntry; created: boolean } {
  if (o.type === "ok") return { entry: o.entry, created: o.change === "created" };
  if (o.type === "txn") {
    const r = o.results[0];
    if (o.succeeded && r?.type === "put")
      return { entry: r.entry, created: r.change === "created" };
    throw outcomeProblem({ type: "preconditionFailed", revision: o.revision, current: null })!;
  }
  throw (
    outcomeProblem(
      o,
      "the key does not exist, so If-Match cannot match; create it without If-Match or with If-None-Match: *",
    ) ?? new Error(`unexpected outcome ${o.type} for a put`)
  );
}

export const kvPut = defineRoute({
  method: "put",
  path: "/v1/kv/{namespace}/{name}",
  honoPath: "/v1/kv/:key{.+}",
  operationId: "putKey",
  tags: ["kv"],
  summary: "Write a key",
  description:
    `Stores the body (at most ${apiLimits.valueBytesMax} bytes, else 413) with its Content-Type ` +
    `(default ${defaultContentType}); JSON media types must parse. If-Match: <ETag> = compare-and-set, If-Match: * = ` +
    "update only, If-None-Match: * = create only (412 otherwise). 201 on create, 200 on update; Idempotency-Key makes retries safe.",
  params: KeyParams,
  query: z.object({ dryRun: DryRunFlag }).strict(),
  headers: z.object({
    "if-match": z.string().optional(),
    "if-none-match": z.string().optional(),
    "idempotency-key": z.string().optional(),
    "x-edgecfg-lease": z.string().optional().openapi({
      description: "Attach the key to this lease (of the key's namespace): deleted when it ends",
    }),
    "x-edgecfg-fence": fenceHeaderSchema,
  }),
  rawBody: { description: "The value, any media type" },
  responses: {
    200: {
      description: "Updated (a dry run: would update)",
      content: { "application/json": { schema: z.union([Entry, DryRunPut]) } },
      headers: headers("ETag", "X-Edgecfg-Revision", "Idempotent-Replayed", "X-Edgecfg-Dry-Run"),
    },
    201: {
      description: "Created (a dry run: would create)",
      content: { "application/json": { schema: z.union([Entry, DryRunPut]) } },
      headers: headers(
        "ETag",
        "X-Edgecfg-Revision",
        "Idempotent-Replayed",
        "Location",
        "X-Edgecfg-Dry-Run",
      ),
    },
    ...dryRunProblems(409, 412, 413, 422, 431, 507),
  },
  handler: (c, { query }) => {
    const dry = isDryRun(query.dryRun);
    return dryRunnable(dry, async () => {
      const key = keyFromPath(c.req.url, "/v1/kv/");
      await authorize(c, namespaceOf(key), "write");
      const contentType = boundedHeader(c, "Content-Type")?.trim() || defaultContentType;
      const typeError = validateContentType(contentType);
      if (typeError !== null) throw badRequest(`Content-Type: ${typeError}`);
      const pre = await preconditions(c, namespaceOf(key));
      const value = await readBody(c.req.raw, apiLimits.valueBytesMax, "the value");
      if (isJsonMediaType(contentType))
        checkFlagDefinition(key, parseJsonBytes(value, "the value"));
      const cmd = command(key, value, contentType, pre, commandAudit(c));
      if (dry) return dryRunAnswer(c, await judge(c, namespaceOf(key), cmd), shape);
      const { outcome, token } = await c.get("router").write(namespaceOf(key), cmd);
      const { entry, created } = written(outcome);
      const headers: Record<string, string> = {
        ETag: formatETag(entry.modRevision),
        [revisionHeader]: token,
      };
      if (outcome.deduplicated) headers[replayedHeader] = "true";
      if (created) headers["Location"] = `/v1/kv/${key}`;
      return c.json(entryJson(entry), created ? 201 : 200, headers);
    });
  },
});
