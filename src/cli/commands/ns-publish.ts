// `ns diff`, `ns apply`, `ns rollback`: publish a namespace from files with one compare-and-set.
// The deploy-script flow: `ns apply NS DIR --plan-out plan.json` (a dry run: nothing written),
// review the plan, then `ns apply NS --plan plan.json`, which applies exactly what was reviewed
// (ifRevision = the revision the plan was made at) or fails with exit code 3 when the namespace
// changed since, so nobody else's change is overwritten unseen.
import {
  ConflictError,
  ForbiddenError,
  type ApplyRequest,
  type DryRun,
} from "../../client/index.ts";
import type { NamespaceWriteResult } from "../../client/index.ts";
import type { CommandContext } from "../command.ts";
import { readDesired } from "../desired.ts";
import { UsageError } from "../exit.ts";
import { println, printJson, text } from "../io.ts";
import { intArg } from "../options.ts";
import { localPlan } from "../local-diff.ts";
import { printPlan } from "../plan-output.ts";

const planFormat = 1;

/** A plan file: what to send and what it was reviewed as. */
interface PlanFile {
  edgecfgPlan: number;
  namespace: string;
  baseRevision: number;
  request: ApplyRequest;
  diff: DryRun<NamespaceWriteResult>["diff"];
}

async function plan(ctx: CommandContext, namespace: string, source: string, prune?: boolean) {
  const request = { ...(await readDesired(ctx.io, source)), ...(prune ? { prune: true } : {}) };
  return { request, planned: await ctx.client.namespaces.plan(namespace, request) };
}

export async function diffNs(
  ctx: CommandContext,
  namespace: string,
  source: string,
  o: { prune?: boolean },
): Promise<void> {
  const request = { ...(await readDesired(ctx.io, source)), ...(o.prune ? { prune: true } : {}) };
  const planned = await ctx.client.namespaces.plan(namespace, request).catch(async (e: unknown) => {
    if (!(e instanceof ForbiddenError)) throw e;
    ctx.io.stderr.write(
      "note: this token may not write here, so the diff is computed from a read of the " +
        "namespace; schemas and quotas are checked only by a dry run (a token with write scope)\n",
    );
    return localPlan(await ctx.client.bundle(namespace), request);
  });
  if (ctx.global.json) printJson(ctx.io.stdout, planned);
  else printPlan(ctx.io.stdout, namespace, planned);
}

interface ApplyFlags {
  prune?: boolean;
  planOut?: string;
  plan?: string;
  dryRun?: boolean;
}

export async function applyNs(
  ctx: CommandContext,
  namespace: string,
  source: string | undefined,
  o: ApplyFlags,
): Promise<void> {
  if (o.plan !== undefined) {
    if (source !== undefined || o.prune || o.planOut !== undefined || o.dryRun)
      throw new UsageError(
        "--plan applies a reviewed plan as it is: give no FILE|DIR, --prune or --plan-out",
      );
    return applyPlan(ctx, namespace, o.plan);
  }
  if (source === undefined)
    throw new UsageError("give the FILE|DIR to apply, or --plan FILE made by --plan-out");
  if (o.planOut === undefined && !o.dryRun) return applyNow(ctx, namespace, source, o.prune);
  const { request, planned } = await plan(ctx, namespace, source, o.prune);
  if (o.planOut !== undefined) {
    const file: PlanFile = {
      edgecfgPlan: planFormat,
      namespace,
      baseRevision: planned.baseRevision,
      request,
      diff: planned.diff,
    };
    await ctx.io.writeFile(o.planOut, JSON.stringify(file, null, 2) + "\n");
  }
  if (ctx.global.json) printJson(ctx.io.stdout, planned);
  else printPlan(ctx.io.stdout, namespace, planned);
  if (o.planOut !== undefined)
    ctx.io.stderr.write(`plan written to ${o.planOut}: apply it with --plan ${o.planOut}\n`);
}

async function applyNow(ctx: CommandContext, namespace: string, source: string, prune?: boolean) {
  const request = { ...(await readDesired(ctx.io, source)), ...(prune ? { prune: true } : {}) };
  report(ctx, await ctx.client.namespaces.apply(namespace, request));
}

async function applyPlan(ctx: CommandContext, namespace: string, path: string): Promise<void> {
  const file = readPlan(
    text(path === "-" ? await ctx.io.readStdin() : await ctx.io.readFile(path)),
    path,
  );
  if (file.namespace !== namespace)
    throw new UsageError(`${path} is a plan for namespace ${file.namespace}, not ${namespace}`);
  const request = { ...file.request, ifRevision: file.baseRevision };
  try {
    report(ctx, await ctx.client.namespaces.apply(namespace, request));
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    throw new ConflictError(412, {
      detail:
        `${namespace} changed since the plan was made at revision ${file.baseRevision}; ` +
        "nothing was applied: make a new plan (--plan-out), review it, and apply that",
    });
  }
}

function readPlan(source: string, path: string): PlanFile {
  let doc: Partial<PlanFile>;
  try {
    doc = JSON.parse(source) as Partial<PlanFile>;
  } catch (error) {
    throw new UsageError(`${path} is not JSON (${(error as Error).message}): not a plan file`);
  }
  if (
    doc.edgecfgPlan !== planFormat ||
    typeof doc.namespace !== "string" ||
    typeof doc.baseRevision !== "number" ||
    typeof doc.request?.entries !== "object"
  ) {
    throw new UsageError(`${path} is not a plan made by \`edgecfg ns apply --plan-out\``);
  }
  return doc as PlanFile;
}

function report(ctx: CommandContext, r: NamespaceWriteResult): void {
  if (ctx.global.json) return printJson(ctx.io.stdout, r);
  if (!r.changed)
    return println(
      ctx.io.stdout,
      `${r.namespace} already matches: nothing to do (revision ${r.revision})`,
    );
  const n = (c: string) => r.changes.filter((x) => x.change === c).length;
  println(
    ctx.io.stdout,
    `applied to ${r.namespace} at revision ${r.revision}: ${n("created")} created, ` +
      `${n("updated")} updated, ${n("deleted")} deleted`,
  );
}

export async function rollbackNs(
  ctx: CommandContext,
  namespace: string,
  o: { toRevision: string; ifRevision?: string; dryRun?: boolean },
): Promise<void> {
  const request = {
    toRevision: intArg(o.toRevision, "--to-revision"),
    ...(o.ifRevision === undefined ? {} : { ifRevision: intArg(o.ifRevision, "--if-revision") }),
  };
  const r = await ctx.client.namespaces.rollback(namespace, request, { dryRun: o.dryRun ?? false });
  if ("dryRun" in r) {
    if (ctx.global.json) return printJson(ctx.io.stdout, r);
    println(ctx.io.stdout, `rollback of ${namespace} to revision ${request.toRevision} would be:`);
    return printPlan(ctx.io.stdout, namespace, r);
  }
  report(ctx, r);
}
