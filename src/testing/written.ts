// Which namespaces a request may write, so a reset also empties namespaces that no fixture
// names. Every write reaches the store through this Worker (its fetch or its binding), so
// watching them here sees them all; reads and anything else leave no trace.
const kvPath = /^\/v1\/kv\/([^/]+)\//;

/** The namespaces of a key, or of an HTTP request's writes (kv PUT/DELETE, txn). */
export function namespaceOfKey(key: unknown): string | undefined {
  if (typeof key !== "string") return undefined;
  const slash = key.indexOf("/");
  return slash > 0 ? key.slice(0, slash) : undefined;
}

export async function namespacesWritten(request: Request): Promise<string[]> {
  if (request.method === "GET" || request.method === "HEAD") return [];
  const path = new URL(request.url).pathname;
  const kv = kvPath.exec(path);
  if (kv) return [decodeURIComponent(kv[1]!)];
  if (path !== "/v1/txn" && path !== "/v1/txn/") return [];
  const body = (await request
    .clone()
    .json()
    .catch(() => null)) as { success?: { key?: unknown }[]; failure?: { key?: unknown }[] } | null;
  const ops = [...(body?.success ?? []), ...(body?.failure ?? [])];
  return ops.flatMap((op) => namespaceOfKey(op?.key) ?? []);
}
