// Server CPU from /proc: utime + stime of a set of processes, in seconds. The bench samples it
// before and after each measured window, so the figure covers the server only (the load
// generator is another process, and Node's own CPU is not counted).
import { readFileSync, readdirSync } from "node:fs";

/** Linux reports utime/stime in clock ticks; 100 per second on every mainstream kernel config. */
const clockTicksPerSecond = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  cpuTicks: number;
}

/** Parses /proc/<pid>/stat; the command name may hold spaces and parentheses, so split after the last ')'. */
function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined; // the process ended between listing and reading
  }
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // fields[0] is state (stat field 3); ppid is field 4, utime 14, stime 15.
  return { pid, ppid: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
}

function allStats(): ProcStat[] {
  const pids = readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
  return pids.map(readStat).filter((s): s is ProcStat => s !== undefined);
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/** Every process below `rootPid` whose command line contains `needle` (e.g. "workerd"). */
export function descendantPids(rootPid: number, needle: string): number[] {
  const stats = allStats();
  const children = new Map<number, number[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s.pid]);
  const found: number[] = [];
  const queue = [...(children.get(rootPid) ?? [])];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    if (commandLine(pid).includes(needle)) found.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

/** Total CPU seconds (user + system) used so far by the given processes. */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) ticks += readStat(pid)?.cpuTicks ?? 0;
  return ticks / clockTicksPerSecond;
}

/** A CPU meter over a fixed set of processes, e.g. the workerd that one Miniflare spawned. */
export interface CpuMeter {
  pids: number[];
  seconds(): number;
}

export function cpuMeter(pids: number[]): CpuMeter {
  return { pids, seconds: () => cpuSeconds(pids) };
}

/** The workerd processes that appeared below this process since `before` was taken. */
export function newWorkerdPids(before: readonly number[]): number[] {
  return descendantPids(process.pid, "workerd").filter((pid) => !before.includes(pid));
}
