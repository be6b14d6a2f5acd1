// `edgecfg kv …`: one key at a time (get, put, delete, history, rollback) and prefixes (ls, watch).
import { Command, Option } from "commander";
import type { DryRun, Value } from "../../client/index.ts";
import { decodeValue, bytesToBase64, isTextType } from "../../client/index.ts";
import { action, type CommandContext } from "../command.ts";
import { UsageError } from "../exit.ts";
import type { Io } from "../io.ts";
import { println, printJson } from "../io.ts";
import { intArg, keyArg, namespaceOf, prefixArg } from "../options.ts";
import { inferContentType, readValue } from "../value-input.ts";
import { printPlan } from "../plan-output.ts";
import { blame } from "./audit.ts";
import { rollback } from "./kv-rollback.ts";
import { watchCommand } from "./kv-watch.ts";

export function kvCommand(io: Io): Command {
  const kv = new Command("kv").description(
    "get|put|delete|ls|history|blame|rollback|watch: keys (KEY is namespace/name)",
  );
  kv.command("get")
    .argument("<key>", "namespace/name", keyArg)
    .description("print a value (raw bytes; --json for value and metadata)")
    .option("--revision <n>", "read the version live at this revision (from `kv history`)")
    .option("--meta", "print the entry's metadata instead of the value")
    .option("--stale", "allow any replica to answer from possibly older state (faster)")
    .action(action(io, get));
  kv.command("put")
    .argument("<key>", "namespace/name", keyArg)
    .argument("[value]", 'the value; "-" reads stdin')
    .description("write a value (from the argument, --file, or stdin)")
    .option("-f, --file <path>", 'read the value from a file ("-" for stdin)')
    .option(
      "--content-type <type>",
      "default: by file extension, else JSON if it parses as an object/array, else text",
    )
    .addOption(
      new Option(
        "--if-match <etag>",
        `compare-and-set: write only if the current ETag is this (e.g. '"r42"', quotes included)`,
      ).conflicts("createOnly"),
    )
    .option("--create-only", "write only if the key does not exist")
    .option("--dry-run", "show what the write would change; write nothing")
    .option(
      "--lease <id>",
      "attach the key to a lease of its namespace (`lease grant`): deleted when the lease ends",
    )
    .action(action(io, put));
  kv.command("delete")
    .alias("rm")
    .argument("<key>", "namespace/name", keyArg)
    .description("delete a key")
    .option("--if-match <etag>", "delete only if the current ETag is this")
    .option("--dry-run", "show what the delete would change; delete nothing")
    .action(action(io, del));
  kv.command("ls")
    .argument("<prefix>", "a namespace (myapp), or namespace/partial-name", prefixArg)
    .description("list keys under a prefix")
    .option("--values", "include values")
    .option("--limit <n>", "stop after this many keys")
    .action(action(io, ls));
  kv.command("history")
    .argument("<key>", "namespace/name", keyArg)
    .description("retained versions of a key, newest first")
    .action(action(io, history));
  kv.command("blame")
    .argument("<key>", "namespace/name", keyArg)
    .description("who wrote each retained version of a key, when and why, newest first")
    .action(action(io, blame));
  kv.command("rollback")
    .argument("<key>", "namespace/name", keyArg)
    .requiredOption("--to <version>", "the version to restore (see `kv history`)")
    .description("write an old version's value as a new version (history is never rewritten)")
    .action(action(io, rollback));
  kv.addCommand(watchCommand(io));
  return kv;
}

type GetOpts = { revision?: string; meta?: boolean; stale?: boolean };

async function get(ctx: CommandContext, key: string, o: GetOpts): Promise<void> {
  const read = {
    ...(o.revision ? { revision: intArg(o.revision, "--revision") } : {}),
    ...(o.stale ? { consistency: "stale" as const } : {}),
  };
  if (o.meta) return printJson(ctx.io.stdout, await ctx.client.meta(key, read));
  const value = await ctx.client.get(key, read);
  if (ctx.global.json) return printJson(ctx.io.stdout, valueJson(value));
  ctx.io.stdout.write(value.bytes);
  // A terminal prompt should not be glued to the value; pipes get the bytes exactly.
  if (ctx.io.stdout.isTTY && value.bytes.at(-1) !== 0x0a) println(ctx.io.stdout);
}

export function valueJson(value: Value): Record<string, unknown> {
  const decoded = isTextType(value.contentType)
    ? decodeValue(value.bytes, value.contentType)
    : { base64: bytesToBase64(value.bytes) };
  return {
    key: value.key,
    etag: value.etag,
    version: value.version,
    contentType: value.contentType,
    value: decoded,
  };
}

type PutOpts = {
  file?: string;
  contentType?: string;
  ifMatch?: string;
  createOnly?: boolean;
  dryRun?: boolean;
  lease?: string;
};

/** A dry run's answer: the dry run's document with --json, else the plan's lines. */
function printDryRun(ctx: CommandContext, key: string, plan: DryRun<unknown>): void {
  if (ctx.global.json) printJson(ctx.io.stdout, plan);
  else printPlan(ctx.io.stdout, namespaceOf(key), plan);
}

async function put(
  ctx: CommandContext,
  key: string,
  arg: string | undefined,
  o: PutOpts,
): Promise<void> {
  if (o.lease !== undefined) checkLease(key, o.lease);
  const { bytes, fileName } = await readValue(ctx.io, { arg, file: o.file });
  const contentType = inferContentType(bytes, fileName, o.contentType);
  const options = {
    contentType,
    ...(o.ifMatch ? { ifMatch: o.ifMatch } : {}),
    ...(o.createOnly ? { createOnly: true } : {}),
    ...(o.lease === undefined ? {} : { lease: o.lease }),
  };
  if (o.dryRun) return printDryRun(ctx, key, await ctx.client.dryRun.put(key, bytes, options));
  const result = await ctx.client.put(key, bytes, options);
  if (ctx.global.json)
    return printJson(ctx.io.stdout, {
      key,
      etag: result.etag,
      created: result.created,
      entry: result.entry,
    });
  println(
    ctx.io.stdout,
    `${result.created ? "created" : "updated"} ${key}: version ${result.entry.version}, ETag ${result.etag}`,
  );
}

/** A lease id names its namespace ("{namespace}~{n}"); a key joins only a lease of its own. */
function checkLease(key: string, lease: string): void {
  const namespace = namespaceOf(key);
  const of = /^([a-z0-9][a-z0-9_.-]*)~[1-9][0-9]*$/.exec(lease)?.[1];
  if (of === undefined)
    throw new UsageError(
      `--lease ${lease}: not a lease id (e.g. ${namespace}~12, from \`lease grant\`)`,
    );
  if (of !== namespace) {
    throw new UsageError(
      `--lease ${lease} is a lease of namespace ${of}: a key of ${namespace} joins only a lease ` +
        `of its own (\`edgecfg lease grant ${namespace} --ttl 30\`)`,
    );
  }
}

async function del(
  ctx: CommandContext,
  key: string,
  o: { ifMatch?: string; dryRun?: boolean },
): Promise<void> {
  const options = o.ifMatch ? { ifMatch: o.ifMatch } : {};
  if (o.dryRun) return printDryRun(ctx, key, await ctx.client.dryRun.delete(key, options));
  await ctx.client.delete(key, options);
  if (ctx.global.json) return printJson(ctx.io.stdout, { key, deleted: true });
  println(ctx.io.stdout, `deleted ${key}`);
}

async function ls(
  ctx: CommandContext,
  prefix: string,
  o: { values?: boolean; limit?: string },
): Promise<void> {
  const limit = o.limit === undefined ? Infinity : intArg(o.limit, "--limit");
  const items = [];
  // Pages no larger than needed: the server allows at most 1000 items per page.
  const pageLimit = Number.isFinite(limit) ? { limit: Math.max(1, Math.min(limit, 1000)) } : {};
  for await (const item of ctx.client.listAll(prefix, {
    values: o.values === true,
    ...pageLimit,
  })) {
    if (items.length >= limit) break;
    items.push(item);
  }
  if (ctx.global.json) return printJson(ctx.io.stdout, items);
  for (const i of items) {
    const value = o.values ? "  " + JSON.stringify(i.value) : "";
    println(
      ctx.io.stdout,
      `${i.key}  v${i.version}  r${i.modRevision}  ${i.size} B  ${i.contentType}  ${i.updatedAt}${value}`,
    );
  }
}

async function history(ctx: CommandContext, key: string): Promise<void> {
  const items = await ctx.client.history(key);
  if (ctx.global.json) return printJson(ctx.io.stdout, items);
  for (const h of items) {
    const what = h.deleted ? "deleted" : `version ${h.version}, ${h.size} B`;
    println(ctx.io.stdout, `r${h.modRevision}  ${h.updatedAt}  ${what}`);
  }
}
