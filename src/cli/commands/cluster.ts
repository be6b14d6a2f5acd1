// `edgecfg cluster status`: topology and health, as the Worker reports it. A short summary for
// people; --json for the whole document.
import { Command } from "commander";
import { action, type CommandContext } from "../command.ts";
import type { Io } from "../io.ts";
import { println, printJson } from "../io.ts";

export function clusterCommand(io: Io): Command {
  const cluster = new Command("cluster").description("status: topology and health");
  cluster
    .command("status")
    .description("ring, shards and each replica's role, term, commit and applied index")
    .action(action(io, status));
  return cluster;
}

interface Replica {
  id?: string;
  location?: string;
  role?: string;
  term?: number;
  commitIndex?: number;
  appliedIndex?: number;
  lastContact?: string | number | null;
}

interface Shard {
  shard?: number;
  revision?: number;
  replicas?: Replica[];
}

async function status(ctx: CommandContext): Promise<void> {
  const doc = (await ctx.client.cluster()) as { backend?: string; shards?: Shard[] };
  if (ctx.global.json || !Array.isArray(doc.shards)) return printJson(ctx.io.stdout, doc);
  println(ctx.io.stdout, `backend ${doc.backend ?? "?"}, ${doc.shards.length} shards`);
  for (const shard of doc.shards) {
    println(ctx.io.stdout, `shard ${shard.shard ?? "?"}  revision ${shard.revision ?? "?"}`);
    for (const r of shard.replicas ?? []) {
      const contact =
        r.lastContact === null || r.lastContact === undefined
          ? ""
          : `  last contact ${r.lastContact}`;
      println(
        ctx.io.stdout,
        `  ${r.id ?? "?"}  ${r.location ?? "?"}  ${r.role ?? "?"}  term ${r.term ?? "?"}  commit ${r.commitIndex ?? "?"}  applied ${r.appliedIndex ?? "?"}${contact}`,
      );
    }
  }
}
