// Leader election on locks and watch (etcd's `elect`/`observe`/`resign`): a candidate waits in
// line for the lock named after the election, then writes its value to the key of that name,
// attached to its lease and fenced by its token; observers watch that key. Resigning (or losing
// the lease) deletes the key and hands the lock to the next candidate.
import { namespaceOf } from "./keys.ts";
import { acquire, api as coordinationApi, grantLease } from "./coordination.ts";
import type { ClientContext } from "./context.ts";
import { NotFoundError } from "./errors.ts";
import type { CallOptions } from "./http.ts";
import { getValue } from "./reads.ts";
import type { WatchEvent } from "./types.ts";
import { decodeValue } from "./values.ts";
import type { WatchOptions } from "./watch.ts";
import type { PutValue } from "./values.ts";
import { put } from "./writes.ts";

export interface Leadership {
  /** The election, "{namespace}/{name}": both the lock and the key holding the leader's value. */
  name: string;
  lease: string;
  fencingToken: number;
  fence: { lock: string; token: number };
  /** Aborted once leadership is lost (the lease ended). */
  signal: AbortSignal;
  /** Publishes a new value as the leader (refused once no longer leader). */
  proclaim(value: PutValue): Promise<void>;
  /** Steps down: the key is deleted and the next candidate leads. */
  resign(): Promise<void>;
}

type WatchFn = (o: WatchOptions) => AsyncGenerator<WatchEvent>;

/** Waits until this candidate leads `name`, then publishes `value`. */
export async function elect(
  ctx: ClientContext,
  name: string,
  value: PutValue,
  o: { ttlSeconds?: number } & CallOptions = {},
): Promise<Leadership> {
  const lease = await grantLease(ctx, namespaceOf(name), o.ttlSeconds ?? 10, o);
  try {
    const held = await acquire(ctx, name, lease, Number.MAX_SAFE_INTEGER);
    const fence = { lock: name, token: held.fencingToken };
    const proclaim = async (v: PutValue) => {
      await put(ctx, name, v, { lease: lease.id, fence });
    };
    await proclaim(value);
    const resign = () => lease.revoke();
    return {
      name,
      lease: lease.id,
      fencingToken: held.fencingToken,
      fence,
      signal: lease.signal,
      proclaim,
      resign,
    };
  } catch (error) {
    await lease.revoke().catch(() => {});
    throw error;
  }
}

/** The leader's value now, then at each change; null while nobody leads. */
export async function* observe(
  ctx: ClientContext,
  watchFn: WatchFn,
  name: string,
  signal?: AbortSignal,
): AsyncGenerator<unknown> {
  yield await current(ctx, name);
  const prefix = name;
  for await (const e of watchFn({ prefix, ...(signal ? { signal } : {}) })) {
    if (e.type === "resync") yield e.entries.find((x) => x.key === name)?.value ?? null;
    else if (e.key === name) yield e.type === "put" ? e.value : null;
  }
}

async function current(ctx: ClientContext, name: string): Promise<unknown> {
  try {
    const v = await getValue(ctx, name);
    return decodeValue(v.bytes, v.contentType);
  } catch (error) {
    if (error instanceof NotFoundError) return null;
    throw error;
  }
}

/** The client's coordination methods: leases, locks, elections (createClient spreads them in). */
export function api(ctx: ClientContext, watchFn: WatchFn) {
  return {
    ...coordinationApi(ctx),
    /** Campaigns for `name` ("{ns}/{name}"); resolves once leading, with the value published. */
    elect: (name: string, value: PutValue, o?: { ttlSeconds?: number } & CallOptions) =>
      elect(ctx, name, value, o),
    /** The leader's value of `name` now and at each change (null: nobody leads). */
    observe: (name: string, o: { signal?: AbortSignal } = {}) =>
      observe(ctx, watchFn, name, o.signal),
  };
}
