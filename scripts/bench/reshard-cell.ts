// The reshard cell (issue 18): resharding under load. Starts the store as `npm start` does
// (SHARDS=4) in a fresh state folder, seeds `namespaces` × `keysPerNamespace` keys of 100 bytes
// (one declarative apply per namespace), runs `clients` closed-loop CAS clients (GET, then PUT
// If-Match), each on a key of its own namespace, and reshards to `toShards` while they run.
// Measures the reshard's total time, namespaces moved and bytes copied; the write pause per
// moved namespace (fence to activation, as the driver measured it: p50 of the latest 256, p99 of
// all of them, max); CAS/s before and during (the dip); errors (anything but 200/201/412); lost
// writes (an acknowledged CAS value not there at the end) and duplicated ones (a version number
// twice in a key's history). `npm run bench` runs it last; `npm run bench:reshard` runs it alone.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocal } from "../local-server.ts";

export interface ReshardCellOptions {
  clients: number;
  namespaces: number;
  keysPerNamespace: number;
  toShards: number;
  /** Load before the reshard starts, for the "before" throughput, ms. */
  beforeMs: number;
}

export interface ReshardResult {
  clients: number;
  namespaces: number;
  keysPerNamespace: number;
  ring: string;
  seedMs: number;
  state: string;
  error?: string;
  totalMs: number;
  moved?: number;
  bytes?: number;
  pauseMs?: { p50: number; p99: number; max: number };
  opsPerSecond: { before: number; during: number; ratio: number };
  errors: number;
  lost: number;
  duplicated: number;
}

interface Op {
  id: string;
  state: string;
  error?: string;
  reshard?: { moved: number; bytes: number; pauseMs: { p50: number; p99: number; max: number } };
}

const auth = { Authorization: "Bearer bench-token" };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The CAS clients' tally: acknowledgment times, the last value acknowledged per key. */
class Load {
  readonly acks: number[] = [];
  readonly acked = new Map<string, number>();
  errors = 0;
  stopped = false;

  private readonly url: string;
  private readonly namespaces: number;

  constructor(url: string, namespaces: number) {
    this.url = url;
    this.namespaces = namespaces;
  }

  async client(i: number): Promise<void> {
    const key = `app-${(i * 7) % this.namespaces}/cas${i}`;
    for (let n = 0; !this.stopped; n++) {
      try {
        await this.cas(key, n);
      } catch {
        this.errors++;
      }
    }
  }

  private async cas(key: string, n: number): Promise<void> {
    const got = await fetch(`${this.url}/v1/kv/${key}`, { headers: auth });
    const value = got.status === 200 ? Number(await got.text()) : (await got.arrayBuffer(), 0);
    const pre: Record<string, string> =
      got.status === 200 ? { "If-Match": got.headers.get("ETag")! } : { "If-None-Match": "*" };
    const put = await fetch(`${this.url}/v1/kv/${key}`, {
      method: "PUT",
      headers: { ...auth, ...pre, "Content-Type": "text/plain", "Idempotency-Key": `${key}-${n}` },
      body: String(value + 1),
    });
    await put.arrayBuffer();
    if (put.status === 200 || put.status === 201) {
      this.acks.push(Date.now());
      this.acked.set(key, value + 1);
    } else if (put.status !== 412) this.errors++;
  }

  opsPerSecond(from: number, to: number): number {
    const n = this.acks.filter((t) => t >= from && t < to).length;
    return n / Math.max(0.001, (to - from) / 1000);
  }
}

async function seed(url: string, namespaces: number, keysPerNamespace: number): Promise<void> {
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

/** Starts the reshard and follows it as `cluster op wait` does (GET ?wait=, which drives it). */
async function reshard(url: string, toShards: number): Promise<Op> {
  const res = await fetch(`${url}/v1/cluster/reshard`, {
    method: "POST",
    headers: { ...auth, "Content-Type": "application/json", "Idempotency-Key": "bench-reshard" },
    body: JSON.stringify({ shards: toShards }),
  });
  if (res.status !== 202)
    throw new Error(`the reshard answered ${res.status}: ${await res.text()}`);
  const { id } = (await res.json()) as Op;
  for (;;) {
    const got = await fetch(`${url}/v1/cluster/operations/${id}?wait=10s`, { headers: auth });
    const op = (await got.json()) as Op;
    if (op.state !== "running") return op;
  }
}

async function lostAndDuplicated(url: string, load: Load) {
  let lost = 0;
  let duplicated = 0;
  for (const [key, value] of load.acked) {
    const got = await fetch(`${url}/v1/kv/${key}`, { headers: auth });
    if (Number(await got.text()) < value) lost++;
    const res = await fetch(`${url}/v1/kv/${key}/history`, { headers: auth });
    const history = (await res.json()) as { items: { version: number }[] };
    const versions = history.items.map((i) => i.version);
    if (new Set(versions).size !== versions.length) duplicated++;
  }
  return { lost, duplicated };
}

/** Runs the cell on a store of its own, started and disposed here. */
export async function runReshardCell(o: ReshardCellOptions): Promise<ReshardResult> {
  const stateDir = mkdtempSync(join(tmpdir(), "edgecfg-reshard-"));
  const server = await startLocal({
    port: 0,
    stateDir,
    adminToken: "bench-token",
    vars: { SHARDS: "4" },
  });
  const url = server.url.toString().replace(/\/$/, "");
  const load = new Load(url, o.namespaces);
  try {
    const seededAt = Date.now();
    await seed(url, o.namespaces, o.keysPerNamespace);
    const seedMs = Date.now() - seededAt;
    const running = Promise.all(Array.from({ length: o.clients }, (_, i) => load.client(i)));
    await sleep(o.beforeMs);
    const startedAt = Date.now();
    const op = await reshard(url, o.toShards);
    const endedAt = Date.now();
    await sleep(2_000);
    load.stopped = true;
    await running;
    const before = load.opsPerSecond(startedAt - o.beforeMs, startedAt);
    const during = load.opsPerSecond(startedAt, endedAt);
    const { clients, namespaces, keysPerNamespace } = o;
    return {
      ...{ clients, namespaces, keysPerNamespace, ring: `4 -> ${o.toShards}`, seedMs },
      state: op.state,
      ...(op.error === undefined ? {} : { error: op.error }),
      totalMs: endedAt - startedAt,
      ...(op.reshard === undefined ? {} : { moved: op.reshard.moved, bytes: op.reshard.bytes }),
      ...(op.reshard === undefined ? {} : { pauseMs: op.reshard.pauseMs }),
      opsPerSecond: {
        before: Math.round(before),
        during: Math.round(during),
        ratio: Number((during / Math.max(1, before)).toFixed(2)),
      },
      errors: load.errors,
      ...(await lostAndDuplicated(url, load)),
    };
  } finally {
    load.stopped = true;
    await server.dispose();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
