// A namespace bundle as flags (src/flags' rules, the server's too, so a flag evaluates alike
// through the provider and OFREP), and which flags a new bundle changed.
import { FlagSet, flagSourcesOf } from "../../flags/index.ts";
import type { Bundle } from "../types.ts";

export interface BundleFlags {
  revision: number;
  set: FlagSet;
  /** name → the version it is at, to tell which flags a new bundle changed. */
  versions: Map<string, string>;
}

export function flagsOf(bundle: Bundle): BundleFlags {
  const sources = flagSourcesOf(bundle);
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
