// The cluster's shape, from wrangler.toml [vars]:
//
//   SHARDS             = "4"               shards on the ring (SHARD_COUNT is refused: one name)
//   REPLICAS_PER_SHARD = "3"               Raft members per shard (default: one per location,
//                                          or 1 without locations)
//   REPLICA_LOCATIONS  = "wnam,enam,weur"  Durable Object location hints, one per replica index
//
// Replica r of every shard is placed at location r, so each shard spans the same regions.
// Errors name the variable to fix and what a valid value looks like: they are shown at startup.

export const shardCountMax = 1024;
/** Raft quorums beyond 7 voters cost write latency and buy little availability. */
export const replicasPerShardMax = 7;

/** Cloudflare's Durable Object location hints. */
export const locationHints = [
  "wnam",
  "enam",
  "sam",
  "weur",
  "eeur",
  "apac",
  "oc",
  "afr",
  "me",
] as const;
export type LocationHint = (typeof locationHints)[number];

export interface ReplicaSpec {
  /** "s{shard}-r{replica}": stable for the life of the topology. */
  replicaId: string;
  /** Where to create the Durable Object; null lets Cloudflare choose (near the first request). */
  location: LocationHint | null;
}

export interface ShardSpec {
  /** "s{index}" */
  shardId: string;
  index: number;
  replicas: ReplicaSpec[];
}

export interface Topology {
  shardCount: number;
  replicasPerShard: number;
  /** One per replica index, or empty when REPLICA_LOCATIONS is not set. */
  locations: LocationHint[];
  shards: ShardSpec[];
}

export class TopologyError extends Error {
  override name = "TopologyError";
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message} (set it under [vars] in wrangler.toml)`);
  }
}

/** Reads and validates the topology; throws TopologyError naming the variable to fix. */
export function parseTopology(vars: Record<string, unknown>): Topology {
  const shardCount = parseShardCount(vars);
  const locations = parseLocations(vars.REPLICA_LOCATIONS);
  const replicasPerShard = parseReplicasPerShard(vars.REPLICAS_PER_SHARD, locations);
  return {
    shardCount,
    replicasPerShard,
    locations,
    shards: buildShards(shardCount, replicasPerShard, locations),
  };
}

export function buildShards(
  shardCount: number,
  replicasPerShard: number,
  locations: LocationHint[],
): ShardSpec[] {
  return Array.from({ length: shardCount }, (_, s) => ({
    shardId: `s${s}`,
    index: s,
    replicas: Array.from({ length: replicasPerShard }, (_, r) => ({
      replicaId: `s${s}-r${r}`,
      location: locations[r] ?? null,
    })),
  }));
}

function parseShardCount(vars: Record<string, unknown>): number {
  if (vars.SHARD_COUNT !== undefined) {
    // One name per setting: wrangler.toml has always said SHARDS.
    throw new TopologyError(
      "SHARD_COUNT",
      "is no longer read; the setting is SHARDS: rename it to " +
        `SHARDS = "${String(vars.SHARD_COUNT)}"`,
    );
  }
  if (vars.SHARDS === undefined) {
    throw new TopologyError(
      "SHARDS",
      `is not set; give the number of shards, 1 to ${shardCountMax}, e.g. SHARDS = "4"`,
    );
  }
  return parseInteger("SHARDS", vars.SHARDS, 1, shardCountMax);
}

function parseReplicasPerShard(raw: unknown, locations: LocationHint[]): number {
  if (raw === undefined) return Math.max(1, locations.length);
  const replicas = parseInteger("REPLICAS_PER_SHARD", raw, 1, replicasPerShardMax);
  if (locations.length > 0 && locations.length !== replicas) {
    throw new TopologyError(
      "REPLICA_LOCATIONS",
      `lists ${locations.length} locations but REPLICAS_PER_SHARD is ${replicas}; give one location per replica`,
    );
  }
  return replicas;
}

function parseLocations(raw: unknown): LocationHint[] {
  if (raw === undefined || (typeof raw === "string" && raw.trim() === "")) return [];
  if (typeof raw !== "string")
    throw new TopologyError(
      "REPLICA_LOCATIONS",
      `must be a comma-separated string such as "wnam,enam,weur"`,
    );
  return raw.split(",").map((part, i) => {
    const hint = part.trim();
    if (!(locationHints as readonly string[]).includes(hint)) {
      throw new TopologyError(
        "REPLICA_LOCATIONS",
        `entry ${i} ${JSON.stringify(hint)} is not a location hint; use one of ${locationHints.join(", ")}`,
      );
    }
    return hint as LocationHint;
  });
}

function parseInteger(name: string, raw: unknown, min: number, max: number): number {
  const text = typeof raw === "number" ? String(raw) : typeof raw === "string" ? raw.trim() : "";
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new TopologyError(
      name,
      `must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}
