// The ring fence (src/store/moves-ring.ts): the last gate a reshard puts on each shard it leaves,
// so that a namespace first written there after the driver's last look cannot stay behind when
// the ring changes (it would read as absent on its new shard).
import { describe, expect, it } from "vitest";
import { namespaceShard } from "../../src/base/index.ts";
import { Store } from "../../src/store/store.ts";
import { Driver, expectType } from "./helpers.ts";

/** Namespaces that a ring of 2 puts on shard 0 (they stay) and on shard 1 (they leave shard 0). */
const names = Array.from({ length: 40 }, (_, i) => `ns-${i}`);
const [stays, stays2] = names.filter((n) => namespaceShard(n, 2) === 0);
const [leaves, leaves2, leaves3] = names.filter((n) => namespaceShard(n, 2) === 1);
const ringFence = { type: "ringFence", epoch: 5, shardCount: 2, shard: 0 } as const;

describe("the ring fence on a shard the reshard leaves", () => {
  it("sends a namespace it does not serve and the new ring puts elsewhere to its new shard, for writes and reads", () => {
    const d = new Driver();
    expect(d.apply(ringFence)).toMatchObject({ type: "namespaceMove", step: "ringFenced" });
    const before = d.store.revision;
    const moved = {
      ...{ type: "moved", revision: before, namespace: leaves, epoch: 5, shard: 1 },
      flipped: true,
    };
    expect(d.put(`${leaves}/a`, "1")).toEqual(moved);
    expect(d.apply({ type: "leaseGrant", namespace: leaves!, ttlMs: 10_000 })).toEqual(moved);
    expect(d.store.revision).toBe(before);
    expect(d.store.movedAway({ type: "get", key: `${leaves}/a` })).toEqual(moved);
    expect(d.store.movedAway({ type: "bundle", namespace: leaves! })).toEqual(moved);
    expect(
      d.store.gate({
        type: "put",
        atMs: 1,
        key: `${leaves}/a`,
        value: new Uint8Array(),
        contentType: "text/plain",
      }),
    ).toEqual(moved);
  });

  it("keeps serving the namespaces the new ring keeps here, and those it serves until their own move", () => {
    const d = new Driver();
    d.put(`${leaves}/a`, "1");
    d.apply({ type: "schemaSet", namespace: leaves2!, schemas: [{ prefix: "", schema: "{}" }] });
    d.apply(ringFence);
    expect(d.put(`${stays}/a`, "1").type).toBe("ok");
    expect(d.put(`${leaves}/a`, "2").type).toBe("ok");
    expect(d.store.movedAway({ type: "get", key: `${leaves}/a` })).toBeNull();
    expect(d.store.movedAway({ type: "get", key: `${stays}/a` })).toBeNull();
    expect(d.store.movedAway({ type: "get", key: `${stays2}/a` })).toBeNull();
    expect(d.store.movedAway({ type: "namespaceSchemas", namespace: leaves2! })).toBeNull();
    expect(d.value(`${leaves}/a`)).toBe("2");
  });

  it("is replaced by a newer reshard's fence, and by the latest of the same reshard's", () => {
    const d = new Driver();
    d.apply(ringFence);
    d.apply({ ...ringFence, epoch: 6, shardCount: 1 });
    expect(d.put(`${leaves}/a`, "1").type).toBe("ok");
    d.apply({ ...ringFence, epoch: 6, shardCount: 2 });
    expect(d.put(`${leaves2}/a`, "1")).toMatchObject({ type: "moved", epoch: 6, shard: 1 });
  });

  it("is kept by a snapshot, and a late retry of an older reshard's fence does not undo a newer one", () => {
    const d = new Driver();
    d.apply(ringFence);
    d.apply({ ...ringFence, epoch: 4, shardCount: 1 });
    const restored = new Driver(Store.restore(d.store.snapshot()));
    restored.index = d.index;
    expect(restored.put(`${leaves3}/a`, "1")).toMatchObject({ type: "moved", epoch: 5, shard: 1 });
    expect(restored.put(`${stays}/a`, "1").type).toBe("ok");
  });

  it("lists, for the driver's look, only the served namespaces the new ring puts elsewhere, a few at a time", () => {
    const d = new Driver();
    for (const n of [stays, leaves, leaves2, leaves3]) d.put(`${n}/a`, "1");
    const all = [leaves, leaves2, leaves3].sort();
    expect(d.store.servedNamespaces({ shardCount: 2, shard: 0, limit: 2 })).toEqual({
      namespaces: all.slice(0, 2),
      total: 3,
    });
    expect(d.store.servedNamespaces().total).toBe(4);
  });

  it("refuses a ring fence without an epoch, a ring size or this shard's index, and says which", () => {
    const d = new Driver();
    const sizes = [{ epoch: 0 }, { shardCount: 0 }, { shardCount: 1.5 }, { shardCount: 1_025 }];
    for (const bad of sizes)
      expect(d.apply({ ...ringFence, ...bad })).toMatchObject({
        type: "invalid",
        detail: expect.stringMatching(
          /^a ring fence needs an epoch >= 1 and a shard count from 1 to 1024, got /,
        ),
      });
    for (const shard of [-1, 1_024])
      expect(d.apply({ ...ringFence, shardCount: 1_024, shard })).toMatchObject({
        type: "invalid",
        detail: `a ring fence needs this shard's index, got ${shard}`,
      });
    // Refused, they fenced nothing.
    expect(expectType(d.put(`${leaves}/a`, "1"), "ok").type).toBe("ok");
    expect(d.apply({ ...ringFence, shardCount: 1_024, shard: 1_023 }).type).toBe("namespaceMove");
    expect(d.apply(ringFence)).toEqual({
      type: "namespaceMove",
      revision: d.store.revision,
      step: "ringFenced",
      namespace: "",
      keys: 0,
    });
  });
});
