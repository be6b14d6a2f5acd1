// The workloads, written once against the Driver interface so edgecfg, the single-DO floor and
// etcd run the same client code. Each client is closed-loop: one operation in flight at a time.
import type { Answer, Driver } from "./driver.ts";
import { plainNamespace, schemaNamespace, value4k } from "./schema-put.ts";
import type { BenchKeys, ScenarioName } from "./types.ts";
// ring.ts, not the index: Node strips types only, and topology.ts needs a transform.
import { shardIndexFor } from "../../src/ring/ring.ts";

/** How one counted operation ended. "lost" is a CAS that was answered but beaten (412). */
export interface Outcome {
  latencyMs: number;
  result: "ok" | "won" | "lost" | "error";
  status: number;
}

export interface Client {
  /** One operation; may make an uncounted request first (the GET before a CAS). */
  op(): Promise<Outcome>;
  /** Gives back what the client holds (the lock scenario's lease), once its cell is done. */
  close?(): Promise<void>;
}

export interface ScenarioInfo {
  title: string;
  /** Targets that can run it: the runtime floor is edgecfg's /healthz; etcd has no bundles. */
  targets: readonly ("edgecfg" | "etcd")[];
}

export const scenarioInfo: Record<ScenarioName, ScenarioInfo> = {
  health: { title: "runtime floor: GET /healthz (no DO)", targets: ["edgecfg"] },
  read: { title: "linearizable read", targets: ["edgecfg", "etcd"] },
  stale: { title: "stale read", targets: ["edgecfg", "etcd"] },
  bundle: { title: "namespace bundle, If-None-Match → 304", targets: ["edgecfg"] },
  flags304: { title: "OFREP bulk evaluation, If-None-Match → 304", targets: ["edgecfg"] },
  flagEval: { title: "OFREP single evaluation, 3-rule targeting", targets: ["edgecfg"] },
  cas: { title: "CAS write, distinct keys (GET → PUT If-Match)", targets: ["edgecfg", "etcd"] },
  contention: { title: "CAS contention, one key", targets: ["edgecfg", "etcd"] },
  mix: { title: "90% linearizable read / 10% write", targets: ["edgecfg", "etcd"] },
  put4k: { title: "4 KiB JSON PUT, no schema (distinct keys)", targets: ["edgecfg"] },
  put4kSchema: {
    title: "4 KiB JSON PUT under a 20-property schema (distinct keys)",
    targets: ["edgecfg"],
  },
  apply1k: {
    title: "declarative apply of 1,000 JSON entries, all changed (POST /v1/ns/{ns}/apply)",
    targets: ["edgecfg"],
  },
  lock: { title: "lock acquire + release cycle, one lock", targets: ["edgecfg", "etcd"] },
  keepalive: { title: "lease keep-alive, a lease per client", targets: ["edgecfg"] },
  txn1: { title: "txn writing 2 keys of one namespace (one shard)", targets: ["edgecfg"] },
  txn2: { title: "txn writing a key on each of 2 shards (two-phase commit)", targets: ["edgecfg"] },
  txn4: { title: "txn writing a key on each of 4 shards (two-phase commit)", targets: ["edgecfg"] },
};

type Factory = (driver: Driver, keys: BenchKeys, client: number) => Promise<Client>;

async function timed(
  call: () => Promise<Answer>,
  judge: (a: Answer) => Outcome["result"],
): Promise<Outcome> {
  const started = performance.now();
  try {
    const answer = await call();
    return { latencyMs: performance.now() - started, result: judge(answer), status: answer.status };
  } catch {
    return { latencyMs: performance.now() - started, result: "error", status: 0 };
  }
}

const expect = (status: number) => (a: Answer) => (a.status === status ? "ok" : "error");

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

/** Contexts that reach each of the targeted flag's three rules and its default. */
const evalContexts = Array.from({ length: 64 }, (_, i) => ({
  targetingKey: `user-${i}`,
  email: i % 4 === 0 ? `u${i}@example.com` : `u${i}@else.org`,
  country: ["DE", "US", "FR", "JP"][i % 4]!,
  appVersion: `2.${i % 8}.0`,
}));

const value = () => JSON.stringify({ at: Date.now(), pad: "x".repeat(64) });

/** GET the key's current version, then PUT with it as precondition; only the PUT is timed and counted. */
async function casOnce(driver: Driver, key: string): Promise<Outcome> {
  const current = await driver.read(key, false);
  if (current.status !== 200 && current.status !== 404)
    return { latencyMs: 0, result: "error", status: current.status };
  const version = current.status === 200 ? current.version : undefined;
  return timed(
    () => driver.cas(key, version, value()),
    (a) => (driver.won(a) ? "won" : a.status === 412 ? "lost" : "error"),
  );
}

/** One apply that changes every one of 1,000 small JSON entries of the client's own namespace. */
function applyClient(d: Driver, k: BenchKeys, client: number): Client {
  const namespace = `${k.bundleNamespace}-apply-${client}`;
  let round = 0;
  const body = () => {
    round += 1;
    const entries: Record<string, unknown> = {};
    for (let i = 0; i < 1000; i++)
      entries[`flags/f${String(i).padStart(4, "0")}`] = { on: (i + round) % 2 === 0, round, i };
    return JSON.stringify({ entries });
  };
  const apply = d.apply;
  if (apply === undefined) throw new Error("apply1k runs only against edgecfg");
  return { op: () => timed(() => apply(namespace, body()), expect(200)) };
}

/**
 * One cycle on a lease the client holds: acquire (waiting in line behind the other contenders),
 * then release; timed and counted as one operation, as `etcdctl lock` and `edgecfg lock` do it.
 */
function lockCycle(driver: Driver, lock: string, lease: string): Promise<Outcome> {
  const cycle = async (): Promise<Answer> => {
    const held = await driver.lock(lock, lease);
    if (held.status !== 200 || held.version === undefined)
      return { status: held.status === 200 ? 0 : held.status };
    return driver.unlock(lock, held.version);
  };
  return timed(cycle, (a) => (driver.released(a) ? "ok" : "error"));
}

/**
 * A lease per client (TTL far beyond a cell; revoked at its end), then lock cycles on it, or
 * keep-alives of it.
 */
async function leaseClient(driver: Driver, keys: BenchKeys, lock: boolean): Promise<Client> {
  const granted = await driver.leaseGrant(keys.lockNamespace, 120);
  const lease = granted.version;
  if (lease === undefined) throw new Error(`a lease grant answered ${granted.status}`);
  return {
    op: lock
      ? () => lockCycle(driver, keys.lock, lease)
      : () => timed(() => driver.leaseKeepAlive(lease), expect(200)),
    close: async () => void (await driver.leaseRevoke(lease)),
  };
}

/** The bench Worker's shard count (wrangler.toml SHARDS): where the ring puts namespaces. */
const benchShards = 4;

/** `count` namespaces the ring places on distinct shards. */
function namespacesOnShards(count: number): string[] {
  const byShard = new Map<number, string>();
  for (let i = 0; byShard.size < count; i++) {
    const namespace = `bench-txn-${i}`;
    const shard = shardIndexFor(namespace, benchShards);
    if (!byShard.has(shard)) byShard.set(shard, namespace);
  }
  return [...byShard.values()];
}

/**
 * Unconditional txns over the client's own keys (no conflicts between clients): two keys of one
 * namespace (the one-round single-shard txn), or one key on each of 2 or 4 shards.
 */
function txnClient(d: Driver, shards: number, client: number): Client {
  const txn = d.txn;
  if (txn === undefined) throw new Error("the txn scenarios run only against edgecfg");
  const namespaces = namespacesOnShards(shards);
  const keys =
    shards === 1
      ? [`${namespaces[0]}/c${client}a`, `${namespaces[0]}/c${client}b`]
      : namespaces.map((n) => `${n}/c${client}`);
  const body = () =>
    JSON.stringify({ success: keys.map((key) => ({ type: "put", key, value: value() })) });
  return { op: () => timed(() => txn(body()), expect(200)) };
}

const factories: Record<ScenarioName, Factory> = {
  health: async (d) => ({ op: () => timed(() => d.health(), expect(200)) }),
  read: async (d, k) => ({ op: () => timed(() => d.read(pick(k.readKeys), false), expect(200)) }),
  stale: async (d, k) => ({ op: () => timed(() => d.read(pick(k.readKeys), true), expect(200)) }),
  bundle: async (d, k) => {
    const etag = (await d.bundle(k.bundleNamespace, undefined)).version;
    return { op: () => timed(() => d.bundle(k.bundleNamespace, etag), expect(304)) };
  },
  flags304: async (d, k, client) => {
    const context = { targetingKey: `user-${client}` };
    const etag = (await d.ofrepBulk(k.bundleNamespace, undefined, context)).version;
    return { op: () => timed(() => d.ofrepBulk(k.bundleNamespace, etag, context), expect(304)) };
  },
  flagEval: async (d, k) => ({
    op: () => {
      const context = pick(evalContexts);
      return timed(() => d.ofrepEval(k.bundleNamespace, k.targetedFlag, context), expect(200));
    },
  }),
  cas: async (d, k, client) => ({ op: () => casOnce(d, `${k.casPrefix}${client}`) }),
  contention: async (d, k) => ({ op: () => casOnce(d, k.hotKey) }),
  apply1k: async (d, k, client) => applyClient(d, k, client),
  mix: async (d, k) => ({
    op: () =>
      Math.random() < 0.1
        ? timed(
            () => d.put(pick(k.readKeys), value()),
            (a) => (a.status === 200 || a.status === 201 ? "ok" : "error"),
          )
        : timed(() => d.read(pick(k.readKeys), false), expect(200)),
  }),
  put4k: async (d, _k, client) => put4k(d, plainNamespace, client),
  put4kSchema: async (d, _k, client) => put4k(d, schemaNamespace, client),
  lock: (d, k) => leaseClient(d, k, true),
  keepalive: (d, k) => leaseClient(d, k, false),
  txn1: async (d, _k, client) => txnClient(d, 1, client),
  txn2: async (d, _k, client) => txnClient(d, 2, client),
  txn4: async (d, _k, client) => txnClient(d, 4, client),
};

/** An unconditional PUT of a 4 KiB JSON value to the client's own key of `namespace`. */
function put4k(d: Driver, namespace: string, client: number): Client {
  const key = `${namespace}/c${client}`;
  return {
    op: () =>
      timed(
        () => d.put(key, value4k()),
        (a) => (a.status === 200 || a.status === 201 ? "ok" : "error"),
      ),
  };
}

export function makeClient(
  scenario: ScenarioName,
  driver: Driver,
  keys: BenchKeys,
  client: number,
): Promise<Client> {
  return factories[scenario](driver, keys, client);
}
