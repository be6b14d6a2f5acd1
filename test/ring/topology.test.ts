import { describe, expect, it } from "vitest";
import { parseTopology, TopologyError } from "../../src/ring/topology.ts";

describe("parseTopology", () => {
  it("builds shards and replicas from wrangler [vars]", () => {
    const t = parseTopology({
      SHARDS: "2",
      REPLICAS_PER_SHARD: "3",
      REPLICA_LOCATIONS: "wnam, enam,weur",
    });
    expect(t).toEqual({
      shardCount: 2,
      replicasPerShard: 3,
      locations: ["wnam", "enam", "weur"],
      shards: [
        {
          shardId: "s0",
          index: 0,
          replicas: [
            { replicaId: "s0-r0", location: "wnam" },
            { replicaId: "s0-r1", location: "enam" },
            { replicaId: "s0-r2", location: "weur" },
          ],
        },
        {
          shardId: "s1",
          index: 1,
          replicas: [
            { replicaId: "s1-r0", location: "wnam" },
            { replicaId: "s1-r1", location: "enam" },
            { replicaId: "s1-r2", location: "weur" },
          ],
        },
      ],
    });
  });

  it("accepts numbers (TOML integers) as well as strings", () => {
    expect(parseTopology({ SHARDS: 4, REPLICAS_PER_SHARD: 1 })).toMatchObject({
      shardCount: 4,
      replicasPerShard: 1,
      locations: [],
    });
  });

  it("defaults replicas to one per location, or 1 without locations (no location hint)", () => {
    expect(
      parseTopology({ SHARDS: "1", REPLICA_LOCATIONS: "weur,eeur,apac" }).replicasPerShard,
    ).toBe(3);
    const solo = parseTopology({ SHARDS: "1" });
    expect(solo.shards[0]!.replicas).toEqual([{ replicaId: "s0-r0", location: null }]);
  });

  it("one name per setting: SHARDS; SHARD_COUNT is refused with the rename to make", () => {
    expect(parseTopology({ SHARDS: "4" }).shardCount).toBe(4);
    expect(() => parseTopology({ SHARDS: "4", SHARD_COUNT: "8" })).toThrow(
      /SHARD_COUNT: is no longer read; the setting is SHARDS: rename it to SHARDS = "8"/,
    );
  });

  it.each([
    [{}, "SHARDS", /is not set/],
    [{ SHARDS: "0" }, "SHARDS", /whole number from 1 to 1024/],
    [{ SHARDS: "4.5" }, "SHARDS", /whole number/],
    [{ SHARDS: "four" }, "SHARDS", /got "four"/],
    [{ SHARDS: "2000" }, "SHARDS", /1 to 1024/],
    [{ SHARDS: "4", REPLICAS_PER_SHARD: "0" }, "REPLICAS_PER_SHARD", /1 to 7/],
    [{ SHARDS: "4", REPLICAS_PER_SHARD: "9" }, "REPLICAS_PER_SHARD", /1 to 7/],
    [
      { SHARDS: "4", REPLICAS_PER_SHARD: "3", REPLICA_LOCATIONS: "wnam,enam" },
      "REPLICA_LOCATIONS",
      /2 locations but REPLICAS_PER_SHARD is 3/,
    ],
    [
      { SHARDS: "4", REPLICA_LOCATIONS: "wnam,mars" },
      "REPLICA_LOCATIONS",
      /entry 1 "mars" is not a location hint; use one of wnam, enam/,
    ],
    [{ SHARDS: "4", REPLICA_LOCATIONS: "wnam,,enam" }, "REPLICA_LOCATIONS", /entry 1 ""/],
    [{ SHARDS: "4", REPLICA_LOCATIONS: 3 }, "REPLICA_LOCATIONS", /comma-separated/],
  ])("explains which var to fix: %j", (vars, variable, message) => {
    let error: unknown;
    try {
      parseTopology(vars as Record<string, unknown>);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TopologyError);
    expect((error as TopologyError).variable).toBe(variable);
    expect((error as TopologyError).message).toMatch(message);
    expect((error as TopologyError).message).toMatch(/wrangler\.toml/);
  });
});
