// Everything the CLI touches outside itself, injectable so commands can be tested in-process.
import type { FetchLike } from "../client/index.ts";

export interface OutStream {
  write(chunk: string | Uint8Array): unknown;
  isTTY?: boolean;
}

export interface Io {
  stdout: OutStream;
  stderr: OutStream;
  readStdin(): Promise<Uint8Array>;
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: string): Promise<void>;
  /** The files under a directory, as paths relative to it ("a/b.json"); null when not one. */
  readDir?(path: string): Promise<string[] | null>;
  env: Record<string, string | undefined>;
  /** Aborts long-running commands (watch) on Ctrl-C. */
  signal?: AbortSignal;
  /** For tests; default global fetch. */
  fetch?: FetchLike;
  /**
   * Runs a command with the terminal's stdio and these variables added to the environment;
   * resolves with its exit code. `signal` ends it (SIGTERM). Absent where nothing can be run.
   */
  run?(
    command: string,
    args: string[],
    options: { env: Record<string, string>; signal: AbortSignal },
  ): Promise<number>;
}

const decoder = new TextDecoder();

export function text(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Prints a line, adding the newline. */
export function println(out: OutStream, line = ""): void {
  out.write(line + "\n");
}

export function printJson(out: OutStream, value: unknown): void {
  out.write(JSON.stringify(value, null, 2) + "\n");
}
