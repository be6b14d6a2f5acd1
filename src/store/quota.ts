// Shard quotas: a write that would push the shard past one answers tooLarge and changes nothing.
// A write that shrinks usage is always allowed, so a full shard can be cleaned up.
import type { StoreState } from "./state.ts";
import { liveKeyBytes, liveVersion } from "./state.ts";
import type { TooLargeOutcome } from "./types.ts";

/** What a set of writes (all in one namespace) does to the quotas. */
export interface UsageDelta {
  namespace: string;
  bytes: number;
  liveKeys: number;
}

export function emptyDelta(namespace: string): UsageDelta {
  return { namespace, bytes: 0, liveKeys: 0 };
}

export function addPutDelta(
  state: StoreState,
  delta: UsageDelta,
  key: string,
  valueBytes: number,
): void {
  const live = liveVersion(state, key);
  delta.bytes += liveKeyBytes(key, valueBytes) - (live ? liveKeyBytes(key, live.value.length) : 0);
  if (live === null) delta.liveKeys += 1;
}

export function addDeleteDelta(state: StoreState, delta: UsageDelta, key: string): void {
  const live = liveVersion(state, key);
  if (live === null) return;
  delta.bytes -= liveKeyBytes(key, live.value.length);
  delta.liveKeys -= 1;
}

export function checkQuota(state: StoreState, delta: UsageDelta): TooLargeOutcome | null {
  const bytes = state.liveBytes + delta.bytes;
  if (delta.bytes > 0 && bytes > state.options.shardBytesMax) {
    return {
      type: "tooLarge",
      revision: state.revision,
      limit: "shardBytesMax",
      max: state.options.shardBytesMax,
      wouldBe: bytes,
    };
  }
  const keys = (state.namespaces.get(delta.namespace)?.liveKeys ?? 0) + delta.liveKeys;
  if (delta.liveKeys > 0 && keys > state.options.namespaceKeysMax) {
    return {
      type: "tooLarge",
      revision: state.revision,
      limit: "namespaceKeysMax",
      max: state.options.namespaceKeysMax,
      wouldBe: keys,
    };
  }
  return null;
}
