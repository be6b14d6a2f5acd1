// POST /v1/ns/{namespace}/rollback: the namespace's entries as they were at `toRevision`,
// written as one new revision (history is never rewritten); 410 when that state is no longer
// retained (per-key history, forgotten deleted keys).
import { z } from "@hono/zod-openapi";
import type { NamespaceRollbackCommand } from "../../store/index.ts";
import { commandAudit } from "../audit.ts";
import { authorize } from "../auth.ts";
import { DryRunFlag, dryRunProblems, dryRunnable, isDryRun } from "../dry-run.ts";
import { checkNamespace } from "../keys.ts";
import { defineRoute } from "../route.ts";
import { NamespaceParam } from "../schemas.ts";
import { namespaceWrite, namespaceWriteResponses } from "./ns-apply.ts";

const RollbackRequest = z
  .object({
    toRevision: z.number().int().min(1).openapi({
      description: "A revision of the namespace's shard, e.g. a bundle ETag or an audit item's",
    }),
    ifRevision: z.number().int().min(0).optional().openapi({
      description: "Roll back only while the namespace's revision is still this; else 412",
    }),
  })
  .strict()
  .openapi("RollbackRequest");

export const nsRollback = defineRoute({
  method: "post",
  path: "/v1/ns/{namespace}/rollback",
  operationId: "rollbackNamespace",
  tags: ["namespaces"],
  summary: "Restore the namespace as it was at a revision (as one new revision)",
  description:
    "Every key live at toRevision gets its value back, keys created since are deleted; keys " +
    "already right are left alone. 410 when that state is no longer retained. " +
    "?dryRun=true answers what it would do.",
  params: NamespaceParam,
  query: z.object({ dryRun: DryRunFlag }).strict(),
  body: RollbackRequest,
  headers: z.object({ "idempotency-key": z.string().optional() }),
  responses: { ...namespaceWriteResponses, ...dryRunProblems(409, 410, 412, 422, 507) },
  handler: (c, { query, body }) => {
    const dry = isDryRun(query.dryRun);
    return dryRunnable(dry, async () => {
      const namespace = checkNamespace(c.req.param("namespace") ?? "");
      await authorize(c, namespace, "write");
      const cmd: NamespaceRollbackCommand = {
        type: "namespaceRollback",
        atMs: Date.now(),
        audit: commandAudit(c),
        namespace,
        toRevision: body.toRevision,
        ...(body.ifRevision === undefined ? {} : { ifRevision: body.ifRevision }),
      };
      return namespaceWrite(c, cmd, dry);
    });
  },
});
