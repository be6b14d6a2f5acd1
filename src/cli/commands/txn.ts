// `edgecfg txn -f FILE`: an etcd-style transaction from a JSON file. Exit 3 when the compares did
// not hold (the failure branch ran), like any other compare-and-set conflict.
import { Command } from "commander";
import type { TxnRequest } from "../../client/index.ts";
import { action, type CommandContext } from "../command.ts";
import { ExitError, UsageError, exitCodes } from "../exit.ts";
import type { Io } from "../io.ts";
import { println, printJson, text } from "../io.ts";
import { namespaceOf } from "../options.ts";
import { printPlan } from "../plan-output.ts";

export const txnExample = `{"compare": [{"key": "app/flags", "target": "version", "op": "=", "value": 3}],
 "success": [{"type": "put", "key": "app/flags", "value": {"beta": true}}],
 "failure": [{"type": "get", "key": "app/flags"}]}`;

export function txnCommand(io: Io): Command {
  return new Command("txn")
    .description(
      "-f FILE: an atomic multi-key transaction (compare, then success or failure ops), in any namespaces",
    )
    .requiredOption("-f, --file <path>", 'the transaction as JSON ("-" for stdin)')
    .option("--dry-run", "show what the txn would change; write nothing")
    .addHelpText(
      "after",
      `\nExample file:\n${txnExample}\n\nExits 3 when the compares did not hold.`,
    )
    .action(action(io, run));
}

async function run(ctx: CommandContext, o: { file: string; dryRun?: boolean }): Promise<void> {
  const source = text(o.file === "-" ? await ctx.io.readStdin() : await ctx.io.readFile(o.file));
  let request: TxnRequest;
  try {
    request = JSON.parse(source) as TxnRequest;
  } catch (error) {
    throw new UsageError(
      `${o.file} is not JSON (${(error as Error).message}); see \`edgecfg txn --help\` for an example`,
    );
  }
  if (o.dryRun) return dryRun(ctx, request);
  const result = await ctx.client.txn(request);
  if (ctx.global.json) printJson(ctx.io.stdout, result);
  else
    println(
      ctx.io.stdout,
      `${result.succeeded ? "succeeded" : "compare failed: failure branch ran"} ${where(result)}`,
    );
  if (!result.succeeded)
    throw new ExitError(exitCodes.conflict, "the compares did not hold, so the failure branch ran");
}

/** "at revision 7", or across namespaces "at revisions app=7, web=12". */
function where(result: { revision?: number; revisions?: Record<string, number> }): string {
  if (result.revisions === undefined) return `at revision ${result.revision}`;
  const each = Object.entries(result.revisions).map(([n, r]) => `${n}=${r}`);
  return `at revisions ${each.join(", ")}`;
}

async function dryRun(ctx: CommandContext, request: TxnRequest): Promise<void> {
  const plan = await ctx.client.dryRun.txn(request);
  const key = (request.success?.[0] ?? request.compare?.[0] ?? request.failure?.[0])?.key;
  if (ctx.global.json) printJson(ctx.io.stdout, plan);
  else {
    println(ctx.io.stdout, plan.result.succeeded ? "the compares hold:" : "the compares fail:");
    printPlan(ctx.io.stdout, namespaceOf(key ?? ""), plan);
  }
  if (!plan.result.succeeded)
    throw new ExitError(
      exitCodes.conflict,
      "the compares would not hold: the failure branch would run",
    );
}
