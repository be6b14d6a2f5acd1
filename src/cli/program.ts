// The command tree. Nouns then verbs, like wrangler: `edgecfg kv put`, `edgecfg ns export`.
import { Command } from "commander";
import { auditCommand } from "./commands/audit.ts";
import { clusterCommand } from "./commands/cluster.ts";
import { devCommand } from "./commands/dev.ts";
import { flagsCommand } from "./commands/flags.ts";
import { kvCommand } from "./commands/kv.ts";
import { leaseCommand, lockCommand } from "./commands/lock.ts";
import { nsCommand } from "./commands/ns.ts";
import { tokenCommand } from "./commands/token.ts";
import { txnCommand } from "./commands/txn.ts";
import { exitCodesHelp } from "./exit.ts";
import type { Io } from "./io.ts";
import { defaultUrl } from "./options.ts";

export const version = "0.1.0";

const epilogue = `
Environment:
  EDGECFG_URL    store URL when --url is not given (default ${defaultUrl})
  EDGECFG_TOKEN  bearer token when --token is not given (local dev: dev-admin-token)
  EDGECFG_REASON why, when --reason is not given: recorded with every write (edgecfg audit)

${exitCodesHelp}

Examples:
  edgecfg kv put app/flags '{"beta": true}'
  edgecfg kv get app/flags --json
  edgecfg kv put app/flags --file flags.json --if-match '"r42"'
  edgecfg --reason "raise the limit for the sale" kv put app/limits '{"rps": 500}'
  edgecfg kv blame app/limits && edgecfg audit app
  edgecfg ns export app > app.json && edgecfg ns import app-staging app.json
  edgecfg token create --ns 'app-*' --scope read --expires 30d
  edgecfg flags eval app checkout --context '{"targetingKey":"u1","country":"DE"}'
  edgecfg lock app/migrations -- npm run migrate`;

export function buildProgram(io: Io): Command {
  const program = new Command("edgecfg")
    .description("edgecfg: a strongly consistent config store on Cloudflare Workers")
    .version(version)
    .option("--url <url>", `store URL (env EDGECFG_URL, default ${defaultUrl})`)
    .option("--token <token>", "bearer token (env EDGECFG_TOKEN)")
    .option("--json", "machine-readable output on stdout (errors as JSON on stderr)")
    .option("--timeout <ms>", "deadline of each request in milliseconds", "30000")
    .option(
      "--reason <text>",
      "why: recorded with every write this command makes (env EDGECFG_REASON)",
    )
    .addHelpText("after", epilogue)
    .showSuggestionAfterError()
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  for (const cmd of [
    kvCommand(io),
    auditCommand(io),
    nsCommand(io),
    txnCommand(io),
    flagsCommand(io),
    tokenCommand(io),
    clusterCommand(io),
    devCommand(io),
    lockCommand(io),
    leaseCommand(io),
  ]) {
    program.addCommand(cmd);
  }
  inheritSettings(program, io);
  return program;
}

/** Subcommands do not inherit exitOverride/output settings when added with addCommand. */
function inheritSettings(cmd: Command, io: Io): void {
  for (const sub of cmd.commands) {
    sub
      .exitOverride()
      .showSuggestionAfterError()
      .configureHelp({ showGlobalOptions: true })
      .configureOutput({
        writeOut: (s) => io.stdout.write(s),
        writeErr: (s) => io.stderr.write(s),
      });
    inheritSettings(sub, io);
  }
}
