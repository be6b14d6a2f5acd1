// Writes: every put, delete and txn carries an Idempotency-Key, chosen once per call and kept
// across the HTTP layer's retries, so a retry after a lost response never applies twice.
// update() is read → fn → compare-and-set, retried on conflict with jittered backoff.
import { backoffDelayMs, sleep } from "./backoff.ts";
import type { ClientContext } from "./context.ts";
import { ConflictError, NotFoundError } from "./errors.ts";
import { call, type CallOptions } from "./http.ts";
import { kvPath, namespaceOf } from "./keys.ts";
import { getValue } from "./reads.ts";
import type { Entry, TxnRequest, TxnResponse, Value } from "./types.ts";
import { decodeValue, encodeBody, type PutValue } from "./values.ts";

export interface WriteOptions extends CallOptions {
  /** Compare-and-set: write only if the key's current ETag is this one (else ConflictError). */
  ifMatch?: string;
  /** Supplied by the SDK when absent; pass one to make a retry across processes exactly-once. */
  idempotencyKey?: string;
  /** A lock's fencing token (LockHold.fence): refused (ConflictError, /fenced) once it is lost. */
  fence?: { lock: string; token: number };
}

export interface PutOptions extends WriteOptions {
  /** Create only: fail with ConflictError if the key exists. */
  createOnly?: boolean;
  /** Default: text for strings, octet-stream for bytes, JSON for anything else. */
  contentType?: string;
  /** A lease id of the key's namespace: the key is deleted when the lease ends. */
  lease?: string;
}

export interface PutResult {
  entry: Entry;
  etag: string;
  created: boolean;
}

export function writeHeaders(options: WriteOptions): Record<string, string> {
  const headers: Record<string, string> = {
    "idempotency-key": options.idempotencyKey ?? crypto.randomUUID(),
  };
  if (options.ifMatch !== undefined) headers["if-match"] = options.ifMatch;
  if (options.fence !== undefined)
    headers["x-edgecfg-fence"] = `${options.fence.lock}=${options.fence.token}`;
  return headers;
}

export async function put(
  ctx: ClientContext,
  key: string,
  value: PutValue,
  options: PutOptions = {},
): Promise<PutResult> {
  const { body, contentType } = encodeBody(value, options.contentType);
  const headers: Record<string, string> = { ...writeHeaders(options), "content-type": contentType };
  if (options.createOnly) headers["if-none-match"] = "*";
  if (options.lease !== undefined) headers["x-edgecfg-lease"] = options.lease;
  return ctx.http.send(
    {
      method: "PUT",
      path: kvPath(key),
      headers,
      body,
      namespace: namespaceOf(key),
      ...call(options),
    },
    async (res) => {
      const entry = (await res.json()) as Entry;
      const etag = res.headers.get("etag") ?? "";
      // Cache what was written: the next get revalidates it with one 304.
      // A copy: the caller may reuse its buffer.
      if (etag)
        ctx.values.set(key, etag, {
          key,
          bytes: body.slice(),
          contentType,
          etag,
          version: entry.version,
        });
      return { entry, etag, created: res.status === 201 };
    },
  );
}

export async function remove(
  ctx: ClientContext,
  key: string,
  options: WriteOptions = {},
): Promise<void> {
  ctx.values.delete(key);
  await ctx.http.send(
    {
      method: "DELETE",
      path: kvPath(key),
      headers: writeHeaders(options),
      namespace: namespaceOf(key),
      ...call(options),
    },
    async (res) => void (await res.body?.cancel()),
  );
}

export async function txn(
  ctx: ClientContext,
  request: TxnRequest,
  options: Omit<WriteOptions, "ifMatch"> = {},
): Promise<TxnResponse> {
  const keys = [
    ...(request.compare ?? []),
    ...(request.success ?? []),
    ...(request.failure ?? []),
  ].map((x) => x.key);
  for (const key of keys) ctx.values.delete(key);
  const headers = { ...writeHeaders(options), "content-type": "application/json" };
  const namespaces = [...new Set(keys.map(namespaceOf))];
  return ctx.http.send(
    // Across namespaces the token names every shard touched: it is kept for each namespace.
    {
      method: "POST",
      path: "/v1/txn",
      headers,
      body: JSON.stringify(request),
      ...ns(keys[0]),
      ...(namespaces.length > 1 ? { alsoNamespaces: namespaces.slice(1) } : {}),
      ...call(options),
    },
    async (res) => (await res.json()) as TxnResponse,
  );
}

function ns(key: string | undefined): { namespace?: string } {
  return key === undefined ? {} : { namespace: namespaceOf(key) };
}

export interface UpdateOptions extends CallOptions {
  /** Tries before giving up with the last ConflictError. */
  attemptsMax?: number;
  contentType?: string;
}

/** `fn` gets the current value (parsed JSON, text or bytes; undefined when absent) and returns the
 *  next one, or undefined to leave the key as it is. */
export type Updater<T> = (
  current: T | undefined,
  entry: Value | undefined,
) => T | undefined | Promise<T | undefined>;

export async function update<T>(
  ctx: ClientContext,
  key: string,
  fn: Updater<T>,
  options: UpdateOptions = {},
): Promise<PutResult | undefined> {
  const attemptsMax = options.attemptsMax ?? 10;
  for (let attempt = 0; ; attempt++) {
    // Never stale: a compare-and-set must start from what the store holds.
    const current = await getValue(ctx, key, { ...call(options), allowStale: false }).catch(
      (e: unknown) => {
        if (e instanceof NotFoundError) return undefined;
        throw e;
      },
    );
    const next = await fn(
      current && (decodeValue(current.bytes, current.contentType) as T),
      current,
    );
    if (next === undefined) return undefined;
    const precondition: PutOptions = current ? { ifMatch: current.etag } : { createOnly: true };
    try {
      return await put(ctx, key, next as PutValue, {
        ...precondition,
        ...call(options),
        ...ct(options, current),
      });
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt + 1 >= attemptsMax) throw error;
      ctx.values.delete(key);
      await sleep(backoffDelayMs(attempt, ctx.backoff), options.signal);
    }
  }
}

/** The content type to write: the caller's, else the current one (an update keeps the type). */
function ct(options: UpdateOptions, current: Value | undefined): { contentType?: string } {
  const contentType = options.contentType ?? current?.contentType;
  return contentType ? { contentType } : {};
}
