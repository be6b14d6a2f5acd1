// Where `kv put` gets its value and which content type it declares.
import { UsageError } from "./exit.ts";
import type { Io } from "./io.ts";

export interface ValueSource {
  /** The positional VALUE; "-" means stdin. */
  arg: string | undefined;
  file: string | undefined;
}

export async function readValue(
  io: Io,
  source: ValueSource,
): Promise<{ bytes: Uint8Array; fileName?: string }> {
  if (source.arg !== undefined && source.file !== undefined) {
    throw new UsageError(
      "give the value once: as an argument, with --file, or on stdin (-), not several",
    );
  }
  if (source.file !== undefined) {
    return source.file === "-"
      ? { bytes: await io.readStdin() }
      : { bytes: await io.readFile(source.file), fileName: source.file };
  }
  if (source.arg === "-") return { bytes: await io.readStdin() };
  if (source.arg !== undefined) return { bytes: new TextEncoder().encode(source.arg) };
  throw new UsageError("no value: pass it as an argument, with --file PATH, or pipe it in with -");
}

const byExtension: Record<string, string> = {
  json: "application/json",
  txt: "text/plain; charset=utf-8",
  yaml: "application/yaml",
  yml: "application/yaml",
  toml: "application/toml",
  html: "text/html; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  bin: "application/octet-stream",
};

/**
 * --content-type wins; else the file extension; else JSON when the text is a JSON object or
 * array (what config usually is), text when it is UTF-8, octet-stream otherwise.
 */
export function inferContentType(
  bytes: Uint8Array,
  fileName: string | undefined,
  explicit: string | undefined,
): string {
  if (explicit) return explicit;
  const ext = fileName?.split(".").pop()?.toLowerCase();
  if (fileName && ext && byExtension[ext]) return byExtension[ext];
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return "application/octet-stream";
  }
  const trimmed = text.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      JSON.parse(trimmed);
      return "application/json";
    } catch {
      // Looks like JSON but is not: store it as text and let the user see why.
    }
  }
  return "text/plain; charset=utf-8";
}
