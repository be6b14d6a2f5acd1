// POST /v1/txn: an atomic, etcd-style transaction; keys in one namespace take one Raft round,
// keys in several take two-phase commit across their shards (txn-cross.ts).
import { z } from "@hono/zod-openapi";
import type { TxnCommand, TxnOpResult } from "../../store/index.ts";
import { commandAudit } from "../audit.ts";
import { authorize } from "../auth.ts";
import { revisionHeader } from "../consistency.ts";
import { entryJson } from "../entry.ts";
import { idempotencyKey, replayedHeader } from "../idempotency.ts";
import { namespaceOf } from "../keys.ts";
import { apiLimits, storeLimits } from "../limits.ts";
import { outcomeProblem } from "../outcomes.ts";
import { ApiProblem, badRequest, problemTypes } from "../problem.ts";
import { defineRoute } from "../route.ts";
import { EncodedValue, Entry, fenceHeaderSchema, headers } from "../schemas.ts";
import { fenceOf } from "../coordination.ts";
import { toCompare, toOp, TxnRequest, type TxnRequestBody } from "../txn-schema.ts";
import { encodeValue } from "../values.ts";
import {
  dryRunAnswer,
  dryRunProblems,
  dryRunBody,
  DryRunFlag,
  dryRunnable,
  isDryRun,
  judge,
} from "../dry-run.ts";
import type { WriteOutcome } from "../../store/index.ts";
import type { Ctx } from "../context.ts";
import { crossShardTxn } from "./txn-cross.ts";
import { dryRunAcross } from "./txn-dry-run.ts";

const TxnResponse = z
  .object({
    succeeded: z
      .boolean()
      .openapi({ description: "Every compare held and the success branch ran" }),
    revision: z
      .number()
      .int()
      .optional()
      .openapi({ description: "Shard revision after the txn (keys in one namespace)" }),
    revisions: z
      .record(z.string(), z.number().int())
      .optional()
      .openapi({
        description:
          "Keys in several namespaces: each namespace's shard revision after the txn, " +
          "in place of revision",
      }),
    results: z.array(
      z.object({
        type: z.enum(["put", "delete", "get"]),
        change: z.string().optional(),
        entry: z.union([Entry, z.null()]).optional().openapi({
          description: "put: the written entry; get: the entry read, null when absent",
        }),
        deleted: z
          .union([Entry, z.null()])
          .optional()
          .openapi({ description: "delete: the deleted entry, null when it was absent" }),
        value: EncodedValue.optional(),
      }),
    ),
  })
  .openapi("TxnResponse");

const DryRunTxn = dryRunBody(TxnResponse, "DryRunTxn").extend({
  baseRevisions: z
    .record(z.string(), z.number().int())
    .optional()
    .openapi({
      description:
        "Keys in several namespaces: each namespace's revision in the state its shard judged " +
        "(baseRevision is the first's); each shard judges its part on its own state",
    }),
});

function txnJson(outcome: WriteOutcome) {
  if (outcome.type !== "txn")
    throw outcomeProblem(outcome) ?? new Error(`unexpected outcome ${outcome.type}`);
  return {
    succeeded: outcome.succeeded,
    revision: outcome.revision,
    results: outcome.results.map(resultJson),
  };
}

function command(body: TxnRequestBody): TxnCommand {
  const ops = body.compare.length + body.success.length + body.failure.length;
  if (ops > storeLimits.txnOpsMax)
    throw badRequest(
      `the txn has ${ops} compares and operations; at most ${storeLimits.txnOpsMax} are allowed`,
    );
  const cmd: TxnCommand = {
    type: "txn",
    atMs: Date.now(),
    compare: body.compare.map(toCompare),
    success: body.success.map((o, i) => toOp(o, `success[${i}]`)),
    failure: body.failure.map((o, i) => toOp(o, `failure[${i}]`)),
  };
  const written = [...cmd.success, ...cmd.failure].reduce(
    (n, o) => n + (o.type === "put" ? o.value.byteLength : 0),
    0,
  );
  if (written > apiLimits.txnValueBytesMax) {
    throw new ApiProblem({
      status: 413,
      type: problemTypes.payloadTooLarge,
      detail: `the txn writes ${written} bytes of values; at most ${apiLimits.txnValueBytesMax} bytes per txn`,
    });
  }
  return cmd;
}

/** The txn's namespaces, in the order they first appear. */
function namespacesOf(cmd: TxnCommand): string[] {
  const keys = [...cmd.compare, ...cmd.success, ...cmd.failure].map((x) => x.key);
  if (keys.length === 0)
    throw badRequest("the txn names no key: give at least one compare or operation");
  return [...new Set(keys.map(namespaceOf))];
}

function resultJson(r: TxnOpResult) {
  switch (r.type) {
    case "put":
      return { type: r.type, change: r.change, entry: entryJson(r.entry) };
    case "delete":
      return { type: r.type, deleted: r.deleted ? entryJson(r.deleted) : null };
    case "get":
      if (r.entry === null) return { type: r.type, entry: null };
      return {
        type: r.type,
        entry: entryJson(r.entry),
        value: encodeValue(r.entry.contentType, r.value),
      };
  }
}

export const txn = defineRoute({
  method: "post",
  path: "/v1/txn",
  operationId: "txn",
  tags: ["kv"],
  summary: "Atomic multi-key transaction",
  description:
    "etcd style: if every compare holds, run success, else failure. Compares on modRevision, " +
    "version, exists or value (byte equality; a JSON value is compared as JSON.stringify " +
    "writes it). Keys may be in any namespaces: across shards the txn is a two-phase commit, " +
    "atomic and strictly serializable; the answer then carries revisions (one per namespace) " +
    "and a multi-shard X-Edgecfg-Revision token. A key held by another cross-shard txn " +
    `answers 409 with Retry-After. At most ${storeLimits.txnOpsMax} compares + operations, ` +
    `${apiLimits.txnValueBytesMax} bytes of values.`,
  query: z.object({ dryRun: DryRunFlag }).strict(),
  body: TxnRequest,
  bodyBytesMax: apiLimits.txnBodyBytesMax,
  headers: z.object({
    "idempotency-key": z.string().optional(),
    "x-edgecfg-fence": fenceHeaderSchema,
  }),
  responses: {
    200: {
      description:
        "The txn ran (a dry run: what it would do; revision: the one it would commit at)",
      content: { "application/json": { schema: z.union([TxnResponse, DryRunTxn]) } },
      headers: headers("X-Edgecfg-Revision", "Idempotent-Replayed", "X-Edgecfg-Dry-Run"),
    },
    ...dryRunProblems(409, 412, 413, 422, 503, 507),
  },
  handler: (c, { query, body }) => {
    const dry = isDryRun(query.dryRun);
    return dryRunnable(dry, async () => {
      const cmd = command(body);
      const namespaces = namespacesOf(cmd);
      for (const namespace of namespaces) await authorize(c, namespace, "write");
      cmd.audit = commandAudit(c);
      const idem = await idempotencyKey(c);
      if (idem !== undefined) cmd.idempotencyKey = idem;
      const fence = fenceOf(c, namespaces);
      if (fence !== undefined) cmd.fence = fence;
      if (namespaces.length > 1) return acrossNamespaces(c, cmd, dry);
      const namespace = namespaces[0]!;
      if (dry) {
        const read = await judge(c, namespace, cmd);
        return dryRunAnswer(c, read, (o) => ({ status: 200, result: txnJson(o) }));
      }
      const { outcome, token } = await c.get("router").write(namespace, cmd);
      const json = txnJson(outcome);
      const headers: Record<string, string> = { [revisionHeader]: token };
      if (outcome.deduplicated) headers[replayedHeader] = "true";
      return c.json(json, 200, headers);
    });
  },
});

/** The request's waitUntil, when it runs in a Worker (Hono throws without an execution context). */
function deferOf(c: Ctx): ((work: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (work) => ctx.waitUntil(work);
  } catch {
    return undefined;
  }
}

async function acrossNamespaces(c: Ctx, cmd: TxnCommand, dry: boolean) {
  if (dry) return dryRunAcross(c, cmd, (o) => ({ status: 200, result: txnJson(o) }), resultJson);
  const answer = await crossShardTxn(c.get("router"), cmd, deferOf(c));
  const headers: Record<string, string> = { [revisionHeader]: answer.token };
  if (answer.replayed) headers[replayedHeader] = "true";
  const json = {
    succeeded: answer.succeeded,
    revisions: answer.revisions,
    results: answer.results.map(resultJson),
  };
  return c.json(json, 200, headers);
}
