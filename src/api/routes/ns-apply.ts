// POST /v1/ns/{namespace}/apply: declarative apply (http-api.md "Safe publishing"). The namespace
// ends up holding exactly `entries` (and its other keys unless `prune`), as one atomic change at
// one revision, guarded by `ifRevision` (the bundle ETag a plan was made from); an apply that
// changes nothing answers 200 with the revision unchanged. The store decides what differs at
// commit (src/store/namespace-writes.ts), so a retried or repeated apply is harmless.
import { z } from "@hono/zod-openapi";
import type {
  NamespaceApplyCommand,
  NamespaceWriteCommand,
  WriteOutcome,
} from "../../store/index.ts";
import { applyEntries, ApplyRequest } from "../apply-body.ts";
import { commandAudit } from "../audit.ts";
import { authorize } from "../auth.ts";
import { revisionHeader } from "../consistency.ts";
import type { Ctx } from "../context.ts";
import {
  dryRunAnswer,
  dryRunProblems,
  dryRunBody,
  DryRunFlag,
  dryRunnable,
  isDryRun,
  judge,
} from "../dry-run.ts";
import { entryJson } from "../entry.ts";
import { formatETag } from "../etag.ts";
import { idempotencyKey, replayedHeader } from "../idempotency.ts";
import { checkNamespace } from "../keys.ts";
import { apiLimits } from "../limits.ts";
import { outcomeProblem } from "../outcomes.ts";
import { defineRoute } from "../route.ts";
import { Entry, headers, NamespaceParam } from "../schemas.ts";

export const NamespaceWriteResponse = z
  .object({
    namespace: z.string(),
    revision: z
      .number()
      .int()
      .openapi({
        description:
          "The namespace's revision after the write (the bundle ETag); " +
          "unchanged when nothing changed",
      }),
    changed: z.boolean().openapi({ description: "false: it already held these entries" }),
    changes: z
      .array(
        z.object({
          key: z.string(),
          change: z.enum(["created", "updated", "deleted"]),
          entry: Entry.openapi({ description: "The new entry, or the deleted one" }),
        }),
      )
      .openapi({ description: "The keys written, in key order" }),
  })
  .openapi("NamespaceWriteResponse");

export const DryRunNamespaceWrite = dryRunBody(NamespaceWriteResponse, "DryRunNamespaceWrite");

export function namespaceWriteJson(o: WriteOutcome) {
  if (o.type !== "namespaceWrite")
    throw outcomeProblem(o) ?? new Error(`unexpected outcome ${o.type}`);
  return {
    namespace: o.namespace,
    revision: o.namespaceRevision,
    changed: o.changes.length > 0,
    changes: o.changes.map((ch) => ({
      key: ch.key,
      change: ch.change,
      entry: entryJson(ch.entry),
    })),
  };
}

/** Proposes (or dry-runs) a namespace write and answers as both routes do. */
export async function namespaceWrite(
  c: Ctx,
  cmd: NamespaceWriteCommand,
  dry: boolean,
): Promise<Response> {
  const namespace = cmd.namespace;
  const idem = await idempotencyKey(c); // checked in a dry run too, recorded only by a write
  if (dry)
    return dryRunAnswer(c, await judge(c, namespace, cmd), (o) => ({
      status: 200,
      result: namespaceWriteJson(o),
    }));
  if (idem !== undefined) cmd.idempotencyKey = idem;
  const { outcome, token } = await c.get("router").write(namespace, cmd);
  const json = namespaceWriteJson(outcome);
  const h: Record<string, string> = { [revisionHeader]: token, ETag: formatETag(json.revision) };
  if (outcome.deduplicated) h[replayedHeader] = "true";
  return c.json(json, 200, h);
}

export const namespaceWriteResponses = {
  200: {
    description: "Done (a dry run: what it would do)",
    content: {
      "application/json": { schema: z.union([NamespaceWriteResponse, DryRunNamespaceWrite]) },
    },
    headers: headers("ETag", "X-Edgecfg-Revision", "Idempotent-Replayed", "X-Edgecfg-Dry-Run"),
  },
};

export const nsApply = defineRoute({
  method: "post",
  path: "/v1/ns/{namespace}/apply",
  operationId: "applyNamespace",
  tags: ["namespaces"],
  summary: "Make the namespace hold exactly these entries (one atomic change)",
  description:
    "Entries in the bundle's format (JSON inline, others {contentType, base64}; meta gives a " +
    "JSON entry's content type). Entries already holding the value are left alone; prune also " +
    "deletes the other keys; ifRevision (the bundle ETag as a number) makes it a compare-and-set " +
    `on the namespace: 412 once it moved. At most ${apiLimits.applyEntriesMax} entries and ` +
    `${apiLimits.applyValueBytesMax} bytes of values. ?dryRun=true answers what it would do.`,
  params: NamespaceParam,
  query: z.object({ dryRun: DryRunFlag }).strict(),
  body: ApplyRequest,
  bodyBytesMax: apiLimits.applyBodyBytesMax,
  headers: z.object({ "idempotency-key": z.string().optional() }),
  responses: { ...namespaceWriteResponses, ...dryRunProblems(409, 412, 413, 422, 507) },
  handler: (c, { query, body }) => {
    const dry = isDryRun(query.dryRun);
    return dryRunnable(dry, async () => {
      const namespace = checkNamespace(c.req.param("namespace") ?? "");
      await authorize(c, namespace, "write");
      const cmd: NamespaceApplyCommand = {
        type: "namespaceApply",
        atMs: Date.now(),
        audit: commandAudit(c),
        namespace,
        entries: applyEntries(namespace, body),
        prune: body.prune ?? false,
        ...(body.ifRevision === undefined ? {} : { ifRevision: body.ifRevision }),
      };
      return namespaceWrite(c, cmd, dry);
    });
  },
});
