// The glue between commander and a command's body: resolves global options and the client once.
import type { Command } from "commander";
import type { EdgecfgClient } from "../client/index.ts";
import type { Io } from "./io.ts";
import { clientFor, globalOptions, type GlobalOptions } from "./options.ts";

export interface CommandContext {
  io: Io;
  global: GlobalOptions;
  client: EdgecfgClient;
}

/** Wraps a command body for `.action()`: commander passes positionals, then options, then the command. */
export function action<A extends unknown[]>(
  io: Io,
  body: (ctx: CommandContext, ...args: A) => Promise<void>,
) {
  return async (...raw: unknown[]): Promise<void> => {
    const cmd = raw[raw.length - 1] as Command;
    const global = globalOptions(cmd, io);
    const args = raw.slice(0, -1) as A;
    await body({ io, global, client: clientFor(global, io) }, ...args);
  };
}
