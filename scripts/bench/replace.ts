// `npm run bench:replace`: replacing a replica under load (issue 16's target). Starts the store as
// `npm start` does in a fresh state folder, seeds the namespace with SEED_KEYS × SEED_BYTES of
// data (default 2,000 × 2 KiB: the state a new replica must catch up on), runs 64 closed-loop CAS
// clients (GET, then PUT If-Match) on keys of that namespace, replaces a follower of its shard
// while they run, and reports ops/s before and during the replace, errors (anything but
// 200/412), and the longest gap between two acknowledged writes. Prints one JSON line.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocal } from "../local-server.ts";

const clients = Number(process.env.CLIENTS ?? 64);
const beforeMs = Number(process.env.BEFORE_MS ?? 8_000);
const afterMs = Number(process.env.AFTER_MS ?? 3_000);
/** State the new replica must catch up on beside the clients' keys: keys × bytes of other data. */
const seedKeys = Number(process.env.SEED_KEYS ?? 2_000);
const seedBytes = Number(process.env.SEED_BYTES ?? 2_048);

const stateDir = mkdtempSync(join(tmpdir(), "edgecfg-replace-"));
const server = await startLocal({ port: 0, stateDir, adminToken: "bench-token" });
const url = server.url.toString().replace(/\/$/, "");
const auth = { Authorization: "Bearer bench-token" };

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

const rate = (from: number, to: number) =>
  acks.filter((t) => t >= from && t < to).length / Math.max(0.001, (to - from) / 1000);

async function seed(): Promise<void> {
  const body = "x".repeat(seedBytes);
  for (let i = 0; i < seedKeys; i += 32) {
    const batch = Array.from({ length: Math.min(32, seedKeys - i) }, (_, j) =>
      fetch(`${url}/v1/kv/bench-replace/seed${i + j}`, { method: "PUT", headers: auth, body }),
    );
    for (const res of await Promise.all(batch)) await res.arrayBuffer();
  }
}

try {
  await seed();
  const running = Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
  await new Promise((r) => setTimeout(r, 1_000)); // warm-up, not counted
  const start = Date.now();
  await new Promise((r) => setTimeout(r, beforeMs));
  // The shard the clients write to: the one their answers' consistency tokens name.
  const probe = await fetch(`${url}/v1/kv/bench-replace/k0`, { headers: auth });
  await probe.arrayBuffer();
  const shardIndex = Number(/^s(\d+)\./.exec(probe.headers.get("X-Edgecfg-Revision") ?? "")?.[1]);
  const cluster = (await (await fetch(`${url}/v1/cluster`, { headers: auth })).json()) as {
    shards: { shard: number; replicas: { id: string; role: string }[] }[];
  };
  const shard = cluster.shards.find((s) => s.shard === shardIndex)!;
  const victim = shard.replicas.find((r) => r.role !== "leader")!.id;
  const opStart = Date.now();
  const started = await fetch(
    `${url}/v1/cluster/shards/${shard.shard}/replicas/${encodeURIComponent(victim)}/replace`,
    { method: "POST", headers: { ...auth, "Content-Type": "application/json" }, body: "{}" },
  );
  const op = (await started.json()) as { id: string };
  let state = "running";
  while (state === "running") {
    const res = await fetch(`${url}/v1/cluster/operations/${op.id}?wait=10s`, { headers: auth });
    state = ((await res.json()) as { state: string }).state;
  }
  const opEnd = Date.now();
  await new Promise((r) => setTimeout(r, afterMs));
  stopped = true;
  await running;
  const errorsTotal = errors;
  let gap = 0;
  const during = acks.filter((t) => t >= opStart - 1_000 && t <= opEnd + afterMs);
  for (let i = 1; i < during.length; i++) gap = Math.max(gap, during[i]! - during[i - 1]!);
  const before = rate(start, opStart);
  const duringRate = rate(opStart, Math.max(opEnd, opStart + 1));
  console.log(
    JSON.stringify({
      clients,
      seeded: `${seedKeys} x ${seedBytes} B`,
      replaced: victim,
      shard: shard.shard,
      operation: op.id,
      state,
      replaceMs: opEnd - opStart,
      opsPerSecondBefore: Math.round(before),
      opsPerSecondDuring: Math.round(duringRate),
      ratio: Number((duringRate / before).toFixed(2)),
      errors: errorsTotal,
      longestGapMs: gap,
    }),
  );
} finally {
  stopped = true;
  await server.dispose();
  rmSync(stateDir, { recursive: true, force: true });
}
