// `ns diff` with a token that may only read: a dry run needs the write's scope, so the diff is
// computed here from the bundle instead, by the same rules as the store (same content type and
// bytes, JSON by meaning). It cannot see what only a write would meet (schemas, quotas): the
// caller says so.
import {
  bundleEntryToBody,
  sameValue,
  type ApplyRequest,
  type Bundle,
  type DiffEntry,
  type DryRun,
} from "../client/index.ts";

export function localPlan(bundle: Bundle, request: ApplyRequest): DryRun<null> {
  const names = new Set(Object.keys(request.entries));
  if (request.prune) for (const name of Object.keys(bundle.entries)) names.add(name);
  const diff: DiffEntry[] = [];
  for (const name of [...names].sort()) {
    const key = `${bundle.namespace}/${name}`;
    const want = request.entries[name];
    const have = bundle.entries[name];
    if (want === undefined) diff.push({ key, change: "delete", before: have });
    else if (have === undefined) diff.push({ key, change: "create", after: want });
    else {
      const a = bundleEntryToBody(want, request.meta?.[name]?.contentType);
      const b = bundleEntryToBody(have, bundle.meta?.[name]?.contentType);
      const same = sameValue(
        { bytes: a.body, contentType: a.contentType },
        { bytes: b.body, contentType: b.contentType },
      );
      if (!same) diff.push({ key, change: "update", before: have, after: want });
    }
  }
  // Key order, as the store gives it (names sort like keys within one namespace).
  diff.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  return { dryRun: true, baseRevision: bundle.revision, result: null, diff };
}
