// Dry runs (http-api.md "Safe publishing"): `?dryRun=true` on PUT, DELETE, txn, apply and
// rollback. The route does everything it does for the real write (auth, validation, the command)
// and then, instead of proposing the command, asks the shard what it would do: a linearizable
// read (ReadIndex, or the leader's read lease) that runs the command on a fork of the state
// (src/store/dry-run.ts), so preconditions and every commit-time check are judged exactly as a
// write proposed now would be. The answer has the status the write would have, the header
// X-Edgecfg-Dry-Run: true and {dryRun, baseRevision, result, diff}; a write that would fail
// answers its problem, with dryRun: true. Nothing is written, no revision is consumed, and no
// Idempotency-Key is recorded or replayed.
import { z } from "@hono/zod-openapi";
import type { Read } from "../router/index.ts";
import type { DiffItem, DryRunCommand, DryRunResult, WriteOutcome } from "../store/index.ts";
import { revisionHeader } from "./consistency.ts";
import type { Ctx } from "./context.ts";
import { ApiProblem } from "./problem.ts";
import { EncodedValue, Flag, headers, problems } from "./schemas.ts";
import { encodeValue } from "./values.ts";

export const dryRunHeader = "X-Edgecfg-Dry-Run";

/** The query parameter, on each route that takes it. */
export const DryRunFlag = Flag.openapi({
  description:
    "true: run every check and answer what the write would do (status, result, diff) without " +
    "writing anything; X-Edgecfg-Dry-Run: true says so",
});

/** A dry-runnable route's problems: each may carry X-Edgecfg-Dry-Run. */
export function dryRunProblems(...statuses: number[]): ReturnType<typeof problems> {
  const out = problems(...statuses);
  for (const r of Object.values(out)) r.headers = { ...r.headers, ...headers("X-Edgecfg-Dry-Run") };
  return out;
}

export function isDryRun(flag: "" | "true" | "false" | undefined): boolean {
  return flag === "" || flag === "true";
}

const DiffEntry = z
  .object({
    key: z.string(),
    change: z.enum(["create", "update", "delete"]),
    before: EncodedValue.optional(),
    after: EncodedValue.optional(),
  })
  .openapi("DiffEntry");

/** The body of a dry run's answer, around what the write would have answered (`result`). */
export function dryRunBody(result: z.ZodType, name: string) {
  return z
    .object({
      dryRun: z.literal(true),
      baseRevision: z
        .number()
        .int()
        .openapi({
          description:
            "The namespace's revision (its last modRevision, the bundle ETag) in the state the " +
            "dry run was judged on: send it as ifRevision to apply only onto that state",
        }),
      result: result.openapi({ description: "What the write would have answered" }),
      diff: z.array(DiffEntry).openapi({ description: "The keys it would change, in key order" }),
    })
    .openapi(name);
}

/** The shard's verdict on `command`, judged on its linearizable state. */
export async function judge(
  c: Ctx,
  namespace: string,
  command: DryRunCommand,
): Promise<Read<DryRunResult>> {
  return c
    .get("router")
    .read(namespace, { type: "dryRun", command }, { consistency: "linearizable" });
}

/** What a route answers for an outcome: its status and body, or its problem (thrown). */
export type Shape = (outcome: WriteOutcome) => { status: 200 | 201; result: unknown };

/**
 * The answer of a dry run: `shape` (the route's own, as for the real write) gives the status and
 * result the write would have, or throws the problem it would answer, then marked as a dry run.
 */
export function dryRunAnswer(c: Ctx, read: Read<DryRunResult>, shape: Shape): Response {
  const baseRevision = read.result.namespaceRevision;
  let shaped: ReturnType<Shape>;
  try {
    shaped = shape(read.result.outcome);
  } catch (error) {
    throw error instanceof ApiProblem ? dryRunProblem(error, baseRevision) : error;
  }
  const body = {
    dryRun: true,
    baseRevision,
    result: shaped.result,
    diff: read.result.diff.map(diffJson),
  };
  return c.json(body, shaped.status, { [dryRunHeader]: "true", [revisionHeader]: read.token });
}

export function diffJson(d: DiffItem) {
  return {
    key: d.key,
    change: d.change,
    ...(d.before ? { before: encodeValue(d.before.contentType, d.before.value) } : {}),
    ...(d.after ? { after: encodeValue(d.after.contentType, d.after.value) } : {}),
  };
}

/** Runs a handler; in a dry run, a problem it throws (bad input, no permission) says so too. */
export async function dryRunnable(dry: boolean, run: () => Promise<Response>): Promise<Response> {
  if (!dry) return run();
  try {
    return await run();
  } catch (error) {
    throw error instanceof ApiProblem ? dryRunProblem(error) : error;
  }
}

function dryRunProblem(error: ApiProblem, baseRevision?: number): ApiProblem {
  const init = error.init;
  if (init.extensions?.dryRun === true) return error;
  return new ApiProblem({
    ...init,
    extensions: {
      ...init.extensions,
      dryRun: true,
      ...(baseRevision === undefined ? {} : { baseRevision }),
    },
    headers: { ...init.headers, [dryRunHeader]: "true" },
  });
}
