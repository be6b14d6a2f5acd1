// `edgecfg ns …`: whole namespaces as bundles — read, export to a file, import from one.
import { Command } from "commander";
import { action, type CommandContext } from "../command.ts";
import type { Io } from "../io.ts";
import { printJson } from "../io.ts";
import { progressFor } from "../progress.ts";
import { importBundle } from "./ns-import.ts";
import { nsTypes } from "./ns-types.ts";
import { applyNs, diffNs, rollbackNs } from "./ns-publish.ts";

export function nsCommand(io: Io): Command {
  const ns = new Command("ns").description(
    "get|export|import|diff|apply|rollback: namespaces as bundles; types: TS from their schemas",
  );
  ns.command("get")
    .argument("<namespace>")
    .description("print the namespace bundle {namespace, revision, entries}")
    .option("--stale", "allow any replica to answer from possibly older state")
    .action(action(io, get));
  ns.command("export")
    .argument("<namespace>")
    .description("write the bundle (one consistent snapshot) to stdout or a file")
    .option("-o, --output <file>", "write to this file instead of stdout")
    .action(action(io, exportNs));
  ns.command("import")
    .argument("<namespace>")
    .argument("<file>", 'a bundle file (from `ns export`), "-" for stdin')
    .description(
      "write every key of a bundle: unchanged keys are skipped, others written by compare-and-set",
    )
    .option("--concurrency <n>", "writes in flight at once", "8")
    .action(action(io, importBundle));
  ns.command("types")
    .argument("<namespace>")
    .description(
      "print TypeScript types generated from the namespace's schemas, one per name prefix " +
        '("flags/" -> Flags), for client.getJSON<Flags>(key)',
    )
    .option("-o, --output <file>", "write to this file instead of stdout")
    .action(action(io, nsTypes));
  ns.command("diff")
    .argument("<namespace>")
    .argument("<source>", 'a directory (one file per name) or a bundle file, "-" for stdin')
    .description("show what `ns apply` would change (a dry run: nothing is written)")
    .option("--prune", "also show the keys that are not in the source as deleted")
    .action(action(io, diffNs));
  ns.command("apply")
    .argument("<namespace>")
    .argument("[source]", "a directory (flags.json -> flags) or a bundle file")
    .description(
      "make the namespace hold exactly the source's entries, as one atomic change; " +
        "plan with --plan-out, then apply exactly that plan with --plan (exit 3 if it went stale)",
    )
    .option("--prune", "also delete the keys that are not in the source")
    .option("--plan-out <file>", "write the plan (base revision and diff) and apply nothing")
    .option("--plan <file>", "apply this plan, only onto the revision it was made at")
    .option("--dry-run", "show what would change and apply nothing")
    .action(action(io, applyNs));
  ns.command("rollback")
    .argument("<namespace>")
    .description("restore the namespace's entries as of a revision, as one new revision")
    .requiredOption("--to-revision <revision>", "the revision to restore (e.g. a bundle ETag)")
    .option("--if-revision <revision>", "only while the namespace is still at this revision")
    .option("--dry-run", "show what would change and roll back nothing")
    .action(action(io, rollbackNs));
  return ns;
}

async function get(ctx: CommandContext, namespace: string, o: { stale?: boolean }): Promise<void> {
  printJson(
    ctx.io.stdout,
    await ctx.client.bundle(namespace, o.stale ? { consistency: "stale" } : {}),
  );
}

async function exportNs(
  ctx: CommandContext,
  namespace: string,
  o: { output?: string },
): Promise<void> {
  const progress = progressFor(ctx.io, ctx.global.json);
  progress.start(1, "bytes");
  const bundle = await ctx.client
    .bundle(namespace, {
      onProgress: (received, total) => progress.update(received, total ?? received),
    })
    .finally(() => progress.stop());
  const text = JSON.stringify(bundle, null, 2) + "\n";
  if (o.output === undefined) ctx.io.stdout.write(text);
  else await ctx.io.writeFile(o.output, text);
  const count = Object.keys(bundle.entries).length;
  if (o.output !== undefined) {
    ctx.io.stderr.write(
      `exported ${count} keys of ${namespace} at revision ${bundle.revision} to ${o.output}\n`,
    );
  }
}
