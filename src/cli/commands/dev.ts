// `edgecfg dev fault …`: fault injection of the local server (npm start) for development and
// tests; a deployment answers 404. `--after` and `--for` schedule a fault in the store itself.
import { Command } from "commander";
import type { DevFault } from "../../client/index.ts";
import { action, type CommandContext } from "../command.ts";
import { UsageError } from "../exit.ts";
import type { Io } from "../io.ts";
import { println, printJson } from "../io.ts";

const replicaActions = {
  cut: "cut",
  "cut-inbound": "cutInbound",
  "cut-outbound": "cutOutbound",
  stop: "stop",
  restart: "restart",
  "fail-writes": "failWrites",
} as const;

export function devCommand(io: Io): Command {
  const dev = new Command("dev").description(
    "fault: fault injection of the local server (npm start)",
  );
  const fault = dev
    .command("fault")
    .description(
      "cut | cut-inbound | cut-outbound | stop | restart | fail-writes | skew-clock | " +
        "isolate-leader | cut-location | latency | clear | list",
    );
  for (const [name, act] of Object.entries(replicaActions)) {
    withFor(fault.command(name).argument("<replica>", "a replica id (edgecfg cluster status)"))
      .description(`${name} a replica`)
      .action(action(io, (ctx, replica: string, o: Opts) => run(ctx, { action: act, replica }, o)));
  }
  withFor(fault.command("isolate-leader").requiredOption("--shard <n>", "the shard"))
    .description("cut a shard's leader off both ways (a region outage)")
    .action(
      action(io, (ctx, o: Opts) =>
        run(ctx, { action: "isolateLeader", shard: number("--shard", o.shard) }, o),
      ),
    );
  withFor(
    fault
      .command("latency")
      .requiredOption("--location <hint>", 'the location, "" for none')
      .requiredOption("--ms <n>", "added latency"),
  )
    .description("slow every message to and from replicas in a location")
    .action(
      action(io, (ctx, o: Opts) =>
        run(ctx, { action: "latency", location: o.location ?? "", ms: number("--ms", o.ms) }, o),
      ),
    );
  withFor(fault.command("cut-location").requiredOption("--location <hint>", "the location"))
    .description("cut off every replica in a location (a region outage)")
    .action(
      action(io, (ctx, o: Opts) =>
        run(ctx, { action: "cutLocation", location: o.location ?? "" }, o),
      ),
    );
  withFor(
    fault
      .command("skew-clock")
      .argument("<replica>", "a replica id")
      .requiredOption("--ms <n>", "ms added to its clock"),
  )
    .description("skew a replica's clock (the core's leases read it)")
    .action(
      action(io, (ctx, replica: string, o: Opts) =>
        run(ctx, { action: "skewClock", replica, ms: number("--ms", o.ms) }, o),
      ),
    );
  fault
    .command("clear")
    .description("clear every fault")
    .action(action(io, (ctx) => run(ctx, { action: "clear" }, {})));
  fault.command("list").description("every replica's faults").action(action(io, list));
  return dev;
}

interface Opts {
  after?: string;
  shard?: string;
  location?: string;
  ms?: string;
  for?: string;
}

function withFor(c: Command): Command {
  return c
    .option("--after <seconds>", "begin this long from now (the store keeps the schedule)")
    .option("--for <seconds>", "last this long, then every fault is cleared");
}

function number(flag: string, value: string | undefined): number {
  if (!/^\d{1,6}$/.test(value ?? ""))
    throw new UsageError(`${flag} takes a whole number, got "${value}"`);
  return Number(value);
}

async function run(ctx: CommandContext, fault: DevFault, o: Opts): Promise<void> {
  const window = {
    ...(o.after === undefined ? {} : { afterMs: number("--after", o.after) * 1000 }),
    ...(o.for === undefined ? {} : { forMs: number("--for", o.for) * 1000 }),
  };
  const answer = await ctx.client.dev.injectFault({ ...fault, ...window });
  if (ctx.global.json) return printJson(ctx.io.stdout, answer);
  const when = [
    o.after === undefined ? "" : ` in ${o.after} s`,
    o.for === undefined ? "" : ` for ${o.for} s`,
  ].join("");
  println(ctx.io.stdout, `${fault.action}${when}: ${answer.replicas.length} replica(s)`);
}

async function list(ctx: CommandContext): Promise<void> {
  const answer = await ctx.client.dev.listFaults();
  if (ctx.global.json) return printJson(ctx.io.stdout, answer);
  for (const r of answer.replicas) {
    const on = Object.entries(r.faults)
      .filter(
        ([, v]) => v === true || (typeof v === "object" && v !== null && Object.keys(v).length > 0),
      )
      .map(([k, v]) => (v === true ? k : `${k} ${JSON.stringify(v)}`));
    println(ctx.io.stdout, `${r.replica}  ${on.length === 0 ? "-" : on.join(", ")}`);
  }
}
