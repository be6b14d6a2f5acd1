// The isolate's cache of stale answers, as a pure class: entries (LRU by insertion order), their
// bytes, and the floors that writes through this isolate leave behind. No I/O and no clock of its
// own (`nowMs` is injected), so its safety rules are unit-tested without a Router
// (test/router/stale-cache.test.ts); isolate-cache.ts wraps a Router around it.
//
// The rules it keeps (http-api.md "Consistency of reads"):
//   - never serve an answer older than a min-revision token of its shard (`lookup` misses);
//   - never keep an answer older than the namespace's floor (the revision of the last write
//     through this isolate, or the coarser shard floor an evicted namespace floor moved into);
//   - never replace a live answer with an older one (a lagging replica would send readers back);
//   - a write forgets its namespace's answers and in-flight reads, found through a per-namespace
//     index (a write costs the namespace's own entries, not a scan of the whole cache).
import { parseToken, revisionFor, type ConsistencyToken, type Read } from "./types.ts";

export interface StaleCacheLimits {
  /** How long an answer may be served, in ms. */
  staleMsMax: number;
  /** Most answers held (LRU beyond); also the most namespace floors kept. */
  entriesMax: number;
  /** Most value bytes held (LRU beyond); a larger answer is not kept. */
  bytesMax: number;
}

export interface CachedAnswer {
  namespace: string;
  read: Read<unknown>;
  /** Shard and revision of `read.token` (what minToken and the floor compare against). */
  shard: number;
  revision: number;
  /** When the inner read was sent (so the age is never underestimated), ms. */
  fetchedAtMs: number;
  bytes: number;
}

/** A read being fetched; readers of the same key may join it until a write forgets it. */
export interface Flight {
  namespace: string;
  promise: Promise<Read<unknown>>;
}

export class StaleCache {
  readonly #limits: StaleCacheLimits;
  readonly #nowMs: () => number;
  /** Insertion order = LRU order (a hit moves its entry to the end). */
  readonly #entries = new Map<string, CachedAnswer>();
  #bytes = 0;
  readonly #flights = new Map<string, Flight>();
  /** namespace → cache keys of its entries and flights. */
  readonly #keysByNamespace = new Map<string, Set<string>>();
  /** namespace → the last write through this isolate; oldest write first (evicted first). */
  readonly #floors = new Map<string, { shard: number; revision: number }>();
  readonly #shardFloors = new Map<number, number>();

  constructor(limits: StaleCacheLimits, nowMs: () => number) {
    this.#limits = limits;
    this.#nowMs = nowMs;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** A live answer that satisfies `minToken`, moved to the LRU end; else undefined. */
  lookup(key: string, minToken: ConsistencyToken | undefined): CachedAnswer | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (this.#nowMs() - e.fetchedAtMs >= this.#limits.staleMsMax) {
      this.#remove(key, e);
      return undefined;
    }
    if (minToken !== undefined) {
      const wanted = revisionFor(minToken, e.shard);
      // Malformed: let the inner Router refuse it. Another shard's token constrains nothing.
      if (wanted === null || (wanted !== undefined && wanted > e.revision)) return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, e);
    return e;
  }

  /** Keeps `read` (fetched at `fetchedAtMs`) unless a rule above says no. */
  offer(key: string, namespace: string, read: Read<unknown>, bytes: number, fetchedAtMs: number) {
    const t = parseToken(read.token);
    if (t === null || t.revision < this.floorOf(namespace, t.shard)) return;
    const existing = this.#entries.get(key);
    const live =
      existing !== undefined && this.#nowMs() - existing.fetchedAtMs < this.#limits.staleMsMax;
    if (live && existing.revision > t.revision) return;
    if (existing !== undefined) this.#remove(key, existing);
    if (bytes > this.#limits.bytesMax) return;
    this.#entries.set(key, {
      namespace,
      read,
      shard: t.shard,
      revision: t.revision,
      fetchedAtMs,
      bytes,
    });
    this.#index(namespace, key);
    this.#bytes += bytes;
    for (const [k, e] of this.#entries) {
      if (this.#entries.size <= this.#limits.entriesMax && this.#bytes <= this.#limits.bytesMax)
        break;
      this.#remove(k, e);
    }
  }

  /** The revision below which no answer of `namespace` (on `shard`) is kept. */
  floorOf(namespace: string, shard: number): number {
    return Math.max(this.#floors.get(namespace)?.revision ?? 0, this.#shardFloors.get(shard) ?? 0);
  }

  /**
   * A write to `namespace` ended, at `token` (null: its outcome is unknown). Its answers and
   * in-flight reads are forgotten; with a token, answers older than it are not kept afterwards.
   */
  noteWrite(namespace: string, token: ConsistencyToken | null): void {
    const t = token === null ? null : parseToken(token);
    if (t !== null) this.#raiseFloor(namespace, t.shard, t.revision);
    const keys = this.#keysByNamespace.get(namespace);
    if (keys === undefined) return;
    this.#keysByNamespace.delete(namespace);
    for (const k of keys) {
      const e = this.#entries.get(k);
      if (e !== undefined) {
        this.#entries.delete(k);
        this.#bytes -= e.bytes;
      }
      // Readers arriving after the write must not join a read sent before it.
      this.#flights.delete(k);
    }
  }

  flight(key: string): Flight | undefined {
    return this.#flights.get(key);
  }

  /** Registers `flight` under `key` until it settles (or a write of its namespace forgets it). */
  startFlight(key: string, flight: Flight): void {
    this.#flights.set(key, flight);
    this.#index(flight.namespace, key);
    const done = () => {
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
      if (!this.#entries.has(key)) this.#unindex(flight.namespace, key);
    };
    flight.promise.then(done, done);
  }

  #raiseFloor(namespace: string, shard: number, revision: number): void {
    const floor = Math.max(revision, this.#floors.get(namespace)?.revision ?? 0);
    this.#floors.delete(namespace); // re-inserted last: floors are evicted oldest write first
    this.#floors.set(namespace, { shard, revision: floor });
    for (const [ns, f] of this.#floors) {
      if (this.#floors.size <= this.#limits.entriesMax) break;
      this.#floors.delete(ns);
      this.#shardFloors.set(f.shard, Math.max(f.revision, this.#shardFloors.get(f.shard) ?? 0));
    }
  }

  #remove(key: string, e: CachedAnswer): void {
    this.#entries.delete(key);
    this.#bytes -= e.bytes;
    if (!this.#flights.has(key)) this.#unindex(e.namespace, key);
  }

  #index(namespace: string, key: string): void {
    let keys = this.#keysByNamespace.get(namespace);
    if (keys === undefined) this.#keysByNamespace.set(namespace, (keys = new Set()));
    keys.add(key);
  }

  #unindex(namespace: string, key: string): void {
    const keys = this.#keysByNamespace.get(namespace);
    if (keys === undefined) return;
    keys.delete(key);
    if (keys.size === 0) this.#keysByNamespace.delete(namespace);
  }
}
