// The flags of a namespace at one revision: the bundle read once, its values turned into a
// FlagSet, kept per isolate by namespace until the namespace's revision moves. Every flag of one
// answer comes from that one bundle, so a bulk evaluation is a consistent snapshot.
import type { BundleResult } from "../store/index.ts";
import type { Read, ReadOptions, Router } from "../router/index.ts";
import { FlagSet, type FlagSource } from "../flags/index.ts";
import { isJsonMediaType } from "./body.ts";
import { formatETag } from "./etag.ts";
import { badRequest } from "./problem.ts";

type Bundle = Extract<BundleResult, { type: "bundle" }>;

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** A JSON value is a flag as it is, a text value a string flag; other media types are none. */
function sourceOf(item: Bundle["items"][number]): FlagSource | undefined {
  const contentType = item.entry.contentType;
  const isText = contentType.split(";")[0]!.trim().toLowerCase().startsWith("text/");
  if (!isJsonMediaType(contentType) && !isText) return undefined;
  try {
    const text = decoder.decode(item.value);
    const value = isText ? text : JSON.parse(text);
    return { name: item.name, etag: formatETag(item.entry.modRevision), value };
  } catch {
    return undefined;
  }
}

const setsByNamespace = new Map<string, { revision: number; set: FlagSet }>();
const namespacesMax = 256;

export function flagSetOf(namespace: string, bundle: Bundle): FlagSet {
  const known = setsByNamespace.get(namespace);
  if (known?.revision === bundle.namespaceRevision) return known.set;
  const sources = bundle.items.map(sourceOf).filter((s) => s !== undefined);
  const set = new FlagSet(sources);
  if (setsByNamespace.size >= namespacesMax) setsByNamespace.clear();
  setsByNamespace.set(namespace, { revision: bundle.namespaceRevision, set });
  return set;
}

function bundleOf(read: Read<BundleResult>): { read: Read<BundleResult>; bundle: Bundle } {
  if (read.result.type === "invalid") throw badRequest(read.result.detail);
  return { read, bundle: read.result as Bundle };
}

/** The namespace's bundle, from the isolate cache when a stale read may use it. */
export async function readFlagBundle(router: Router, namespace: string, options: ReadOptions) {
  const query = { type: "bundle", namespace } as const;
  const now = router.readNow?.(namespace, query, options);
  return bundleOf(now ?? (await router.read(namespace, query, options)));
}
