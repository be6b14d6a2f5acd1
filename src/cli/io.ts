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
  env: Record<string, string | undefined>;
  /** Aborts long-running commands (watch) on Ctrl-C. */
  signal?: AbortSignal;
  /** For tests; default global fetch. */
  fetch?: FetchLike;
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
