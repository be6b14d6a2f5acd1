// DO request counters, read from the Durable Objects' `stats()` RPC method through Miniflare's
// Node-side binding proxies. Which DOs exist comes from `GET /v1/cluster` (replica ids are DO
// names); when the backend has no `stats()` the figures are "n/a" and the reason is kept.
import type { Miniflare } from "miniflare";
import type { DoCounter } from "./loadgen.ts";

/** DO namespace binding per backend (wrangler.toml). */
const bindingByBackend: Record<string, string> = { raft: "REPLICA", solo: "SOLO_SHARD" };

/**
 * Counters that are one incoming DO request each: peer RPCs received, router RPCs received, alarms.
 * (Names from src/replica/stats.ts; stats() and setFaults() calls themselves are not counted.)
 */
const requestCounters = ["rpcsReceived", "clientRequests", "alarmsFired"] as const;

export interface ReplicaInfo {
  shard: number;
  id: string;
  location: string;
  role: string;
}

export interface ClusterInfo {
  backend: string | undefined;
  replicasPerShard: number | undefined;
  replicas: ReplicaInfo[];
}

interface ClusterJson {
  backend?: string;
  ring?: { replicasPerShard?: number };
  shards?: { shard: number; replicas?: { id: string; location?: string; role?: string }[] }[];
}

/** Backend name and replicas from GET /v1/cluster; undefined when the endpoint is not there yet. */
export async function readCluster(url: URL, adminToken: string): Promise<ClusterInfo | undefined> {
  try {
    const res = await fetch(new URL("/v1/cluster", url), {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    if (!res.ok) return undefined;
    const body = (await res.json()) as ClusterJson;
    const replicas = (body.shards ?? []).flatMap((s) =>
      (s.replicas ?? []).map((r) => ({
        shard: s.shard,
        id: r.id,
        location: r.location ?? "",
        role: r.role ?? "?",
      })),
    );
    return { backend: body.backend, replicasPerShard: body.ring?.replicasPerShard, replicas };
  } catch {
    return undefined;
  }
}

/** A Durable Object stub seen from Node; only the RPC methods the bench calls. */
export interface BenchStub {
  stats(): Promise<Record<string, unknown>>;
  setFaults(faults: unknown): Promise<unknown>;
}

interface Namespace {
  idFromName(name: string): unknown;
  get(id: unknown): BenchStub;
}

export async function stubsFor(
  miniflare: Miniflare,
  backend: string,
  ids: string[],
): Promise<Map<string, BenchStub> | string> {
  const bindingName = bindingByBackend[backend];
  if (bindingName === undefined) return `no DO binding known for backend "${backend}"`;
  const bindings = await miniflare.getBindings<Record<string, Namespace | undefined>>();
  const ns = bindings[bindingName];
  if (ns === undefined) return `the Worker has no ${bindingName} binding`;
  return new Map(ids.map((id) => [id, ns.get(ns.idFromName(id))]));
}

function requestsIn(stats: Record<string, unknown>): number | undefined {
  const present = requestCounters.filter((name) => typeof stats[name] === "number");
  return present.length === 0
    ? undefined
    : present.reduce((total, name) => total + (stats[name] as number), 0);
}

export interface StatsProbe {
  /** Sum of the request counters over every DO; undefined if any DO did not answer. */
  count: DoCounter;
  /** Why counting is impossible, when it is. */
  unavailable?: string;
}

/** Probes `stats()` once; a probe that counts, or one that says why it cannot. */
export async function statsProbe(stubs: Map<string, BenchStub> | string): Promise<StatsProbe> {
  const none = async () => undefined;
  if (typeof stubs === "string") return { count: none, unavailable: stubs };
  if (stubs.size === 0) return { count: none, unavailable: "GET /v1/cluster lists no replicas" };
  const count = async () => {
    try {
      const all = await Promise.all([...stubs.values()].map((s) => s.stats()));
      const perDo = all.map(requestsIn);
      return perDo.includes(undefined) ? undefined : (perDo as number[]).reduce((a, b) => a + b, 0);
    } catch {
      return undefined;
    }
  };
  try {
    const sample = await [...stubs.values()][0]!.stats();
    if (requestsIn(sample) === undefined)
      return { count: none, unavailable: `stats() has none of ${requestCounters.join(", ")}` };
    return { count };
  } catch (error) {
    return {
      count: none,
      unavailable: `stats() failed: ${(error as Error).message.split("\n")[0]}`,
    };
  }
}
