import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { plainNamespace, schemaNamespace } from "../../scripts/bench/schema-put.ts";
import { shardFor, shardIndexFor } from "../../src/ring/ring.ts";
import { parseTopology } from "../../src/ring/topology.ts";

/** Namespaces as people name them: similar, short, numbered. */
const namespaces = Array.from({ length: 10_000 }, (_, i) =>
  i % 2 === 0 ? `app-${i}` : `team${i % 97}.svc-${i}`,
);

describe("shardFor", () => {
  it("spreads 10,000 namespaces over 16 shards within ±10% of the mean", () => {
    const counts = new Array<number>(16).fill(0);
    for (const ns of namespaces) counts[shardIndexFor(ns, 16)]! += 1;
    const mean = namespaces.length / 16;
    for (const c of counts) expect(Math.abs(c - mean) / mean).toBeLessThanOrEqual(0.1);
  });

  it.each([1, 2, 3, 4, 7, 8, 15, 16, 31, 63])(
    "growing from %i shards to one more moves at most 1.2/(N+1) of the namespaces, all to the new shard",
    (n) => {
      let moved = 0;
      for (const ns of namespaces) {
        const before = shardIndexFor(ns, n);
        const after = shardIndexFor(ns, n + 1);
        if (before !== after) {
          moved += 1;
          expect(after).toBe(n);
        }
      }
      expect(moved / namespaces.length).toBeLessThanOrEqual(1.2 / (n + 1));
      expect(moved).toBeGreaterThan(0);
    },
  );

  it("is stable: fixed placements that must never change (they decide where data lives)", () => {
    const placed = ["app", "billing", "feature-flags", "a", "0"].map((ns) => shardIndexFor(ns, 16));
    expect(placed).toEqual(PINNED);
  });

  it("returns the shard of the topology", () => {
    const t = parseTopology({ SHARDS: "8", REPLICA_LOCATIONS: "wnam,enam,weur" });
    const shard = shardFor("app", t);
    expect(shard.shardId).toBe(`s${shardIndexFor("app", 8)}`);
    expect(shard.replicas.map((r) => r.location)).toEqual(["wnam", "enam", "weur"]);
    expect(shardFor("anything", parseTopology({ SHARDS: 1 })).shardId).toBe("s0");
  });
});

// Golden values from this implementation: if this test fails, placement changed and existing data
// would be looked for on the wrong shard. Change them only with a migration plan.
const PINNED = [6, 5, 14, 5, 10];

describe("the benchmark's schema cells", () => {
  it("write to one shard of the default ring, so that their ratio is the schema's cost alone", () => {
    const shards = Number(/^SHARDS = "(\d+)"/m.exec(readFileSync("wrangler.toml", "utf8"))?.[1]);
    expect(shards).toBeGreaterThan(1);
    expect(shardIndexFor(schemaNamespace, shards)).toBe(shardIndexFor(plainNamespace, shards));
  });
});
