// A namespace bundle as flags (src/flags' rules, the server's too, so a flag evaluates alike
// through the provider and OFREP), and which flags a new bundle changed.
import { evaluatorsName, FlagSet, flagSourcesOf, usesEvaluators } from "../../flags/index.ts";
import type { Bundle } from "../types.ts";

export interface BundleFlags {
  revision: number;
  set: FlagSet;
  /** name → the version it is at, to tell which flags a new bundle changed. */
  versions: Map<string, string>;
}

export function flagsOf(bundle: Bundle): BundleFlags {
  const sources = flagSourcesOf(bundle);
  const version = (s: { etag: string; value: unknown }) =>
    s.etag === "" ? JSON.stringify(s.value) : s.etag;
  const shared = sources.find((s) => s.name === evaluatorsName);
  // A flag that refers to shared evaluators changes when they do.
  const versions = new Map(
    sources
      .filter((s) => s.name !== evaluatorsName)
      .map((s) => {
        const own = version(s);
        return [s.name, shared && usesEvaluators(s.value) ? `${own}+${version(shared)}` : own];
      }),
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
