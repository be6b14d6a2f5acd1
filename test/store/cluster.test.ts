// The cluster directory in shard 0's state (src/store/cluster.ts): seeded once, changed only by
// compare-and-set on its epoch, kept across snapshots, and absent from snapshots until set.
import { describe, expect, it } from "vitest";
import { decodeCommand, encodeCommand } from "../../src/store/codec.ts";
import { Store } from "../../src/store/store.ts";
import type { ClusterSetCommand, ClusterTopology } from "../../src/store/types.ts";

function topology(epoch: number, replicas = 3): ClusterTopology {
  const shards = [0, 1].map((index) => ({
    index,
    members: Array.from({ length: replicas }, (_, r) => ({
      id: `s${index}-r${r}/g1`,
      location: "",
      voter: true,
    })),
    nextReplica: replicas,
  }));
  return {
    epoch,
    shardCount: 2,
    shards,
    seed: { shardCount: 2, replicasPerShard: 3, locations: [] },
  };
}

const set = (ifEpoch: number, t: ClusterTopology): ClusterSetCommand => ({
  type: "clusterSet",
  atMs: 1,
  ifEpoch,
  topology: t,
});

describe("the cluster directory", () => {
  it("is null until seeded; the first seed (ifEpoch 0) wins, a second one gets the first back", () => {
    const store = new Store();
    expect(store.answer({ type: "cluster" })).toEqual({ revision: 0, topology: null });
    const first = store.apply(1, set(0, topology(1)));
    expect(first).toMatchObject({ type: "clusterSet", applied: true, revision: 1 });
    const second = store.apply(2, set(0, topology(1, 5)));
    expect(second).toMatchObject({ type: "clusterSet", applied: false, revision: 1 });
    expect((second as { topology: ClusterTopology }).topology.shards[0]!.members).toHaveLength(3);
    expect(store.answer({ type: "cluster" }).topology).toEqual(topology(1));
  });

  it("changes only from the epoch it was read at, to the next epoch", () => {
    const store = new Store();
    store.apply(1, set(0, topology(1)));
    expect(store.apply(2, set(1, topology(3)))).toMatchObject({
      type: "invalid",
      reason: "cluster",
      detail: expect.stringMatching(/epoch 2/),
    });
    expect(store.apply(3, set(1, topology(2, 4)))).toMatchObject({ applied: true, revision: 2 });
    expect(store.apply(4, set(1, topology(2, 5)))).toMatchObject({ applied: false });
    expect(store.cluster()?.shards[0]!.members).toHaveLength(4);
  });

  it.each([
    ["a shard count that does not match the list", (t: ClusterTopology) => void (t.shardCount = 3)],
    ["a shard without members", (t: ClusterTopology) => void (t.shards[1]!.members = [])],
    [
      "a repeated member id",
      (t: ClusterTopology) => void (t.shards[1]!.members[0]!.id = "s0-r0/g1"),
    ],
    [
      "a shard without a voter",
      (t: ClusterTopology) => t.shards[0]!.members.forEach((m) => (m.voter = false)),
    ],
    ["an index out of place", (t: ClusterTopology) => void (t.shards[1]!.index = 5)],
    [
      "a nextReplica below the member count",
      (t: ClusterTopology) => void (t.shards[0]!.nextReplica = 1),
    ],
  ])("refuses %s, and nothing changes", (_, spoil) => {
    const store = new Store();
    const t = topology(1);
    spoil(t);
    expect(store.apply(1, set(0, t))).toMatchObject({ type: "invalid", reason: "cluster" });
    expect(store.cluster()).toBeNull();
    expect(store.revision).toBe(0);
  });

  it("survives a snapshot; a state without one snapshots to the same bytes as before it existed", () => {
    const store = new Store();
    store.apply(1, {
      type: "put",
      atMs: 1,
      key: "a/b",
      value: new Uint8Array([1]),
      contentType: "x/y",
    });
    const before = store.snapshot();
    expect(new TextDecoder().decode(before)).not.toContain("cluster");
    store.apply(2, set(0, topology(1)));
    expect(Store.restore(store.snapshot()).cluster()).toEqual(topology(1));
    expect(Store.restore(before).cluster()).toBeNull();
  });

  it("encodes canonically and decodes back", () => {
    const c = set(0, topology(1));
    expect(decodeCommand(encodeCommand(c))).toEqual(c);
    expect(() =>
      decodeCommand(encodeCommand({ ...c, topology: { ...c.topology, shards: "x" } } as never)),
    ).toThrow(/shards/);
  });
});
