// The ring fence: the last gate of a reshard on each shard it leaves (docs/ARCHITECTURE.md
// "Resharding moves whole namespaces"). A namespace is moved only once the driver has seen it on
// its old shard (servedNamespaces); one first written there after that look, while the old ring
// still routes to it, would stay behind when the ring changes, and read as absent on its new
// shard. So before the ring changes, every shard it leaves takes a ring fence (the new ring's
// shard count and this shard's index): from then on a namespace it does not serve and that the
// new ring puts elsewhere answers `moved` there, for writes and reads, as a flipped namespace
// fence would. The driver then looks once more and moves what it finds; after that look nothing
// new can appear behind it. Namespaces it serves keep being served here until their own move.
import { namespaceShard } from "../base/index.ts";
import { servesNamespace } from "./moves-export.ts";
import type { StoreState } from "./state.ts";
import type * as t from "./types.ts";
import { invalid } from "./validate.ts";

/** The largest ring a fence may name (src/ring's shardCountMax is far below it). */
const ringShardsMax = 1_024;

export function applyRingFence(state: StoreState, c: t.RingFenceCommand): t.WriteOutcome {
  const whole = (n: number, min: number, max: number) =>
    Number.isSafeInteger(n) && n >= min && n <= max;
  if (!whole(c.epoch, 1, Number.MAX_SAFE_INTEGER) || !whole(c.shardCount, 1, ringShardsMax))
    return invalid(
      state,
      "cluster",
      `a ring fence needs an epoch >= 1 and a shard count from 1 to ${ringShardsMax}, ` +
        `got ${c.epoch} and ${c.shardCount}`,
    );
  if (!whole(c.shard, 0, ringShardsMax - 1))
    return invalid(state, "cluster", `a ring fence needs this shard's index, got ${c.shard}`);
  // A late retry of an older reshard's fence does not undo a newer one.
  if (state.ringFence === null || state.ringFence.epoch <= c.epoch)
    state.ringFence = { epoch: c.epoch, shardCount: c.shardCount, shard: c.shard };
  return {
    type: "namespaceMove",
    revision: state.revision,
    step: "ringFenced",
    namespace: "",
    keys: 0,
  };
}

/** Where the ring fence sends `namespace`, or null: served here, or the new ring keeps it here. */
export function ringRedirect(
  state: StoreState,
  namespace: string,
): { epoch: number; shard: number } | null {
  const fence = state.ringFence;
  if (fence === null) return null;
  if ((state.namespaces.get(namespace)?.records.size ?? 0) > 0) return null;
  const shard = namespaceShard(namespace, fence.shardCount);
  if (shard === fence.shard || servesNamespace(state, namespace)) return null;
  return { epoch: fence.epoch, shard };
}
