// Reads of single documents: values and bundles revalidated by ETag (304 answers from the cache)
// and metadata. When the store is unreachable, a read falls back to the cache, then to the offline
// fallback, and reports it through onStale.
import type { ClientContext } from "./context.ts";
import { isRetryable, NotFoundError } from "./errors.ts";
import { call, type CallOptions } from "./http.ts";
import { kvPath, namespaceOf, nsPath } from "./keys.ts";
import type { Bundle, Entry, Value } from "./types.ts";

export interface GetOptions extends CallOptions {
  /** Read the version live at this revision (while retained; GoneError once compacted). */
  revision?: number;
  /** "stale": any replica may answer from its applied state (faster, maybe older). */
  consistency?: "stale";
  /** When the store is unreachable, serve the cache or the fallback (default true). */
  allowStale?: boolean;
  /** Long poll (≤ 60 s): with a cached value, wait up to this long for a change before the 304. */
  waitMs?: number;
}

function readQuery(options: GetOptions): Record<string, string | number | undefined> {
  return { revision: options.revision, consistency: options.consistency };
}

/** `?wait=` only means something with If-None-Match; the deadline must outlast the wait. */
function longPoll(
  options: { waitMs?: number; timeoutMs?: number },
  ctx: ClientContext,
  cached: boolean,
) {
  if (!cached || options.waitMs === undefined) return { query: {}, timeout: {} };
  const waitMs = Math.min(Math.max(0, Math.round(options.waitMs)), 60_000);
  return {
    query: { wait: `${waitMs}ms` },
    timeout: { timeoutMs: (options.timeoutMs ?? ctx.http.config.timeoutMs) + waitMs },
  };
}

export async function getValue(
  ctx: ClientContext,
  key: string,
  options: GetOptions = {},
): Promise<Value> {
  const path = kvPath(key);
  // An old revision never changes, so it needs no revalidation; it is simply not cached.
  const cached = options.revision === undefined ? ctx.values.get(key) : undefined;
  const poll = longPoll(options, ctx, cached !== undefined);
  try {
    return await ctx.http.send(
      {
        method: "GET",
        path,
        query: { ...readQuery(options), ...poll.query },
        namespace: namespaceOf(key),
        expect: [304],
        headers: cached ? { "if-none-match": cached.etag } : {},
        ...call(options),
        ...poll.timeout,
      },
      async (res) => {
        if (res.status === 304 && cached) return cached.value;
        const value = await valueFromResponse(key, res);
        if (options.revision === undefined && value.etag) ctx.values.set(key, value.etag, value);
        return value;
      },
    );
  } catch (error) {
    if (error instanceof NotFoundError) ctx.values.delete(key);
    if (!isRetryable(error) || options.revision !== undefined || options.allowStale === false)
      throw error;
    return stale(
      ctx,
      key,
      error,
      cached?.value ?? (await ctx.fallback.value(key)),
      cached !== undefined,
    );
  }
}

async function valueFromResponse(key: string, res: Response): Promise<Value> {
  const value: Value = {
    key,
    bytes: new Uint8Array(await res.arrayBuffer()),
    contentType: res.headers.get("content-type") ?? "application/octet-stream",
    etag: res.headers.get("etag") ?? "",
  };
  const version = Number(res.headers.get("x-edgecfg-version") ?? NaN);
  if (Number.isFinite(version)) value.version = version;
  const lastModified = res.headers.get("last-modified");
  if (lastModified) value.lastModified = lastModified;
  return value;
}

export interface BundleOptions extends CallOptions {
  consistency?: "stale";
  /** Long poll (≤ 60 s): with a cached bundle, wait up to this long for a change before the 304. */
  waitMs?: number;
  /** Called as the body arrives, e.g. for a progress bar. */
  onProgress?: (receivedBytes: number, totalBytes: number | undefined) => void;
}

export async function getBundle(
  ctx: ClientContext,
  namespace: string,
  options: BundleOptions = {},
): Promise<Bundle> {
  const cached = ctx.bundles.get(namespace);
  const poll = longPoll(options, ctx, cached !== undefined);
  try {
    return await ctx.http.send(
      {
        method: "GET",
        path: nsPath(namespace),
        query: { consistency: options.consistency, ...poll.query },
        namespace,
        expect: [304],
        headers: cached ? { "if-none-match": cached.etag } : {},
        ...call(options),
        ...poll.timeout,
      },
      async (res) => {
        if (res.status === 304 && cached) return cached.value;
        const bundle = JSON.parse(await readText(res, options.onProgress)) as Bundle;
        const etag = res.headers.get("etag");
        if (etag) ctx.bundles.set(namespace, etag, bundle);
        return bundle;
      },
    );
  } catch (error) {
    if (!isRetryable(error)) throw error;
    return stale(
      ctx,
      namespace,
      error,
      cached?.value ?? (await ctx.fallback.bundle(namespace)),
      cached !== undefined,
    );
  }
}

/** Serves stale data after a failure, or rethrows the failure when there is none. */
function stale<T>(
  ctx: ClientContext,
  subject: string,
  error: unknown,
  value: T | undefined,
  fromCache: boolean,
): T {
  if (value === undefined) throw error;
  ctx.onStale?.({ subject, source: fromCache ? "cache" : "fallback", error });
  return value;
}

async function readText(res: Response, onProgress: BundleOptions["onProgress"]): Promise<string> {
  if (!onProgress || !res.body) return res.text();
  const total = Number(res.headers.get("content-length") ?? NaN);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let received = 0;
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    received += r.value.byteLength;
    text += decoder.decode(r.value, { stream: true });
    onProgress(received, Number.isFinite(total) ? total : undefined);
  }
  return text + decoder.decode();
}

export async function getMeta(
  ctx: ClientContext,
  key: string,
  options: GetOptions = {},
): Promise<Entry> {
  return ctx.http.send(
    {
      method: "GET",
      path: kvPath(key),
      query: { meta: "", ...readQuery(options) },
      namespace: namespaceOf(key),
      ...call(options),
    },
    async (res) => (await res.json()) as Entry,
  );
}
