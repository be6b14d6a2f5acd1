// `npm run bench:replace`: replacing a replica under load (issue 16's target). Starts the store as
// `npm start` does in a fresh state folder, seeds the namespace with SEED_KEYS × SEED_BYTES of
// data (default 2,000 × 2 KiB: the state a new replica must catch up on), runs 64 closed-loop CAS
// clients (GET, then PUT If-Match) on keys of that namespace, and replaces a follower of their
// shard while they run. Prints one JSON line: ops/s before, during the catch-up (from the start
// until the new replica is promoted) and during the whole replace, each as a ratio of before;
// errors (anything but 200/412); the longest gap between two acknowledged writes; and per phase
// the server's CPU (cores busy, from /proc) and the shard's DO requests per second.
//
// VICTIM=stopped (the default) stops the follower first and measures "before" without it: the
// case a replace is for, a dead replica. VICTIM=live replaces a running one. PROJECT_DIR runs the
// server of another checkout (e.g. `git archive main | tar -x -C /tmp/main`, with node_modules
// linked), so the same measurement compares two versions. The bench follows the operation as
// `edgecfg cluster op wait` does (GET ?wait=, which drives it once the POST's drive ends) and
// looks at its record every 50 ms (one read of the directory) to time its steps.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocal } from "../local-server.ts";
import { cpuMeter, newWorkerdPids, type CpuMeter } from "./cpu.ts";
import { stubsFor, type BenchStub } from "./stats.ts";

const clients = Number(process.env.CLIENTS ?? 64);
const beforeMs = Number(process.env.BEFORE_MS ?? 8_000);
const afterMs = Number(process.env.AFTER_MS ?? 3_000);
/** State the new replica must catch up on beside the clients' keys: keys × bytes of other data. */
const seedKeys = Number(process.env.SEED_KEYS ?? 2_000);
const seedBytes = Number(process.env.SEED_BYTES ?? 2_048);
const victimMode = process.env.VICTIM === "live" ? "live" : "stopped";

const workerdBefore = newWorkerdPids([]);
const stateDir = mkdtempSync(join(tmpdir(), "edgecfg-replace-"));
const server = await startLocal({
  port: 0,
  stateDir,
  adminToken: "bench-token",
  ...(process.env.PROJECT_DIR ? { projectDir: process.env.PROJECT_DIR } : {}),
});
const cpu = cpuMeter(newWorkerdPids(workerdBefore));
const url = server.url.toString().replace(/\/$/, "");
const auth = { Authorization: "Bearer bench-token" };
const json = { ...auth, "Content-Type": "application/json" };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const acks: number[] = [];
let errors = 0;
let stopped = false;

async function client(i: number): Promise<void> {
  const key = `${url}/v1/kv/bench-replace/k${i}`;
  while (!stopped) {
    try {
      const got = await fetch(key, { headers: auth });
      await got.arrayBuffer();
      const pre: Record<string, string> =
        got.status === 200 ? { "If-Match": got.headers.get("ETag")! } : { "If-None-Match": "*" };
      const put = await fetch(key, {
        method: "PUT",
        headers: { ...auth, ...pre, "Content-Type": "text/plain" },
        body: String(Date.now()),
      });
      await put.arrayBuffer();
      if (put.status === 200 || put.status === 201) acks.push(Date.now());
      else if (put.status !== 412) errors++;
    } catch {
      errors++;
    }
  }
}

async function seed(): Promise<void> {
  const body = "x".repeat(seedBytes);
  for (let i = 0; i < seedKeys; i += 32) {
    const batch = Array.from({ length: Math.min(32, seedKeys - i) }, (_, j) =>
      fetch(`${url}/v1/kv/bench-replace/seed${i + j}`, { method: "PUT", headers: auth, body }),
    );
    for (const res of await Promise.all(batch)) await res.arrayBuffer();
  }
}

interface Shard {
  shard: number;
  replicas: { id: string; role: string }[];
}

/** The clients' shard (the one their answers' consistency tokens name) and its members. */
async function clientsShard(): Promise<Shard> {
  const probe = await fetch(`${url}/v1/kv/bench-replace/k0`, { headers: auth });
  await probe.arrayBuffer();
  const index = Number(/^s(\d+)\./.exec(probe.headers.get("X-Edgecfg-Revision") ?? "")?.[1]);
  const cluster = (await (await fetch(`${url}/v1/cluster`, { headers: auth })).json()) as {
    shards: Shard[];
  };
  return cluster.shards.find((s) => s.shard === index)!;
}

/** A point in time with the server's counters then. */
interface Mark {
  atMs: number;
  cpuSeconds: number;
  doRequests: number | undefined;
}

/** Counters that are one incoming DO request each (as scripts/bench/stats.ts counts them). */
const requestCounters = ["rpcsReceived", "clientRequests", "alarmsFired"];

/** The shard's DO requests so far; a replica that does not exist yet (the new one) counts 0. */
async function doRequests(stubs: Map<string, BenchStub>, existing: Set<string>): Promise<number> {
  const all = await Promise.all(
    [...stubs].filter(([id]) => existing.has(id)).map(([, stub]) => stub.stats()),
  );
  return all.reduce(
    (sum, s) => sum + requestCounters.reduce((n, c) => n + Number(s[c] ?? 0), 0),
    0,
  );
}

async function mark(count: () => Promise<number>, meter: CpuMeter): Promise<Mark> {
  const atMs = Date.now();
  const [requests, cpuSeconds] = await Promise.all([
    count().catch(() => undefined),
    meter.seconds(),
  ]);
  return { atMs, cpuSeconds, doRequests: requests };
}

/** Looks at the operation until it ends; its state, and `onPromoted`'s mark when it left the catch-up. */
async function follow(id: string, onPromoted: () => Promise<Mark>) {
  let promoted: Mark | undefined;
  void wait(id);
  for (;;) {
    const res = await fetch(`${url}/v1/cluster/operations/${id}`, { headers: auth });
    const op = (await res.json()) as { state: string; step: string };
    if (promoted === undefined && !["start", "join", "learner"].includes(op.step))
      promoted = await onPromoted();
    if (op.state !== "running")
      return { state: op.state, promoted: promoted ?? (await onPromoted()) };
    await sleep(50);
  }
}

/** What `edgecfg cluster op wait` does: GET ?wait= until the operation is no longer running. */
async function wait(id: string): Promise<void> {
  for (let state = "running"; state === "running"; ) {
    const res = await fetch(`${url}/v1/cluster/operations/${id}?wait=10s`, { headers: auth });
    state = ((await res.json()) as { state: string }).state;
  }
}

const opsPerSecond = (from: number, to: number) =>
  acks.filter((t) => t >= from && t < to).length / Math.max(0.001, (to - from) / 1000);

function phase(from: Mark, to: Mark, before: number) {
  const seconds = Math.max(0.001, (to.atMs - from.atMs) / 1000);
  const ops = opsPerSecond(from.atMs, to.atMs);
  return {
    ms: to.atMs - from.atMs,
    opsPerSecond: Math.round(ops),
    ratio: before === 0 ? null : Number((ops / before).toFixed(2)),
    serverCores: Number(((to.cpuSeconds - from.cpuSeconds) / seconds).toFixed(2)),
    doRequestsPerSecond:
      from.doRequests === undefined || to.doRequests === undefined
        ? null
        : Math.round((to.doRequests - from.doRequests) / seconds),
  };
}

function longestGap(from: number, to: number): number {
  const during = acks.filter((t) => t >= from && t <= to);
  let gap = 0;
  for (let i = 1; i < during.length; i++) gap = Math.max(gap, during[i]! - during[i - 1]!);
  return gap;
}

async function stop(replica: string): Promise<void> {
  const body = JSON.stringify({ action: "stop", replica });
  const res = await fetch(`${url}/v1/dev/faults`, { method: "POST", headers: json, body });
  if (!res.ok) throw new Error(`stopping ${replica} answered ${res.status}: ${await res.text()}`);
  await sleep(1_000); // let the leader notice, so "before" is the store running without it
}

async function main(): Promise<void> {
  await seed();
  const shard = await clientsShard();
  const ids = shard.replicas.map((r) => r.id);
  const victim = shard.replicas.find((r) => r.role !== "leader")!.id;
  const running = Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
  await sleep(1_000); // warm-up, not counted
  if (victimMode === "stopped") await stop(victim);
  const added = `s${shard.shard}-r${ids.length}/g1`; // the next replica id of a fresh store
  const stubs = await stubsFor(server.miniflare, "raft", [...ids, added]);
  if (typeof stubs === "string") throw new Error(stubs);
  const existing = new Set(ids);
  const count = () => doRequests(stubs, existing);
  const start = await mark(count, cpu);
  await sleep(beforeMs);
  const opStart = await mark(count, cpu);
  const path = `/v1/cluster/shards/${shard.shard}/replicas/${encodeURIComponent(victim)}/replace`;
  const started = await fetch(`${url}${path}`, { method: "POST", headers: json, body: "{}" });
  const op = (await started.json()) as { id: string; added: string };
  if (op.added !== added) throw new Error(`the replace added ${op.added}, not ${added}`);
  existing.add(added);
  const { state, promoted } = await follow(op.id, () => mark(count, cpu));
  const opEnd = await mark(count, cpu);
  await sleep(afterMs);
  stopped = true;
  await running;
  const before = phase(start, opStart, 0);
  console.log(
    JSON.stringify({
      clients,
      seeded: `${seedKeys} x ${seedBytes} B`,
      victim: `${victim} (${victimMode})`,
      added: op.added,
      shard: shard.shard,
      state,
      before,
      catchUp: phase(opStart, promoted, before.opsPerSecond),
      afterCatchUp: phase(promoted, opEnd, before.opsPerSecond),
      replace: phase(opStart, opEnd, before.opsPerSecond),
      errors,
      longestGapMs: longestGap(opStart.atMs - 1_000, opEnd.atMs + afterMs),
    }),
  );
}

try {
  await main();
} finally {
  stopped = true;
  await server.dispose();
  rmSync(stateDir, { recursive: true, force: true });
}
