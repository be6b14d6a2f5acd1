// Helpers of the replica tests: a fresh Raft group of ReplicaDOs per test (ids never repeat, so
// state and alarms of earlier tests never interfere), commands, and polling with a deadline.
import { env } from "cloudflare:test";
import { replicaName, type GroupSpec } from "../../src/replica/group.ts";
import type { ReplicaAddress } from "../../src/replica/rpc.ts";
import type { ReplicaDO, ReplicaEnv } from "../../src/replica/replica-do.ts";
import { encodeCommand } from "../../src/store/index.ts";
import type { Command } from "../../src/store/types.ts";

export const replicaEnv = env as unknown as ReplicaEnv;

let groups = 0;

export interface TestGroup {
  group: GroupSpec;
  addrs: ReplicaAddress[];
  stubs: DurableObjectStub<ReplicaDO>[];
  stubOf(id: string): DurableObjectStub<ReplicaDO>;
  /** Stops every member, so that no alarm of this test keeps firing in later tests. */
  stopAll(): Promise<void>;
}

/** A random generation: test files run side by side in one namespace and must never share ids. */
export function freshGeneration(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]! + 1;
}

/** A group no other test uses (a random generation, so no replica id is ever shared). */
export function freshGroup(size = 3, locations: string[] = []): TestGroup {
  const shard = 1000 + groups++;
  const generation = freshGeneration();
  const members = Array.from({ length: size }, (_, i) => ({
    id: replicaName(`s${shard}-r${i}`, generation),
    location: locations[i] ?? "",
  }));
  const group: GroupSpec = { shard, members };
  const stubs = members.map((m) => replicaEnv.REPLICA.get(replicaEnv.REPLICA.idFromName(m.id)));
  const addrs = members.map((m) => ({ self: m.id, group }));
  return {
    group,
    addrs,
    stubs,
    stubOf: (id) => stubs[members.findIndex((m) => m.id === id)]!,
    stopAll: async () => {
      await Promise.all(stubs.map((s) => s.setFaults({ stopped: true })));
    },
  };
}

/** Creates every member of `g` and wakes it (the router's first contact does the same). */
export async function ensureAll(g: TestGroup): Promise<void> {
  await Promise.all(g.stubs.map((s, i) => s.ensure(g.addrs[i]!)));
}

/** The members of a 3-replica group other than `except`. */
export const others = (except: number): number[] => [0, 1, 2].filter((i) => i !== except);

/** A put command as a router takes it (putCommand below is the encoded form a replica takes). */
export const putOf = (key: string, value: string, extra: Partial<Command> = {}): Command =>
  ({
    type: "put",
    atMs: Date.now(),
    key,
    value: new TextEncoder().encode(value),
    contentType: "text/plain",
    ...extra,
  }) as Command;

export function putCommand(key: string, value: string, extra: Partial<Command> = {}): Uint8Array {
  return encodeCommand(putOf(key, value, extra));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 5_000,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(everyMs);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `; last error: ${String(lastError)}` : ""}`,
  );
}

/** The index of the member every live replica agrees leads, once there is one. */
export async function leaderOf(
  g: TestGroup,
  among: number[] = g.stubs.map((_, i) => i),
  timeoutMs = 5_000,
): Promise<number> {
  return eventually(
    "a leader",
    async () => {
      for (const i of among) {
        const s = await g.stubs[i]!.status();
        if (s?.role === "leader") return i;
      }
      return undefined;
    },
    timeoutMs,
  );
}

/**
 * Proposes on whoever leads among `among`, as the router would: follow notLeader answers, skip
 * replicas that fail, retry an unknown outcome (give the command an idempotency key for that).
 */
export async function write(
  g: TestGroup,
  command: Uint8Array,
  timeoutMs = 5_000,
  among: number[] = g.stubs.map((_, i) => i),
) {
  return eventually(
    "an applied write",
    async () => {
      for (const i of among) {
        const answer = await g.stubs[i]!.propose(g.addrs[i]!, command).catch(() => null);
        if (answer?.type === "applied") return answer.outcome;
      }
      return undefined;
    },
    timeoutMs,
  );
}

/** Waits until every replica in `among` has applied `revision`. */
export async function appliedEverywhere(
  g: TestGroup,
  revision: number,
  among: number[] = g.stubs.map((_, i) => i),
  timeoutMs = 5_000,
) {
  await eventually(
    `revision ${revision} applied on replicas ${among.join(", ")}`,
    async () => {
      const statuses = await Promise.all(among.map((i) => g.stubs[i]!.status()));
      return statuses.every((s) => (s?.revision ?? 0) >= revision) ? true : undefined;
    },
    timeoutMs,
  );
}

/** Reads a key's value as text from one replica. */
export async function readText(
  g: TestGroup,
  i: number,
  key: string,
  consistency: "linearizable" | "stale" = "linearizable",
): Promise<string | null> {
  const answer = await g.stubs[i]!.read(g.addrs[i]!, { type: "get", key }, { consistency });
  if (answer.type !== "ok") throw new Error(`read of ${key} on replica ${i}: ${answer.type}`);
  const result = answer.result as { type: string; value?: Uint8Array };
  return result.type === "found" && result.value ? new TextDecoder().decode(result.value) : null;
}
