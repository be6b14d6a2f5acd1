// `POST /v1/txn?dryRun=true` across namespaces (http-api.md "Safe publishing": a dry run answers
// what the write would do; "Transactions across namespaces"). Each shard judges its part as the
// store would apply it (a shardTxn on a fork of its state, src/store/dry-run.ts), in two rounds:
// every part with its compares first; when one does not hold, the whole txn would run its
// failure branch, so every part is judged again with its failure operations. The parts are
// judged one shard at a time, not at one snapshot: a dry run is advice, and the real txn
// re-checks everything at its prepare. The answer is the single-namespace one plus
// `baseRevisions` (each namespace's revision, as `baseRevision` is the first's) and, in the
// result, `revisions` in place of `revision`, as the real answer has.
import { formatTokens, partsOf, type Read, type Router } from "../../router/index.ts";
import type {
  DryRunResult,
  ShardTxnCommand,
  TxnCommand,
  TxnOp,
  TxnCompare,
  TxnOpResult,
  TxnOutcome,
} from "../../store/index.ts";
import { namespaceOf } from "../../store/index.ts";
import { revisionHeader } from "../consistency.ts";
import type { Ctx } from "../context.ts";
import { diffJson, dryRunAnswer, dryRunHeader, judge } from "../dry-run.ts";

type Part = Awaited<ReturnType<typeof partsOf>>[number];

/** The dry run's answer; `shape` turns a part's outcome into its JSON, or throws its problem. */
export async function dryRunAcross(
  c: Ctx,
  cmd: TxnCommand,
  shape: (o: DryRunResult["outcome"]) => { status: 200; result: unknown },
  resultJson: (r: TxnOpResult) => unknown,
): Promise<Response> {
  const router: Router = c.get("router");
  const parts = await partsOf(router, cmd);
  const judged = (ops: (p: Part) => [TxnCompare[], TxnOp[], TxnOp[]]) =>
    Promise.all(parts.map((p) => judge(c, p.namespaces[0]!, partCommand(cmd, ...ops(p)))));
  const first = await judged((p) => [p.compare, p.success, p.failure]);
  for (const read of first) if (read.result.outcome.type !== "txn") dryRunAnswer(c, read, shape);
  const held = first.every((r) => r.result.outcome.type === "txn" && r.result.outcome.succeeded);
  const reads = held ? first : await judged((p) => [[], p.failure, []]);
  for (const read of reads) if (read.result.outcome.type !== "txn") dryRunAnswer(c, read, shape);
  return c.json(body(cmd, parts, reads, held, resultJson), 200, {
    [dryRunHeader]: "true",
    [revisionHeader]: formatTokens(
      new Map(parts.map((p, i) => [p.shard, reads[i]!.result.revision])),
    ),
  });
}

function partCommand(cmd: TxnCommand, compare: TxnCompare[], success: TxnOp[], failure: TxnOp[]) {
  const part: ShardTxnCommand = { type: "shardTxn", atMs: cmd.atMs, compare, success, failure };
  if (cmd.audit !== undefined) part.audit = cmd.audit;
  if (cmd.fence !== undefined) part.fence = cmd.fence;
  return part;
}

function body(
  cmd: TxnCommand,
  parts: Part[],
  reads: Read<DryRunResult>[],
  held: boolean,
  resultJson: (r: TxnOpResult) => unknown,
) {
  const partOf = new Map(parts.flatMap((p, i) => p.namespaces.map((n) => [n, i] as const)));
  const next = parts.map(() => 0);
  // Every part answered a txn (dryRunAcross answered the problem otherwise).
  const opResults = reads.map((r) => (r.result.outcome as TxnOutcome).results);
  const results = (held ? cmd.success : cmd.failure).map((op) => {
    const i = partOf.get(namespaceOf(op.key))!;
    return resultJson(opResults[i]![next[i]!++]!);
  });
  const revisions: Record<string, number> = {};
  const baseRevisions: Record<string, number> = {};
  parts.forEach((p, i) => {
    const { outcome, namespaceRevisions } = reads[i]!.result;
    for (const n of p.namespaces) {
      revisions[n] = outcome.revision;
      baseRevisions[n] = namespaceRevisions[n] ?? 0;
    }
  });
  const diff = reads.flatMap((r) => r.result.diff).sort((a, b) => (a.key < b.key ? -1 : 1));
  return {
    dryRun: true,
    baseRevision: baseRevisions[namespaceOf(firstKey(cmd))] ?? 0,
    baseRevisions,
    result: { succeeded: held, revisions, results },
    diff: diff.map(diffJson),
  };
}

function firstKey(cmd: TxnCommand): string {
  return (cmd.compare[0] ?? cmd.success[0] ?? cmd.failure[0])!.key;
}
