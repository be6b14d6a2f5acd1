// `npm run bench:reshard`: resharding under load (issue 18's cell). Starts the store as
// `npm start` does (SHARDS=4) in a fresh state folder, seeds NAMESPACES × KEYS keys (default
// 1,000 × 10 of 100 bytes, one declarative apply per namespace), runs CLIENTS (default 64)
// closed-loop CAS clients (GET, then PUT If-Match), each on a key of its own namespace, and
// reshards to TO_SHARDS (default 8) while they run. Prints one JSON line: the reshard's total
// time, namespaces moved and bytes copied; the write pause per moved namespace (fence to
// activation, as the driver measured it: p50 of the latest 256 and max); ops/s before and during
// (the dip); errors (anything but 200/201/412); lost writes (an acknowledged CAS value not there
// at the end) and duplicated ones (a version number twice in a key's history).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocal } from "../local-server.ts";

const clients = Number(process.env.CLIENTS ?? 64);
const namespaces = Number(process.env.NAMESPACES ?? 1_000);
const keysPerNamespace = Number(process.env.KEYS ?? 10);
const toShards = Number(process.env.TO_SHARDS ?? 8);
const beforeMs = Number(process.env.BEFORE_MS ?? 5_000);

const stateDir = mkdtempSync(join(tmpdir(), "edgecfg-reshard-"));
const server = await startLocal({
  port: 0,
  stateDir,
  adminToken: "bench-token",
  vars: { SHARDS: "4" },
});
const url = server.url.toString().replace(/\/$/, "");
const auth = { Authorization: "Bearer bench-token" };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const acks: number[] = [];
const acked = new Map<string, number>();
let errors = 0;
let stopped = false;

async function client(i: number): Promise<void> {
  const key = `app-${(i * 7) % namespaces}/cas${i}`;
  for (let n = 0; !stopped; n++) {
    try {
      const got = await fetch(`${url}/v1/kv/${key}`, { headers: auth });
      const value = got.status === 200 ? Number(await got.text()) : (await got.arrayBuffer(), 0);
      const pre: Record<string, string> =
        got.status === 200 ? { "If-Match": got.headers.get("ETag")! } : { "If-None-Match": "*" };
      const put = await fetch(`${url}/v1/kv/${key}`, {
        method: "PUT",
        headers: {
          ...auth,
          ...pre,
          "Content-Type": "text/plain",
          "Idempotency-Key": `${key}-${n}`,
        },
        body: String(value + 1),
      });
      await put.arrayBuffer();
      if (put.status === 200 || put.status === 201) {
        acks.push(Date.now());
        acked.set(key, value + 1);
      } else if (put.status !== 412) errors++;
    } catch {
      errors++;
    }
  }
}

async function seed(): Promise<void> {
  const value = "x".repeat(100);
  const entries = Object.fromEntries(
    Array.from({ length: keysPerNamespace }, (_, k) => [`k${k}`, { value }]),
  );
  const body = JSON.stringify({ entries });
  const headers = { ...auth, "Content-Type": "application/json" };
  for (let i = 0; i < namespaces; i += 16) {
    const batch = Array.from({ length: Math.min(16, namespaces - i) }, (_, j) =>
      fetch(`${url}/v1/ns/app-${i + j}/apply`, { method: "POST", headers, body }),
    );
    for (const res of await Promise.all(batch)) {
      if (!res.ok) throw new Error(`seeding answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    }
  }
}

interface Op {
  id: string;
  state: string;
  error?: string;
  progress: { done: number; total: number };
  reshard?: { moved: number; bytes: number; pauseMs: { p50: number; max: number } };
}

/** Follows the operation as `cluster op wait` does (GET ?wait=, which drives it too). */
async function follow(id: string): Promise<Op> {
  for (;;) {
    const res = await fetch(`${url}/v1/cluster/operations/${id}?wait=10s`, { headers: auth });
    const op = (await res.json()) as Op;
    if (op.state !== "running") return op;
  }
}

const opsPerSecond = (from: number, to: number) =>
  acks.filter((t) => t >= from && t < to).length / Math.max(0.001, (to - from) / 1000);

async function lostAndDuplicated(): Promise<{ lost: number; duplicated: number }> {
  let lost = 0;
  let duplicated = 0;
  for (const [key, value] of acked) {
    const got = await fetch(`${url}/v1/kv/${key}`, { headers: auth });
    if (Number(await got.text()) < value) lost++;
    const history = (await (
      await fetch(`${url}/v1/kv/${key}/history`, { headers: auth })
    ).json()) as {
      items: { version: number }[];
    };
    const versions = history.items.map((i) => i.version);
    if (new Set(versions).size !== versions.length) duplicated++;
  }
  return { lost, duplicated };
}

try {
  const seededAt = Date.now();
  await seed();
  const seedMs = Date.now() - seededAt;
  const running = Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
  await sleep(beforeMs);
  const startedAt = Date.now();
  const res = await fetch(`${url}/v1/cluster/reshard`, {
    method: "POST",
    headers: { ...auth, "Content-Type": "application/json", "Idempotency-Key": "bench-reshard" },
    body: JSON.stringify({ shards: toShards }),
  });
  if (res.status !== 202)
    throw new Error(`the reshard answered ${res.status}: ${await res.text()}`);
  const op = await follow(((await res.json()) as Op).id);
  const endedAt = Date.now();
  await sleep(2_000);
  stopped = true;
  await running;
  const before = opsPerSecond(startedAt - beforeMs, startedAt);
  const during = opsPerSecond(startedAt, endedAt);
  console.log(
    JSON.stringify({
      clients,
      namespaces,
      keysPerNamespace,
      ring: `4 -> ${toShards}`,
      seedMs,
      state: op.state,
      ...(op.error === undefined ? {} : { error: op.error }),
      totalMs: endedAt - startedAt,
      moved: op.reshard?.moved,
      bytes: op.reshard?.bytes,
      pauseMs: op.reshard?.pauseMs,
      opsPerSecond: {
        before: Math.round(before),
        during: Math.round(during),
        ratio: Number((during / Math.max(1, before)).toFixed(2)),
      },
      errors,
      ...(await lostAndDuplicated()),
    }),
  );
} finally {
  stopped = true;
  await server.dispose();
  rmSync(stateDir, { recursive: true, force: true });
}
