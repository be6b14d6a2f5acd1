// A namespace bundle as flags: JSON values (flagd definitions or static), text as strings;
// other media types are no flags. The same rules as the server's OFREP endpoints, so a flag
// evaluates alike through either.
import { FlagSet, type FlagSource } from "../../flags/index.ts";
import type { Bundle } from "../types.ts";
import { bytesToText, isEncodedValue, isTextType, base64ToBytes } from "../values.ts";

function sourceOf(bundle: Bundle, name: string): FlagSource | undefined {
  const value = bundle.entries[name];
  const modRevision = bundle.meta?.[name]?.modRevision;
  // A hand-written fallback file has no meta: its static flags then name no variant.
  const etag = modRevision === undefined ? "" : `"r${modRevision}"`;
  if (!isEncodedValue(value)) return { name, etag, value };
  if (!isTextType(value.contentType)) return undefined;
  return { name, etag, value: bytesToText(base64ToBytes(value.base64)) };
}

export interface BundleFlags {
  revision: number;
  set: FlagSet;
  /** name → the version it is at, to tell which flags a new bundle changed. */
  versions: Map<string, string>;
}

export function flagsOf(bundle: Bundle): BundleFlags {
  const sources = Object.keys(bundle.entries)
    .map((name) => sourceOf(bundle, name))
    .filter((s) => s !== undefined);
  const versions = new Map(
    sources.map((s) => [s.name, s.etag === "" ? JSON.stringify(s.value) : s.etag]),
  );
  return { revision: bundle.revision, set: new FlagSet(sources), versions };
}

/** Flags added, removed or changed from `before` to `after`. */
export function changedFlags(before: BundleFlags | undefined, after: BundleFlags): string[] {
  if (!before) return [...after.versions.keys()];
  const changed = [...after.versions].filter(([k, v]) => before.versions.get(k) !== v);
  const removed = [...before.versions.keys()].filter((k) => !after.versions.has(k));
  return [...changed.map(([k]) => k), ...removed].sort();
}
