// `edgecfg cluster …`: topology and health (status), and the cluster operations of http-api.md:
// replica add|remove|replace, leader transfer, reshard, op wait. Operations answer at once with
// their id; --wait (and `op wait`) follows one to its end with a progress bar on a terminal.
import { Command } from "commander";
import type { ClusterOperation } from "../../client/index.ts";
import { action, type CommandContext } from "../command.ts";
import { ExitError, UsageError, exitCodes } from "../exit.ts";
import type { Io } from "../io.ts";
import { println, printJson } from "../io.ts";
import { progressFor } from "../progress.ts";
import { printStatus } from "./cluster-status.ts";

export function clusterCommand(io: Io): Command {
  const cluster = new Command("cluster").description(
    "status | replica add|remove|replace | leader transfer | reshard | op wait (admin)",
  );
  cluster
    .command("status")
    .description("shards and replicas: location, role, voter or learner, lag, last contact")
    .action(action(io, async (ctx) => printStatus(ctx, await ctx.client.cluster())));
  const replica = cluster.command("replica").description("add, remove or replace a replica");
  withWait(replica.command("add").description("add a replica in a location (learner, then voter)"))
    .requiredOption("--shard <n>", "the shard")
    .requiredOption("--location <hint>", 'a Durable Object location hint (e.g. "weur"), or ""')
    .action(
      action(io, (ctx, o: Opts) =>
        run(ctx, o, (s) => ctx.client.operations.addReplica(s, o.location!)),
      ),
    );
  withWait(
    replica.command("remove").description("remove a replica (refused if it costs the quorum)"),
  )
    .argument("<id>", "the replica id, as `edgecfg cluster status` lists it")
    .requiredOption("--shard <n>", "the shard")
    .option("--force", "remove it even if fewer than three voters or no majority would be left")
    .action(
      action(io, (ctx, id: string, o: Opts) =>
        run(ctx, o, (s) => ctx.client.operations.removeReplica(s, id, { force: o.force === true })),
      ),
    );
  withWait(replica.command("replace").description("add a new replica, then remove this one"))
    .argument("<id>", "the replica to replace")
    .requiredOption("--shard <n>", "the shard")
    .option("--location <hint>", "where the new one goes (default: where the old one is)")
    .action(
      action(io, (ctx, id: string, o: Opts) =>
        run(ctx, o, (s) =>
          ctx.client.operations.replaceReplica(
            s,
            id,
            o.location === undefined ? {} : { location: o.location },
          ),
        ),
      ),
    );
  const leader = cluster.command("leader").description("move a shard's leader");
  withWait(leader.command("transfer").description("hand a shard's leadership to one of its voters"))
    .requiredOption("--shard <n>", "the shard")
    .requiredOption("--to <id>", "the replica that is to lead")
    .action(
      action(io, (ctx, o: Opts) =>
        run(ctx, o, (s) => ctx.client.operations.transferLeader(s, o.to!)),
      ),
    );
  reshardCommand(cluster, io);
  const op = cluster.command("op").description("cluster operations");
  op.command("wait")
    .argument("<id>", "the operation id (printed when it started)")
    .description("follow an operation until it is done (exit 0) or failed (exit 1)")
    .action(action(io, async (ctx, id: string) => report(ctx, await follow(ctx, id))));
  return cluster;
}

/** `cluster reshard --shards N [--wait]`: the bar counts namespaces moved, with bytes copied. */
function reshardCommand(cluster: Command, io: Io): void {
  withWait(
    cluster
      .command("reshard")
      .description(
        "grow or shrink the ring online, moving only the namespaces whose shard changes",
      ),
  )
    .requiredOption("--shards <n>", "the number of shards the ring is to have")
    .action(
      action(io, (ctx, o: Opts) =>
        run(ctx, o, () => ctx.client.operations.reshard(countOf(o.shards, "--shards"))),
      ),
    );
}

interface Opts {
  shard?: string;
  location?: string;
  to?: string;
  force?: boolean;
  wait?: boolean;
  shards?: string;
}

function withWait(c: Command): Command {
  return c.option("--wait", "follow the operation until it ends (as `cluster op wait`)");
}

function countOf(raw: string | undefined, flag: string): number {
  const n = Number(raw);
  if (!/^\d{1,4}$/.test(raw ?? "") || n < 1)
    throw new UsageError(
      `${flag} takes a number of shards from 1 (see edgecfg cluster status), got "${raw}"`,
    );
  return n;
}

function shardOf(o: Opts): number {
  const n = Number(o.shard);
  if (!/^\d{1,4}$/.test(o.shard ?? "") || !Number.isSafeInteger(n))
    throw new UsageError(
      `--shard takes a shard number (see edgecfg cluster status), got "${o.shard}"`,
    );
  return n;
}

async function run(
  ctx: CommandContext,
  o: Opts,
  start: (shard: number) => Promise<ClusterOperation>,
): Promise<void> {
  const op = await start(o.shards === undefined ? shardOf(o) : 0);
  if (o.wait === true && op.state === "running") return report(ctx, await follow(ctx, op.id));
  if (ctx.global.json) return printJson(ctx.io.stdout, op);
  println(ctx.io.stdout, describe(op));
  if (op.state === "running") println(ctx.io.stdout, `follow it: edgecfg cluster op wait ${op.id}`);
}

/** Long-polls the operation until it ends, with a progress bar on a terminal. */
async function follow(ctx: CommandContext, id: string): Promise<ClusterOperation> {
  const bar = progressFor(ctx.io, ctx.global.json);
  let op = await ctx.client.operations.get(id);
  bar.start(op.progress.total, unitOf(op));
  while (op.state === "running") {
    bar.update(op.progress.done, op.progress.total, unitOf(op));
    // A reshard moves on every second or so: look more often, for the bar.
    op = await ctx.client.operations.get(id, { waitSeconds: op.kind === "reshard" ? 1 : 20 });
  }
  bar.update(op.progress.done, op.progress.total, unitOf(op));
  bar.stop();
  return op;
}

/** The bar's unit: for a reshard, the namespaces moved and the bytes copied so far. */
function unitOf(op: ClusterOperation): string {
  const r = op.reshard;
  if (r === undefined) return op.progress.unit;
  const moving = r.namespace === undefined ? "" : `, ${r.namespace}`;
  return `${op.progress.unit}, ${r.bytes} bytes${moving}`;
}

function report(ctx: CommandContext, op: ClusterOperation): void {
  if (ctx.global.json) printJson(ctx.io.stdout, op);
  else println(ctx.io.stdout, describe(op));
  if (op.state === "failed")
    throw new ExitError(exitCodes.error, `operation ${op.id} failed: ${op.error ?? "?"}`);
}

function describe(op: ClusterOperation): string {
  const r = op.reshard;
  if (r !== undefined) {
    const pause =
      r.pauseMs === undefined
        ? ""
        : `, write pause p50 ${r.pauseMs.p50} ms p99 ${r.pauseMs.p99} ms max ${r.pauseMs.max} ms`;
    const moved = `${r.moved} of ${op.progress.total} namespaces moved, ${r.bytes} bytes${pause}`;
    const ring = `${r.fromShards} -> ${r.toShards} shards`;
    return `operation ${op.id}: reshard ${ring}: ${op.state} (${moved})`;
  }
  const what =
    op.kind === "transferLeader"
      ? `leadership of shard ${op.shard} to ${op.replica}`
      : `${op.kind} on shard ${op.shard}${op.replica ? ` (${op.replica})` : ""}${op.added ? `: new replica ${op.added}` : ""}`;
  return `operation ${op.id}: ${what}: ${op.state}${op.state === "running" ? ` (${op.step})` : ""}`;
}
