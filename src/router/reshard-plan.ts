// Which namespaces a reshard moves: those whose shard under jump consistent hash changes when the
// ring goes from `fromShards` to `toShards` (growing moves about (to - from) / to of them, to the
// new shards; shrinking moves those of the removed last shards). Pure: the driver asks each
// shard for the namespaces it serves and plans from that.
import { shardIndexFor } from "../ring/index.ts";
import { newMove, type NamespaceMove } from "./reshard-steps.ts";

/** `served[s]`: the namespaces shard s serves (old ring); the moves, by source then name. */
export function planMoves(served: string[][], toShards: number, epoch: number): NamespaceMove[] {
  const moves: NamespaceMove[] = [];
  served.forEach((names, from) => {
    for (const namespace of names) {
      const to = shardIndexFor(namespace, toShards);
      if (to !== from) moves.push(newMove(namespace, from, to, epoch));
    }
  });
  return moves;
}
