// `edgecfg audit NS` (who changed a namespace, when and why) and `edgecfg kv blame KEY` (the
// same for each retained version of one key). Tables for people, --json for scripts.
import { Command } from "commander";
import type { Actor } from "../../client/index.ts";
import { action, type CommandContext } from "../command.ts";
import { UsageError } from "../exit.ts";
import type { Io } from "../io.ts";
import { println, printJson } from "../io.ts";
import { intArg } from "../options.ts";

const namespacePattern = /^(?:[a-z0-9][a-z0-9_.-]{0,62}|_sys)$/;

export function auditCommand(io: Io): Command {
  return new Command("audit")
    .argument("<namespace>", "the namespace (or _sys: token and settings changes, admin)")
    .description("who changed a namespace, when and why: its revisions, newest first")
    .option("--limit <n>", "show at most this many revisions", "100")
    .action(action(io, audit));
}

/** "admin", "ci-deploy (tok_…)", "tok_…", "system". */
export function actorText(actor: Actor | undefined): string {
  if (actor === undefined) return "-";
  if (actor.kind !== "token") return actor.kind;
  return actor.name ? `${actor.name} (${actor.id})` : (actor.id ?? "token");
}

/** Rows as aligned columns; the last column is left unpadded. */
function printTable(ctx: CommandContext, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) {
    const cells = row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)));
    println(ctx.io.stdout, cells.join("  ").trimEnd());
  }
}

async function audit(ctx: CommandContext, namespace: string, o: { limit: string }): Promise<void> {
  if (!namespacePattern.test(namespace))
    throw new UsageError(`NAMESPACE must be a namespace name such as myapp; got "${namespace}"`);
  const limit = intArg(o.limit, "--limit");
  const items = [];
  for await (const item of ctx.client.auditAll(namespace, { limit: Math.min(limit, 1000) })) {
    if (items.length >= limit) break;
    items.push(item);
  }
  if (ctx.global.json) return printJson(ctx.io.stdout, items);
  if (items.length === 0) {
    ctx.io.stderr.write(`no audited revisions of ${namespace} are retained\n`);
    return;
  }
  const rows = items.map((i) => [
    `r${i.revision}`,
    i.at,
    actorText(i.actor),
    i.op,
    i.keys.join(","),
    i.reason ?? "",
  ]);
  printTable(ctx, ["REVISION", "TIME", "ACTOR", "OP", "KEYS", "REASON"], rows);
}

export async function blame(ctx: CommandContext, key: string): Promise<void> {
  const items = await ctx.client.history(key);
  const versions = items.map((h) => ({
    revision: h.modRevision,
    version: h.version,
    deleted: h.deleted,
    at: h.at ?? h.updatedAt,
    ...(h.actor === undefined ? {} : { actor: h.actor }),
    ...(h.reason === undefined ? {} : { reason: h.reason }),
    ...(h.requestId === undefined ? {} : { requestId: h.requestId }),
  }));
  if (ctx.global.json) return printJson(ctx.io.stdout, versions);
  const rows = versions.map((v) => [
    `r${v.revision}`,
    v.at,
    actorText(v.actor),
    v.deleted ? "deleted" : `v${v.version}`,
    v.reason ?? "",
  ]);
  printTable(ctx, ["REVISION", "TIME", "ACTOR", "VERSION", "REASON"], rows);
}
