// `edgecfg lock NAME -- command args…` (as `etcdctl lock` and `consul lock`): runs the command
// while holding the lock, with its fencing token in EDGECFG_FENCING_TOKEN (and the fence header
// value in EDGECFG_FENCE), keeps the lease alive meanwhile, releases on exit, and exits with the
// command's code. If the lease is lost the command is stopped (SIGTERM): it no longer holds.
// `edgecfg lease grant|keepalive|revoke|show`: leases by hand.
import { Command } from "commander";
import { action, type CommandContext } from "../command.ts";
import { ExitError, UsageError, exitCodes } from "../exit.ts";
import type { Io } from "../io.ts";
import { println, printJson } from "../io.ts";

export function lockCommand(io: Io): Command {
  return new Command("lock")
    .argument("<name>", "the lock, {namespace}/{name}")
    .argument("<command...>", "what to run while holding it (after --)")
    .description("run a command while holding a lock (fencing token in EDGECFG_FENCING_TOKEN)")
    .option("--ttl <seconds>", "lease TTL: a crashed holder's lock is free after about this", "10")
    .option("--wait <seconds>", "how long to wait in line before giving up (exit 3)", "60")
    .action(action(io, lock));
}

type LockOpts = { ttl: string; wait: string };

function seconds(value: string, name: string, min: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be ≥ ${min} seconds`);
  return n;
}

async function lock(ctx: CommandContext, name: string, argv: string[], o: LockOpts) {
  if (!/^[^/]+\/.+$/.test(name)) throw new UsageError(`lock ${name} must be {namespace}/{name}`);
  const run = ctx.io.run;
  if (run === undefined) throw new UsageError("this environment cannot run a command");
  const [command, ...args] = argv;
  const options = { ttlSeconds: seconds(o.ttl, "ttl", 2), waitSeconds: seconds(o.wait, "wait", 0) };
  const code = await ctx.client
    .withLock(
      name,
      (hold) => {
        const env = {
          EDGECFG_FENCING_TOKEN: String(hold.fencingToken),
          EDGECFG_FENCE: `${hold.fence.lock}=${hold.fence.token}`,
        };
        return run(command!, args, { env, signal: hold.signal });
      },
      options,
    )
    .catch((error: unknown) => {
      if (error instanceof Error && error.name === "LockBusyError")
        throw new ExitError(exitCodes.conflict, `lock ${name} is held by another: gave up waiting`);
      throw error;
    });
  if (code !== 0) throw new ExitError(code, `${command} exited with code ${code}`);
}

export function leaseCommand(io: Io): Command {
  const lease = new Command("lease").description("grant|keepalive|revoke|show: leases");
  lease
    .command("grant")
    .argument("<namespace>")
    .requiredOption("--ttl <seconds>", "time to live, 2 to 86400 s")
    .description("grant a lease (prints its id); keep it alive with `lease keepalive`")
    .action(action(io, grant));
  lease.command("keepalive").argument("<id>").action(action(io, keepAlive));
  lease
    .command("revoke")
    .argument("<id>")
    .description("end it: its keys are deleted")
    .action(action(io, async (ctx: CommandContext, id: string) => ctx.client.leases.revoke(id)));
  lease.command("show").argument("<id>").action(action(io, show));
  return lease;
}

async function grant(ctx: CommandContext, namespace: string, o: { ttl: string }) {
  const l = await ctx.client.lease(namespace, seconds(o.ttl, "ttl", 2));
  // The CLI exits now: the lease is not kept alive by this process (use `lease keepalive`).
  const info = {
    id: l.id,
    namespace: l.namespace,
    ttlSeconds: l.ttlSeconds,
    expiresAt: l.expiresAt,
  };
  l.stop();
  if (ctx.global.json) return printJson(ctx.io.stdout, info);
  println(ctx.io.stdout, l.id);
}

async function keepAlive(ctx: CommandContext, id: string) {
  const info = await ctx.client.leases.keepAlive(id);
  if (ctx.global.json) return printJson(ctx.io.stdout, info);
  println(ctx.io.stdout, `${id} expires at ${info.expiresAt}`);
}

async function show(ctx: CommandContext, id: string) {
  const info = await ctx.client.leases.get(id);
  if (ctx.global.json) return printJson(ctx.io.stdout, info);
  println(ctx.io.stdout, `${info.id}  ttl ${info.ttlSeconds} s  expires ${info.expiresAt}`);
  for (const key of info.keys) println(ctx.io.stdout, `  ${key}`);
}
