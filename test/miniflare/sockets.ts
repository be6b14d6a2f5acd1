// The TCP sockets a workerd started by this process listens on (Linux /proc), to show that the
// edgecfg Worker adds none: Miniflare's own loopback socket is the only one either way.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

function workerdPids(): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const [, comm, rest] = /^\d+ \((.*)\) (.*)$/s.exec(stat) ?? [];
        return comm === "workerd" && Number(rest?.split(" ")[1]) === process.pid;
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** Local ports in LISTEN state (0A) of this process's workerd children. */
export function listeningPorts(): number[] {
  const inodes = new Set(workerdPids().flatMap((pid) => [...socketInodes(pid)]));
  const ports: number[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === "0A" && inodes.has(cols[9]!))
        ports.push(parseInt(cols[1]!.split(":")[1]!, 16));
    }
  }
  return ports.sort();
}
