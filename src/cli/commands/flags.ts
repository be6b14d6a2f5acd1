// `edgecfg flags …`: the namespace's feature flags, evaluated here from its bundle (one
// revision) with the same rules as the store's OFREP endpoints and edgecfg/openfeature: flagd
// definitions through flagd's core, other JSON and text values as static flags.
import { Command } from "commander";
import { FlagSet, flagSourcesOf, isFailure, type FlagSummary } from "../../flags/index.ts";
import { action, type CommandContext } from "../command.ts";
import { ExitError, exitCodes, UsageError } from "../exit.ts";
import type { Io } from "../io.ts";
import { printJson, println } from "../io.ts";

export function flagsCommand(io: Io): Command {
  const flags = new Command("flags").description("list|eval: feature flags of a namespace");
  flags
    .command("list")
    .argument("<namespace>")
    .description("list the flags: flagd definitions (state, variants) and static values")
    .action(action(io, list));
  flags
    .command("eval")
    .argument("<namespace>")
    .argument("<key>", "the flag: a name in the namespace")
    .description("evaluate one flag against a context; prints value, reason and variant")
    .option("--context <json>", "the evaluation context, a JSON object", "{}")
    .action(action(io, evaluate));
  return flags;
}

async function flagSet(ctx: CommandContext, namespace: string) {
  const bundle = await ctx.client.bundle(namespace);
  return { revision: bundle.revision, set: new FlagSet(flagSourcesOf(bundle)) };
}

function summaryLine(f: FlagSummary): string {
  if (f.kind === "static") return `${f.key}\tstatic\t${f.variant}`;
  if (f.kind === "invalid") return `${f.key}\tinvalid\t${f.details}`;
  const dflt = f.defaultVariant === undefined ? "" : ` default=${f.defaultVariant}`;
  return `${f.key}\tflagd\t${f.state} variants=${f.variants.join(",")}${dflt}`;
}

async function list(ctx: CommandContext, namespace: string): Promise<void> {
  const { revision, set } = await flagSet(ctx, namespace);
  const flags = set.describe();
  if (ctx.global.json) return printJson(ctx.io.stdout, { namespace, revision, flags });
  for (const f of flags) println(ctx.io.stdout, summaryLine(f));
}

function parseContext(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--context is not JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new UsageError('--context must be a JSON object, e.g. \'{"targetingKey":"u1"}\'');
  return parsed as Record<string, unknown>;
}

async function evaluate(
  ctx: CommandContext,
  namespace: string,
  key: string,
  o: { context: string },
): Promise<void> {
  const context = parseContext(o.context);
  const { revision, set } = await flagSet(ctx, namespace);
  const evaluation = set.evaluate(key, context);
  if (ctx.global.json) printJson(ctx.io.stdout, { ...evaluation, revision });
  else if (!isFailure(evaluation)) {
    const value =
      evaluation.value === undefined ? "(code default)" : JSON.stringify(evaluation.value);
    const variant = evaluation.variant === undefined ? "" : ` variant=${evaluation.variant}`;
    println(ctx.io.stdout, `${value}\treason=${evaluation.reason}${variant}`);
  }
  if (!isFailure(evaluation)) return;
  const code = evaluation.errorCode === "FLAG_NOT_FOUND" ? exitCodes.notFound : exitCodes.error;
  throw new ExitError(code, `${evaluation.errorCode}: ${evaluation.errorDetails}`);
}
