// The chaos run's nemesis: every few seconds one fault of the local server's fault API
// (/v1/dev/faults: a replica cut off both ways or one way, the leader isolated, latency, a stop
// and restart, a failing disk, a skewed clock), each held for a while by the store's own
// schedule (forMs), or a cluster operation (a leadership transfer, a replica replacement) on the
// shard the clients write to.
import type { FaultEvent } from "./report.ts";

export interface NemesisOptions {
  url: string;
  token: string;
  random: () => number;
  /** Pause between two faults, ms. */
  everyMs: number;
  log: (line: string) => void;
}

interface Cluster {
  shards: { shard: number; replicas: { id: string; role: string }[] }[];
}

const kinds = [
  "cut",
  "cutInbound",
  "cutOutbound",
  "isolateLeader",
  "latency",
  "stopRestart",
  "failWrites",
  "skewClock",
  "transfer",
  "replace",
] as const;

export async function runNemesis(
  o: NemesisOptions,
  until: () => boolean,
  shard: number,
  now: () => number,
): Promise<FaultEvent[]> {
  const done: FaultEvent[] = [];
  const headers = { Authorization: `Bearer ${o.token}`, "Content-Type": "application/json" };
  const post = (path: string, body: unknown) =>
    fetch(`${o.url}${path}`, { method: "POST", headers, body: JSON.stringify(body) }).then((r) =>
      r.text(),
    );
  while (!until()) {
    await new Promise((r) => setTimeout(r, o.everyMs));
    if (until()) break;
    const cluster = (await (await fetch(`${o.url}/v1/cluster`, { headers })).json()) as Cluster;
    const replicas = cluster.shards.find((s) => s.shard === shard)?.replicas ?? [];
    const pick = replicas[Math.floor(o.random() * replicas.length)]?.id;
    const follower = replicas.find((r) => r.role !== "leader")?.id;
    const kind = kinds[Math.floor(o.random() * kinds.length)]!;
    const holdMs = Math.round(o.everyMs * 0.7);
    if (pick === undefined) continue;
    const atMs = now();
    if (kind === "cut" || kind === "cutInbound" || kind === "cutOutbound")
      await post("/v1/dev/faults", { action: kind, replica: pick, forMs: holdMs });
    if (kind === "isolateLeader")
      await post("/v1/dev/faults", { action: "isolateLeader", shard, forMs: holdMs });
    if (kind === "latency")
      await post("/v1/dev/faults", { action: "latency", location: "", ms: 30, forMs: holdMs });
    if (kind === "stopRestart") {
      await post("/v1/dev/faults", { action: "stop", replica: pick, forMs: holdMs });
      await new Promise((r) => setTimeout(r, holdMs));
      await post("/v1/dev/faults", { action: "restart", replica: pick });
    }
    if (kind === "failWrites")
      await post("/v1/dev/faults", { action: "failWrites", replica: pick });
    if (kind === "skewClock")
      await post("/v1/dev/faults", {
        action: "skewClock",
        replica: pick,
        ms: 3_000,
        forMs: holdMs,
      });
    if (kind === "transfer" && follower)
      await post(`/v1/cluster/shards/${shard}/leader`, { to: follower });
    if (kind === "replace" && follower)
      await post(
        `/v1/cluster/shards/${shard}/replicas/${encodeURIComponent(follower)}/replace`,
        {},
      );
    done.push({ kind, atMs, holdMs });
    o.log(`nemesis: ${kind}${kind === "isolateLeader" || kind === "latency" ? "" : ` ${pick}`}`);
  }
  return done;
}
