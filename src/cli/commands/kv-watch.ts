// `kv watch PREFIX`: prints changes as they commit, until Ctrl-C. With --json, one JSON object per
// line (NDJSON), so a script can `while read` it.
import { Command } from "commander";
import type { WatchEvent } from "../../client/index.ts";
import { action, type CommandContext } from "../command.ts";
import type { Io } from "../io.ts";
import { println } from "../io.ts";
import { intArg, prefixArg } from "../options.ts";

export function watchCommand(io: Io): Command {
  return new Command("watch")
    .argument("<prefix>", "a namespace (myapp), or namespace/partial-name", prefixArg)
    .description("print changes under a prefix as they happen (until Ctrl-C)")
    .option("--from-revision <n>", "start at this revision (inclusive) instead of now")
    .option("--no-values", "leave values out of put events")
    .action(action(io, watchPrefix));
}

async function watchPrefix(
  ctx: CommandContext,
  prefix: string,
  o: { fromRevision?: string; values: boolean },
): Promise<void> {
  const events = ctx.client.watch({
    prefix,
    values: o.values,
    ...(o.fromRevision !== undefined
      ? { fromRevision: intArg(o.fromRevision, "--from-revision") }
      : {}),
    ...(ctx.io.signal ? { signal: ctx.io.signal } : {}),
  });
  for await (const event of events) {
    println(ctx.io.stdout, ctx.global.json ? JSON.stringify(event) : describe(event));
  }
}

function describe(event: WatchEvent): string {
  switch (event.type) {
    case "put":
      return (
        `put ${event.key} r${event.modRevision} v${event.version}` +
        ("value" in event ? ` ${JSON.stringify(event.value)}` : "")
      );
    case "delete":
      return `delete ${event.key} r${event.modRevision}`;
    case "resync":
      return `resync at r${event.revision}: ${event.entries.length} keys (history was compacted; this is the whole state)`;
  }
}
