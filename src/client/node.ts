// Node-only helpers, kept out of the Web-only core ("edgecfg/client/node").
import { readFile } from "node:fs/promises";
import type { FallbackSource } from "./fallback.ts";
import type { Bundle } from "./types.ts";

/** A fallback read from a JSON file (one bundle or an array), e.g. one written by `ns export`. */
export function fileFallback(path: string): FallbackSource {
  return { load: async () => JSON.parse(await readFile(path, "utf8")) as Bundle | Bundle[] };
}
