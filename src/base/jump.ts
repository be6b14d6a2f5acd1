// Jump consistent hash (Lamping & Veach, "A Fast, Minimal Memory, Consistent Hash Algorithm",
// 2014, arXiv:1406.2294), transcribed from the paper's C++ with 64-bit arithmetic in BigInt.
// It runs O(ln buckets) iterations, so BigInt's cost does not matter for a handful of shards.
import { fmix64, fnv1a64 } from "./hash.ts";

const mask64 = (1n << 64n) - 1n;
const lcgMultiplier = 2862933555777941757n;
/** The paper's bucket limit: `j` is computed in doubles from a 31-bit ratio. */
export const jumpBucketsMax = 2 ** 31 - 1;

/** The bucket in [0, buckets) of a 64-bit key. */
export function jumpConsistentHash(key: bigint, buckets: number): number {
  if (!Number.isSafeInteger(buckets) || buckets < 1 || buckets > jumpBucketsMax) {
    throw new RangeError(`jump hash needs 1 to ${jumpBucketsMax} buckets, got ${buckets}`);
  }
  let k = key & mask64;
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    k = (k * lcgMultiplier + 1n) & mask64;
    j = Math.floor((b + 1) * (2 ** 31 / (Number(k >> 33n) + 1)));
  }
  return b;
}

/**
 * The 64-bit placement key of a namespace: FNV-1a 64, then fmix64 so similar names spread
 * (src/ring/ring.ts says why). Stable across releases: changing it moves data.
 */
export function namespaceKey(namespace: string): bigint {
  return fmix64(fnv1a64(namespace));
}

/**
 * The index in [0, shardCount) of the shard that holds a namespace. Here rather than in the ring
 * so that the store can answer for a ring it is leaving (a reshard's ring fence, moves-fence.ts)
 * without importing a layer of its own rank; src/ring re-exports it as `shardIndexFor`.
 */
export function namespaceShard(namespace: string, shardCount: number): number {
  return jumpConsistentHash(namespaceKey(namespace), shardCount);
}
