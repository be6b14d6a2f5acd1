// The etcd baseline: three etcd 3.4 members on loopback, in temp data dirs, on free ports.
// Debian's etcd-server package provides /usr/bin/etcd; when it is missing the bench installs it
// if it runs as root, and otherwise goes on without this baseline and says why.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

const membersCount = 3;
const startTimeoutMs = 30_000;
const candidates = ["/usr/bin/etcd", "/usr/local/bin/etcd"];

export interface EtcdCluster {
  /** Client URL of the member that leads; load goes there, as edgecfg's goes to its leader. */
  leaderUrl: string;
  pids: number[];
  version: string;
  stop(): Promise<void>;
}

export type EtcdStart = { ok: true; cluster: EtcdCluster } | { ok: false; reason: string };

function findBinary(): string | undefined {
  return candidates.find((path) => existsSync(path));
}

/** Installs etcd-server with apt-get when possible; returns the binary or why there is none. */
export function ensureEtcd(log: (line: string) => void): { binary: string } | { reason: string } {
  const found = findBinary();
  if (found !== undefined) return { binary: found };
  if (process.getuid?.() !== 0)
    return {
      reason:
        "etcd is not installed and the bench is not root: run `apt-get install -y etcd-server`",
    };
  log("installing etcd-server with apt-get (for the etcd baseline)…");
  try {
    execFileSync("apt-get", ["install", "-y", "etcd-server"], {
      stdio: "ignore",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  } catch (error) {
    return {
      reason: `apt-get install -y etcd-server failed: ${(error as Error).message.split("\n")[0]}`,
    };
  }
  const installed = findBinary();
  return installed === undefined
    ? { reason: "etcd-server installed but no etcd binary found" }
    : { binary: installed };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Member {
  name: string;
  clientUrl: string;
  peerUrl: string;
}

async function planMembers(): Promise<Member[]> {
  const members: Member[] = [];
  for (let i = 0; i < membersCount; i++) {
    const [client, peer] = [await freePort(), await freePort()];
    members.push({
      name: `m${i}`,
      clientUrl: `http://127.0.0.1:${client}`,
      peerUrl: `http://127.0.0.1:${peer}`,
    });
  }
  return members;
}

function spawnMember(
  binary: string,
  member: Member,
  cluster: string,
  dataDir: string,
): ChildProcess {
  mkdirSync(dataDir, { recursive: true });
  const args = [
    `--name=${member.name}`,
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${member.clientUrl}`,
    `--advertise-client-urls=${member.clientUrl}`,
    `--listen-peer-urls=${member.peerUrl}`,
    `--initial-advertise-peer-urls=${member.peerUrl}`,
    `--initial-cluster=${cluster}`,
    "--initial-cluster-state=new",
    "--initial-cluster-token=edgecfg-bench",
    "--log-level=error",
  ];
  return spawn(binary, args, { stdio: ["ignore", "ignore", "ignore"] });
}

interface Status {
  leader?: string;
  header?: { member_id?: string };
  version?: string;
}

async function status(clientUrl: string): Promise<Status | undefined> {
  try {
    const res = await fetch(`${clientUrl}/v3/maintenance/status`, { method: "POST", body: "{}" });
    return res.ok ? ((await res.json()) as Status) : undefined;
  } catch {
    return undefined;
  }
}

/** Polls until a member reports itself as leader; that member's client URL. */
async function awaitLeader(members: Member[]): Promise<{ url: string; version: string }> {
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    for (const m of members) {
      const s = await status(m.clientUrl);
      if (s?.leader !== undefined && s.leader !== "0" && s.leader === s.header?.member_id)
        return { url: m.clientUrl, version: s.version ?? "?" };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`etcd elected no leader within ${startTimeoutMs} ms`);
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map((child) => {
      if (child.exitCode !== null) return Promise.resolve();
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      return exited;
    }),
  );
}

export async function startEtcd(binary: string, dataRoot: string): Promise<EtcdStart> {
  const members = await planMembers();
  const cluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(",");
  const children = members.map((m) => spawnMember(binary, m, cluster, join(dataRoot, m.name)));
  const stop = () => stopAll(children);
  // Never leave members behind, even when the bench dies on an exception.
  process.once("exit", () => children.forEach((c) => c.kill("SIGKILL")));
  try {
    const leader = await awaitLeader(members);
    const pids = children.map((c) => c.pid).filter((pid): pid is number => pid !== undefined);
    return { ok: true, cluster: { leaderUrl: leader.url, pids, version: leader.version, stop } };
  } catch (error) {
    await stop();
    return { ok: false, reason: (error as Error).message };
  }
}
