// The edgecfg servers under test: the Worker served exactly as `npm start` serves it (scripts/
// local-server.ts), each in a fresh state folder, with its own workerd whose CPU the bench meters.
import { join } from "node:path";
import type { Miniflare } from "miniflare";
import { startLocal } from "../local-server.ts";
import { cpuMeter, descendantPids, newWorkerdPids, type CpuMeter } from "./cpu.ts";
import {
  readCluster,
  statsProbe,
  stubsFor,
  type BenchStub,
  type ClusterInfo,
  type StatsProbe,
} from "./stats.ts";
import type { Target } from "./types.ts";

export interface EdgecfgServer {
  /** The backend that answers: from GET /v1/cluster, else the BACKEND var, else "default". */
  backend: string;
  /** For the report: the backend, and its replicas per shard when the cluster says. */
  label: string;
  target: Target & { kind: "edgecfg" };
  url: URL;
  adminToken: string;
  miniflare: Miniflare;
  cpu: CpuMeter;
  dispose(): Promise<void>;
}

export async function startEdgecfg(
  stateRoot: string,
  name: string,
  vars: Record<string, string>,
): Promise<EdgecfgServer> {
  const before = descendantPids(process.pid, "workerd");
  const server = await startLocal({ port: 0, stateDir: join(stateRoot, name), vars });
  const cluster = await readCluster(server.url, server.adminToken);
  const backend = cluster?.backend ?? vars.BACKEND ?? "default";
  const replicas = cluster?.replicasPerShard;
  return {
    backend,
    label:
      replicas === undefined
        ? backend
        : `${backend}, ${replicas} replica${replicas === 1 ? "" : "s"}/shard`,
    target: { kind: "edgecfg", url: server.url.origin, adminToken: server.adminToken },
    url: server.url,
    adminToken: server.adminToken,
    miniflare: server.miniflare,
    cpu: cpuMeter(newWorkerdPids(before)),
    dispose: () => server.dispose(),
  };
}

export interface Observed {
  cluster: ClusterInfo | undefined;
  stats: StatsProbe;
  stubs: Map<string, BenchStub> | string;
}

/** After seeding: the replicas GET /v1/cluster lists and a DO request counter over them. */
export async function observe(server: EdgecfgServer): Promise<Observed> {
  const cluster = await readCluster(server.url, server.adminToken);
  if (cluster === undefined) {
    const stubs = "GET /v1/cluster is not available";
    return { cluster, stubs, stats: await statsProbe(stubs) };
  }
  const stubs = await stubsFor(
    server.miniflare,
    server.backend,
    cluster.replicas.map((r) => r.id),
  );
  return { cluster, stubs, stats: await statsProbe(stubs) };
}
