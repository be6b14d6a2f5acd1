// The CLI's entry: runs one command line and returns its exit code. `run` takes its I/O as an
// argument so tests can drive it in-process; `main` wires it to the real process.
import { CommanderError } from "commander";
import { spawn } from "node:child_process";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { describeError, errorJson, exitCodeFor, exitCodes } from "./exit.ts";
import type { Io } from "./io.ts";
import { defaultUrl } from "./options.ts";
import { buildProgram } from "./program.ts";

export async function run(argv: string[], io: Io): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: "user" });
    // A watch ended by Ctrl-C returns normally; the shell convention for SIGINT is 130.
    return io.signal?.aborted ? exitCodes.interrupted : exitCodes.ok;
  } catch (error) {
    if (error instanceof CommanderError) return commanderExit(error);
    const json = argv.includes("--json");
    const url = urlOf(argv, io);
    if (io.signal?.aborted) return exitCodes.interrupted;
    io.stderr.write((json ? errorJson(error, url) : `error: ${describeError(error, url)}`) + "\n");
    return exitCodeFor(error);
  }
}

/** Help and version end in 0; every other commander complaint is a usage error. */
function commanderExit(error: CommanderError): number {
  if (error.code === "commander.helpDisplayed" || error.code === "commander.version")
    return exitCodes.ok;
  return exitCodes.usage;
}

function urlOf(argv: string[], io: Io): string {
  const i = argv.indexOf("--url");
  const flag = argv.find((a) => a.startsWith("--url="))?.slice("--url=".length);
  return (i >= 0 ? argv[i + 1] : flag) ?? io.env.EDGECFG_URL ?? defaultUrl;
}

export function nodeIo(): Io {
  const interrupt = new AbortController();
  process.once("SIGINT", () => {
    // A watch ends cleanly on the abort; anything else gets a moment, then the exit code of SIGINT.
    interrupt.abort(new Error("interrupted"));
    setTimeout(() => process.exit(130), 500).unref();
  });
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return new Uint8Array(Buffer.concat(chunks));
    },
    readFile: async (path) => new Uint8Array(await readFile(path)),
    writeFile: (path, data) => writeFile(path, data),
    readDir: async (path) => {
      if (!(await stat(path)).isDirectory()) return null;
      const found = await readdir(path, { recursive: true, withFileTypes: true });
      return found
        .filter((d) => d.isFile())
        .map((d) => `${d.parentPath}/${d.name}`.slice(path.replace(/\/+$/, "").length + 1))
        .map((p) => p.replaceAll("\\", "/"));
    },
    env: process.env,
    signal: interrupt.signal,
    run: (command, args, { env, signal }) =>
      new Promise((resolve, reject) => {
        const child = spawn(command, args, {
          stdio: "inherit",
          env: { ...process.env, ...env },
          signal,
        });
        child.on("error", (error) => (signal.aborted ? undefined : reject(error)));
        // A signal's death is reported as the shell does: 128 + its number (SIGTERM: 143).
        child.on("exit", (code, sig) => resolve(code ?? (sig === "SIGKILL" ? 137 : 143)));
      }),
  };
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  // exitCode, not exit(): lets stdout drain when it is a pipe.
  process.exitCode = await run(argv, nodeIo());
}
