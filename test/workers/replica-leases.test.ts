// Lease expiry driven by the leader (src/replica/lease-expiry.ts): a timer only at the expiry,
// attached keys deleted when it fires, an extension by a new leader, and a shard with no live
// lease as idle as ever (no alarm, no request).
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ReplicaDO } from "../../src/replica/replica-do.ts";
import { encodeCommand, type Command, type Lease } from "../../src/store/index.ts";
import {
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
