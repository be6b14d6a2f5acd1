// Lease expiry driven by the leader (src/replica/lease-expiry.ts): a timer only at the expiry,
// attached keys deleted when it fires, an extension by a new leader, a crashed holder's lock
// handed on in time (with and without a leader change), and a shard with no live lease as idle
// as ever (no alarm, no request).
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ReplicaDO } from "../../src/replica/replica-do.ts";
import { replicaDefaults } from "../../src/replica/config.ts";
import { encodeCommand, type Command, type Lease, type LockState } from "../../src/store/index.ts";
import {
  appliedEverywhere,
  ensureAll,
  eventually,
  freshGroup,
  leaderOf,
  others,
  putCommand,
  readText,
  sleep,
  write,
  type TestGroup,
} from "./replica-harness.ts";

type Without<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
const command = (c: Without<Command, "atMs">) =>
  encodeCommand({ atMs: Date.now(), ...c } as Command);

async function grant(g: TestGroup, ttlMs: number, among?: number[]): Promise<Lease> {
  const outcome = await write(
    g,
    command({ type: "leaseGrant", namespace: "ns", ttlMs }),
    5_000,
    among,
  );
  if (outcome.type !== "lease") throw new Error(`grant: ${outcome.type}`);
  return outcome.lease;
}

async function alarms(g: TestGroup): Promise<(number | null)[]> {
  return Promise.all(
    g.stubs.map((stub) =>
      runInDurableObject(stub, (_: ReplicaDO, state) => state.storage.getAlarm()),
    ),
  );
}

async function requests(g: TestGroup): Promise<number> {
  const stats = await Promise.all(g.stubs.map((s) => s.stats()));
  return stats.reduce((n, s) => n + s.rpcsSent + s.rpcsReceived, 0);
}

/** Until only the alarms in `expected` remain (null: none), whatever else was armed before. */
async function alarmsBecome(g: TestGroup, expected: (a: (number | null)[]) => boolean) {
  await eventually(
    "the alarms to settle",
    async () => (expected(await alarms(g)) ? true : undefined),
    10_000,
    50,
  );
}

const electionTimeoutMs = replicaDefaults.electionTimeoutTicks * replicaDefaults.tickMs;
/** What a new leader adds to every lease (src/replica/member.ts: twice the election timeout). */
const extensionMs = 2 * electionTimeoutMs;

async function acquire(g: TestGroup, lease: string, wait: boolean, among?: number[]) {
  const c = command({ type: "lockAcquire", lock: "ns/job", lease, wait });
  const outcome = await write(g, c, 5_000, among);
  if (outcome.type !== "lock") throw new Error(`acquire: ${outcome.type}`);
  return outcome;
}

/** The lock once `lease` holds it, as replica `at` answers a linearizable read. */
async function heldBy(g: TestGroup, at: number, lease: string): Promise<LockState> {
  return eventually(
    `the lock handed to ${lease}`,
    async () => {
      const read = await g.stubs[at]!.read(
        g.addrs[at]!,
        { type: "lock", lock: "ns/job" },
        { consistency: "linearizable" },
      );
      const lock = read.type === "ok" ? (read.result as { lock: LockState }).lock : null;
      return lock?.holder?.lease === lease ? lock : undefined;
    },
    20_000,
    50,
  );
}

describe("a crashed holder's lock", { timeout: 40_000 }, () => {
  it("is handed to the next waiter within TTL + election timeout of its last keep-alive", async () => {
    const g = freshGroup(3);
    await ensureAll(g);
    const [crashed, next] = [await grant(g, 2_000), await grant(g, 60_000)];
    expect((await acquire(g, crashed.id, false)).held).toBe(true);
    expect((await acquire(g, next.id, true)).held).toBe(false);
    // The holder crashes: no keep-alive after the grant. The leader's clock decides, and the
    // hand-over is stamped with it (the new holder's acquiredAtMs).
    const lock = await heldBy(g, await leaderOf(g), next.id);
    expect(lock.holder!.acquiredAtMs).toBeGreaterThanOrEqual(crashed.expiresAtMs);
    expect(lock.holder!.acquiredAtMs).toBeLessThanOrEqual(crashed.expiresAtMs + electionTimeoutMs);
    await g.stopAll();
  });

  it("is handed on across a leader change, by the new leader within TTL + its extension", async () => {
    const g = freshGroup(3);
    await ensureAll(g);
    const [crashed, next] = [await grant(g, 2_000), await grant(g, 60_000)];
    expect((await acquire(g, crashed.id, false)).held).toBe(true);
    expect((await acquire(g, next.id, true)).held).toBe(false);
    const old = await leaderOf(g);
    await g.stubs[old]!.setFaults({ stopped: true }); // the holder and the leader crash together
    expect((await write(g, putCommand("ns/other", "1"), 10_000, others(old))).type).toBe("ok");
    const electedBy = Date.now();
    const lock = await heldBy(g, await leaderOf(g, others(old)), next.id);
    // Never early (the new leader gave every lease a full TTL and more), and not much later:
    // the election, a full TTL and the extension bound it.
    expect(lock.holder!.acquiredAtMs).toBeGreaterThanOrEqual(crashed.expiresAtMs);
    expect(lock.holder!.acquiredAtMs).toBeLessThanOrEqual(
      electedBy + crashed.ttlMs + extensionMs + electionTimeoutMs,
    );
    await g.stopAll();
  });
});

async function keepAlive(g: TestGroup, at: number, id: string): Promise<Lease> {
  const answer = await g.stubs[at]!.keepAlive(g.addrs[at]!, id, Date.now());
  if (answer.type !== "applied" || answer.outcome.type !== "lease")
    throw new Error(`keepAlive: ${JSON.stringify(answer)}`);
  return answer.outcome.lease;
}

describe("keep-alives, renewed in the leader's memory", { timeout: 40_000 }, () => {
  it("one request to the leader each: no log entry anywhere, and reads show the renewal", async () => {
    const g = freshGroup(3);
    await ensureAll(g);
    const lease = await grant(g, 2_000);
    const leader = await leaderOf(g);
    const granted = await g.stubs[leader]!.read(
      g.addrs[leader]!,
      { type: "lease", id: lease.id },
      { consistency: "linearizable" },
    );
    if (granted.type !== "ok") throw new Error(`read: ${granted.type}`);
    await appliedEverywhere(g, granted.appliedRevision);
    const before = await Promise.all(g.stubs.map((s) => s.stats()));
    let renewed = lease;
    for (let i = 0; i < 5; i++) {
      const askedAt = Date.now();
      renewed = await keepAlive(g, leader, lease.id);
      expect(renewed.expiresAtMs).toBeGreaterThanOrEqual(askedAt + lease.ttlMs);
    }
    const after = await Promise.all(g.stubs.map((s) => s.stats()));
    expect(after[leader]!.clientRequests - before[leader]!.clientRequests).toBe(5);
    expect(after.map((s, i) => s.proposals - before[i]!.proposals)).toEqual([0, 0, 0]);
    expect(after.map((s, i) => s.entriesApplied - before[i]!.entriesApplied)).toEqual([0, 0, 0]);
    const read = await g.stubs[leader]!.read(
      g.addrs[leader]!,
      { type: "lease", id: lease.id },
      { consistency: "linearizable" },
    );
    expect(read.type === "ok" && (read.result as { lease: Lease }).lease).toEqual(renewed);
    await g.stopAll();
  });

  it("a keep-alive of a lease whose namespace is fenced for a reshard answers moved, from memory or not", async () => {
    const g = freshGroup(3);
    await ensureAll(g);
    const lease = await grant(g, 2_000);
    const fenced = await write(
      g,
      command({ type: "namespaceFence", namespace: "ns", epoch: 2, shard: 1 }),
      5_000,
    );
    expect(fenced).toMatchObject({ type: "namespaceMove", step: "fenced" });
    const leader = await leaderOf(g);
    const before = await g.stubs[leader]!.stats();
    const answer = await g.stubs[leader]!.keepAlive(g.addrs[leader]!, lease.id, Date.now());
    expect(answer).toMatchObject({
      type: "applied",
      outcome: { type: "moved", namespace: "ns", shard: 1 },
    });
    // A write of the namespace is answered on the leader too, without a log entry.
    const put = await g.stubs[leader]!.propose(g.addrs[leader]!, putCommand("ns/k", "1"));
    expect(put).toMatchObject({ type: "applied", outcome: { type: "moved" } });
    expect((await g.stubs[leader]!.stats()).proposals - before.proposals).toBe(0);
    await g.stopAll();
  });

  it("a lease renewed past its TTL lives on, then ends at its last renewal", async () => {
    const g = freshGroup(3);
    await ensureAll(g);
    const [kept, next] = [await grant(g, 2_000), await grant(g, 60_000)];
    expect((await acquire(g, kept.id, false)).held).toBe(true);
    expect((await acquire(g, next.id, true)).held).toBe(false);
    const leader = await leaderOf(g);
    let last = kept;
    // 3 s of keep-alives every 0.5 s: the group quiesces between some (then a ReadIndex round).
    while (Date.now() < kept.expiresAtMs + 1_000) {
      await sleep(500);
      last = await keepAlive(g, leader, kept.id);
    }
    const lock = await heldBy(g, leader, next.id);
    expect(lock.holder!.acquiredAtMs).toBeGreaterThanOrEqual(last.expiresAtMs);
    expect(lock.holder!.acquiredAtMs).toBeLessThanOrEqual(last.expiresAtMs + electionTimeoutMs);
    await g.stopAll();
  });
});

describe("leases on the replicas", { timeout: 30_000 }, () => {
  it("the leader sleeps until the expiry, then deletes the attached key; then no alarm", async () => {
    const g = freshGroup(3);
    await ensureAll(g);
    const lease = await grant(g, 5_000);
    expect((await write(g, putCommand("ns/svc", "up", { lease: lease.id }))).type).toBe("ok");
    const leader = await leaderOf(g);
    // Asleep but for the leader's one alarm, at the expiry.
    await alarmsBecome(g, (a) => a.every((x, i) => (i === leader ? x !== null : x === null)));
    expect((await alarms(g))[leader]).toBe(lease.expiresAtMs);
    // No request while asleep: watched for 500 ms, or less when a busy machine got this far
    // late, but always ending 300 ms before the expiry (where the leader wakes, rightly).
    const before = await requests(g);
    const quietMs = Math.min(500, lease.expiresAtMs - 300 - Date.now());
    expect(quietMs).toBeGreaterThan(100);
    await sleep(quietMs);
    expect(await requests(g)).toBe(before);
    await eventually(
      "the key deleted at expiry",
      async () => ((await readText(g, leader, "ns/svc")) === null ? true : undefined),
      10_000,
      100,
    );
    expect(Date.now()).toBeGreaterThanOrEqual(lease.expiresAtMs);
    await alarmsBecome(g, (a) => a.every((x) => x === null));
    await g.stopAll();
  });

  it("a new leader extends the leases, then expires them on its own", async () => {
    const g = freshGroup(3);
    await ensureAll(g);
    const lease = await grant(g, 2_000);
    expect((await write(g, putCommand("ns/svc", "up", { lease: lease.id }))).type).toBe("ok");
    const old = await leaderOf(g);
    await g.stubs[old]!.setFaults({ stopped: true });
    const electedAt = Date.now();
    // A write to the others elects a new leader (the first thing it proposes is the extension).
    expect((await write(g, putCommand("ns/other", "1"), 10_000, others(old))).type).toBe("ok");
    const next = await leaderOf(g, others(old));
    const extended = await eventually("the extension", async () => {
      const read = await g.stubs[next]!.read(
        g.addrs[next]!,
        { type: "lease", id: lease.id },
        {
          consistency: "linearizable",
        },
      );
      const l = read.type === "ok" ? (read.result as { lease: Lease | null }).lease : null;
      return l !== null && l.expiresAtMs > lease.expiresAtMs ? l : undefined;
    });
    expect(extended.expiresAtMs).toBeGreaterThanOrEqual(electedAt + 2_000);
    await eventually(
      "the key deleted by the new leader",
      async () => ((await readText(g, next, "ns/svc")) === null ? true : undefined),
      15_000,
      100,
    );
    expect(Date.now()).toBeGreaterThanOrEqual(extended.expiresAtMs);
    await g.stopAll();
  });

  it("a shard whose leases all ended is idle again: no alarm, no request", async () => {
    const g = freshGroup(3);
    await ensureAll(g);
    const lease = await grant(g, 60_000);
    expect((await write(g, command({ type: "leaseRevoke", id: lease.id }))).type).toBe(
      "leaseEnded",
    );
    await alarmsBecome(g, (a) => a.every((x) => x === null));
    const before = await requests(g);
    await sleep(1_000); // 20 ticks of 50 ms
    expect(await requests(g)).toBe(before);
    expect(await alarms(g)).toEqual([null, null, null]);
    await g.stopAll();
  });
});
