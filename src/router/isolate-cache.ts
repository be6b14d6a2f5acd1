// A caching Router decorator: answers `?consistency=stale` reads of one key (get, meta) and of a
// namespace bundle from this isolate, without a Durable Object request, while the cached answer is
// younger than `staleMsMax`. Polling apps are the stale-OK case; 64 concurrent pollers then cost
// one DO request per `staleMsMax` per isolate instead of one each.
//
// Why this keeps the stale contract (http-api.md, "Consistency of reads"): a stale read may be
// older than the latest write, and the answer keeps the cached token and `appliedRevision`, so
// X-Edgecfg-Revision / X-Edgecfg-Applied-Revision say exactly which state it reflects. What the
// cache must not break, and does not:
//   - read-your-writes tokens: a `minToken` of the same shard ahead of the cached token bypasses
//     the cache (the inner Router then waits or refuses, as without the cache);
//   - a client that wrote through this isolate then reads stale: the write invalidates its
//     namespace, and no answer older than that write is cached afterwards (the "floor"), not even
//     one already in flight or one from a replica that has not applied the write yet;
//   - linearizable reads, history, lists, changes, token and settings lookups: never cached.
// Those rules live in the pure StaleCache (stale-cache.ts, unit-tested); this file decides what is
// cacheable and wraps a Router around it.
import type { Command, Query, QueryResult } from "../store/index.ts";
import { StaleCache } from "./stale-cache.ts";
import type { Read, ReadOptions, Router, Written } from "./types.ts";

export interface IsolateCacheOptions {
  /** How long a cached answer may be served, in ms; ≤ 0 disables the cache. */
  staleMsMax: number;
  /** Most cached answers per isolate (LRU beyond). */
  entriesMax: number;
  /** Most value bytes cached per isolate (LRU beyond); a larger answer is not cached. */
  bytesMax: number;
  /** The clock, in ms (injected for tests). */
  nowMs: () => number;
  /**
   * Which cache of the isolate to use: Routers over the same deployment share one (it is
   * module-level, so it outlives any one Router); different backends or topologies must not.
   */
  scope: string;
}

export const isolateCacheDefaults = {
  /** 1 s: the age a config poller tolerates anyway, and one DO request per second per isolate. */
  staleMsMax: 1_000,
  /** 10,000 answers: far more than the keys a single app polls. */
  entriesMax: 10_000,
  /** 16 MiB of values: a small share of an isolate's 128 MiB. */
  bytesMax: 16 * 1024 * 1024,
} as const;

/** The [vars] this decorator reads. */
export interface IsolateCacheEnv {
  /** ms a stale read may be answered from the isolate's cache; "0" disables it (default 1000). */
  STALE_CACHE_MS?: string;
}

/** `staleMsMax` from STALE_CACHE_MS; throws, naming the var, when it is not a whole number of ms. */
export function staleMsMaxFrom(env: IsolateCacheEnv): number {
  const raw = env.STALE_CACHE_MS;
  if (raw === undefined || raw.trim() === "") return isolateCacheDefaults.staleMsMax;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0 || n > 60_000) {
    throw new Error(
      `STALE_CACHE_MS=${JSON.stringify(raw)} must be a whole number of ms from 0 (off) to 60000; fix it in wrangler.toml [vars]`,
    );
  }
  return n;
}

/**
 * Options from the Worker's [vars]: STALE_CACHE_MS, and a scope naming the deployment the vars
 * describe (backend and ring vars), so Routers of different deployments sharing one
 * isolate (tests) never share answers.
 */
export function isolateCacheOptionsFrom(
  env: IsolateCacheEnv & object,
): Partial<IsolateCacheOptions> {
  const vars = env as Record<string, unknown>;
  const scope = JSON.stringify(
    ["BACKEND", "SHARDS", "REPLICAS_PER_SHARD"].map((name) => vars[name] ?? null),
  );
  return { staleMsMax: staleMsMaxFrom(env), scope };
}

type Cacheable = Extract<Query, { type: "get" | "meta" | "bundle" }>;

/** Module-level: one cache per scope for the whole isolate, shared by every Router wrapping it. */
const caches = new Map<string, StaleCache>();

/** The scope's cache; its limits are part of its identity, its clock is the first caller's. */
function cacheFor(options: Partial<IsolateCacheOptions>, staleMsMax: number): StaleCache {
  const limits = {
    staleMsMax,
    entriesMax: options.entriesMax ?? isolateCacheDefaults.entriesMax,
    bytesMax: options.bytesMax ?? isolateCacheDefaults.bytesMax,
  };
  const id = JSON.stringify([options.scope ?? "", limits]);
  let cache = caches.get(id);
  if (cache === undefined)
    caches.set(id, (cache = new StaleCache(limits, options.nowMs ?? Date.now)));
  return cache;
}

function cacheKeyOf(namespace: string, query: Query, options: ReadOptions): string | null {
  if (options.consistency !== "stale") return null;
  switch (query.type) {
    case "get":
      return query.atRevision === undefined ? `${namespace}\u0000get\u0000${query.key}` : null;
    case "meta":
      return `${namespace}\u0000meta\u0000${query.key}`;
    case "bundle":
      return `${namespace}\u0000bundle\u0000${query.namespace}`;
    default:
      return null;
  }
}

/** Approximate bytes held: values plus key strings (entries with no value still cost their key). */
function bytesOf(query: Cacheable, result: unknown): number {
  const r = result as { value?: Uint8Array; items?: { name: string; value: Uint8Array }[] };
  let bytes = query.type === "bundle" ? query.namespace.length : query.key.length;
  if (r.value instanceof Uint8Array) bytes += r.value.byteLength;
  if (Array.isArray(r.items))
    for (const item of r.items) bytes += item.name.length + item.value.byteLength;
  return bytes;
}

/** Only answers that describe the state (found / notFound / bundle) are cached, not "invalid". */
function cacheableResult(result: unknown): boolean {
  const type = (result as { type?: string } | null)?.type;
  return type === "found" || type === "notFound" || type === "bundle";
}

/** How long a read waits for another request's in-flight read of the same key before reading alone, ms. */
const flightJoinWaitMsMax = 1_000;

/** The flight's answer (or its error), or null when it has not settled within flightJoinWaitMsMax. */
async function joinFlight(promise: Promise<Read<unknown>>): Promise<Read<unknown> | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), flightJoinWaitMsMax);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Cluster operations change no key: nothing cached is affected, they pass through. */
function operationsOf(
  inner: Router,
): Pick<Router, "startOperation" | "operation" | "injectFault" | "listFaults"> {
  const { startOperation, operation, injectFault, listFaults } = inner;
  return {
    ...(startOperation === undefined ? {} : { startOperation: startOperation.bind(inner) }),
    ...(operation === undefined ? {} : { operation: operation.bind(inner) }),
    ...(injectFault === undefined ? {} : { injectFault: injectFault.bind(inner) }),
    ...(listFaults === undefined ? {} : { listFaults: listFaults.bind(inner) }),
  };
}

export function withIsolateCache(
  inner: Router,
  options: Partial<IsolateCacheOptions> = {},
): Router {
  const staleMsMax = options.staleMsMax ?? isolateCacheDefaults.staleMsMax;
  if (staleMsMax <= 0) return inner;
  const cache = cacheFor(options, staleMsMax);
  const nowMs = options.nowMs ?? Date.now;

  const fetch = async (key: string, namespace: string, query: Cacheable, options: ReadOptions) => {
    const fetchedAtMs = nowMs();
    const read = (await inner.read(namespace, query, options)) as Read<unknown>;
    if (cacheableResult(read.result))
      cache.offer(key, namespace, read, bytesOf(query, read.result), fetchedAtMs);
    return read;
  };

  /** A miss without minToken: join a read of the same key in flight, or start one. */
  const shared = async (key: string, namespace: string, query: Cacheable, options: ReadOptions) => {
    const flight = cache.flight(key);
    if (flight === undefined) {
      const promise = fetch(key, namespace, query, options);
      cache.startFlight(key, { namespace, promise });
      return promise;
    }
    // The flight belongs to another request: if that request is canceled, workerd cancels the
    // flight's continuations and it never settles here. Wait a bounded time, then read alone.
    return (await joinFlight(flight.promise)) ?? (await fetch(key, namespace, query, options));
  };

  return {
    shardOf: (namespace) => inner.shardOf(namespace),
    write: async (namespace: string, command: Command): Promise<Written> => {
      let written: Written | null = null;
      try {
        written = await inner.write(namespace, command);
        return written;
      } finally {
        // Also after a failure: the write may have applied (an unknown outcome).
        cache.noteWrite(namespace, written?.token ?? null);
      }
    },
    readNow: <Q extends Query>(namespace: string, query: Q, options: ReadOptions) => {
      const key = cacheKeyOf(namespace, query, options);
      const hit = key === null ? undefined : cache.lookup(key, options.minToken);
      return hit?.read as Read<QueryResult<Q>> | undefined;
    },
    read: async <Q extends Query>(
      namespace: string,
      query: Q,
      options: ReadOptions,
    ): Promise<Read<QueryResult<Q>>> => {
      const key = cacheKeyOf(namespace, query, options);
      if (key === null) return inner.read(namespace, query, options);
      const hit = cache.lookup(key, options.minToken);
      if (hit !== undefined) return hit.read as Read<QueryResult<Q>>;
      // With a minToken the answer must reach it: read through on its own (and cache the answer).
      const read =
        options.minToken !== undefined
          ? await fetch(key, namespace, query as Cacheable, options)
          : await shared(key, namespace, query as Cacheable, options);
      return read as Read<QueryResult<Q>>;
    },
    waitForChange: (namespace, request) => inner.waitForChange(namespace, request),
    cluster: () => inner.cluster(),
    ...operationsOf(inner),
  };
}
