// Flag evaluation of the Workers binding: the OFREP endpoints' evaluation (one bundle, one
// revision, the isolate's FlagSet of it), answered as OFREP's objects without HTTP.
import type { Router } from "../router/index.ts";
import type { Evaluation, EvaluationContext } from "../flags/index.ts";
import { formatETag } from "./etag.ts";
import { checkNamespace } from "./keys.ts";
import { flagSetOf, readFlagBundle } from "./ofrep-flags.ts";
import { badRequest } from "./problem.ts";

export interface RpcEvaluateOptions {
  consistency?: "linearizable" | "stale";
}

function checkedContext(context: unknown): EvaluationContext {
  if (context === undefined) return {};
  if (typeof context !== "object" || context === null || Array.isArray(context))
    throw badRequest("the evaluation context must be an object");
  return context as EvaluationContext;
}

async function flagSet(router: Router, namespace: string, o: RpcEvaluateOptions | undefined) {
  const ns = checkNamespace(namespace);
  const options = { consistency: o?.consistency ?? "linearizable" } as const;
  const { bundle } = await readFlagBundle(router, ns, options);
  return { ns, revision: bundle.namespaceRevision, set: flagSetOf(ns, bundle) };
}

export async function rpcEvaluate(
  router: Router,
  namespace: string,
  key: string,
  context?: unknown,
  o?: RpcEvaluateOptions,
): Promise<Evaluation> {
  const ctx = checkedContext(context);
  return (await flagSet(router, namespace, o)).set.evaluate(key, ctx);
}

export async function rpcEvaluateAll(
  router: Router,
  namespace: string,
  context?: unknown,
  o?: RpcEvaluateOptions,
) {
  const ctx = checkedContext(context);
  const { ns, revision, set } = await flagSet(router, namespace, o);
  return { namespace: ns, revision, etag: formatETag(revision), flags: set.evaluateAll(ctx) };
}
