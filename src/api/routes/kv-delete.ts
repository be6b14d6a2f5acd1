// DELETE /v1/kv/{key}: 204; 404 if absent; If-Match: <ETag> or * → 412 on mismatch.
import { boundedHeader } from "../headers.ts";
import { z } from "@hono/zod-openapi";
import type { DeleteCommand, WriteOutcome } from "../../store/index.ts";
import { commandAudit } from "../audit.ts";
import { authorize } from "../auth.ts";
import { revisionHeader } from "../consistency.ts";
import { parseIfMatch, type IfMatch } from "../etag.ts";
import { idempotencyKey, replayedHeader } from "../idempotency.ts";
import { keyFromPath, namespaceOf } from "../keys.ts";
import { outcomeProblem, preconditionFailed } from "../outcomes.ts";
import { defineRoute } from "../route.ts";
import { Entry, fenceHeaderSchema, headers, KeyParams } from "../schemas.ts";
import { fenceOf } from "../coordination.ts";
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

const DryRunDelete = dryRunBody(Entry, "DryRunDelete");

/** The outcome of a delete that happened, or the problem it answers. */
function deleted(outcome: WriteOutcome, key: string, ifMatch: IfMatch | undefined) {
  if (outcome.type === "notFound" && ifMatch?.type === "any") {
    throw preconditionFailed(
      null,
      `key ${JSON.stringify(key)} does not exist, so If-Match: * cannot match`,
    );
  }
  if (outcome.type !== "ok") {
    throw (
      outcomeProblem(outcome, `key ${JSON.stringify(key)} does not exist`) ??
      new Error(`unexpected outcome ${outcome.type}`)
    );
  }
  return outcome;
}

export const kvDelete = defineRoute({
  method: "delete",
  path: "/v1/kv/{namespace}/{name}",
  honoPath: "/v1/kv/:key{.+}",
  operationId: "deleteKey",
  tags: ["kv"],
  summary: "Delete a key",
  description:
    "204 when deleted, 404 when absent. If-Match: <ETag> deletes only that version, If-Match: * only an " +
    "existing key (412 otherwise). Idempotency-Key makes retries return the first outcome. " +
    "?dryRun=true answers 200 (a 204 has no body) with the entry it would delete and the diff.",
  params: KeyParams,
  query: z.object({ dryRun: DryRunFlag }).strict(),
  headers: z.object({
    "if-match": z.string().optional(),
    "idempotency-key": z.string().optional(),
    "x-edgecfg-fence": fenceHeaderSchema,
  }),
  responses: {
    200: {
      description: "A dry run: it would delete (result: the entry it would delete)",
      content: { "application/json": { schema: DryRunDelete } },
      headers: headers("X-Edgecfg-Revision", "X-Edgecfg-Dry-Run"),
    },
    204: { description: "Deleted", headers: headers("X-Edgecfg-Revision", "Idempotent-Replayed") },
    ...dryRunProblems(404, 409, 412, 422, 431),
  },
  handler: (c, { query }) => {
    const dry = isDryRun(query.dryRun);
    return dryRunnable(dry, async () => {
      const key = keyFromPath(c.req.url, "/v1/kv/");
      await authorize(c, namespaceOf(key), "write");
      const ifMatch = parseIfMatch(boundedHeader(c, "If-Match"));
      const idem = await idempotencyKey(c);
      const fence = fenceOf(c, namespaceOf(key));
      const cmd: DeleteCommand = {
        type: "delete",
        key,
        atMs: Date.now(),
        audit: commandAudit(c),
        ...(ifMatch?.type === "revision" ? { ifMatch: ifMatch.revision } : {}),
        ...(idem === undefined ? {} : { idempotencyKey: idem }),
        ...(fence === undefined ? {} : { fence }),
      };
      if (dry) {
        return dryRunAnswer(c, await judge(c, namespaceOf(key), cmd), (o) => ({
          status: 200,
          result: entryJson(deleted(o, key, ifMatch).entry),
        }));
      }
      const { outcome, token } = await c.get("router").write(namespaceOf(key), cmd);
      const headers: Record<string, string> = { [revisionHeader]: token };
      if (deleted(outcome, key, ifMatch).deduplicated) headers[replayedHeader] = "true";
      return c.body(null, 204, headers);
    });
  },
});
