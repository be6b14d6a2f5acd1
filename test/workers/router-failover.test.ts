// Compare-and-set counters through the RaftRouter while the leader is lost and comes back: every
// acknowledged increment is in the final value, none is applied twice, every replica converges.
import { describe, expect, it } from "vitest";
import { RaftRouter } from "../../src/router/raft-router.ts";
import { ShardUnavailableError } from "../../src/router/types.ts";
import type { Command, WriteOutcome } from "../../src/store/types.ts";
import type { ReplicaDO } from "../../src/replica/replica-do.ts";
import { freshGeneration, replicaEnv, sleep } from "./replica-harness.ts";

const text = new TextEncoder();
const untext = new TextDecoder();

function router(generation: string): RaftRouter {
  const env = { ...replicaEnv, SHARDS: "1", REPLICAS_PER_SHARD: "3" };
  return new RaftRouter(env, { clusterPrefix: `t${generation}-` });
}

/** Retries one command (same idempotency key) until its outcome is known. */
async function settle(r: RaftRouter, command: Command): Promise<WriteOutcome> {
  for (;;) {
    try {
      return (await r.write("ctr", command)).outcome;
    } catch (error) {
      if (!(error instanceof ShardUnavailableError)) throw error;
      await sleep(50);
    }
  }
}

async function readCounter(
  r: RaftRouter,
): Promise<{ value: number; modRevision: number | undefined }> {
  for (;;) {
    try {
      const got = await r.read(
        "ctr",
        { type: "get", key: "ctr/n" },
        { consistency: "linearizable" },
      );
      if (got.result.type !== "found") return { value: 0, modRevision: undefined };
      return {
        value: Number(untext.decode(got.result.value)),
        modRevision: got.result.entry.modRevision,
      };
    } catch (error) {
      if (!(error instanceof ShardUnavailableError)) throw error;
      await sleep(50);
    }
  }
}

describe("CAS through a leader failover", { timeout: 60_000 }, () => {
  it("keeps every acknowledged increment exactly once", async () => {
    const r = router(String(freshGeneration()));
    // Phases advance on progress, not on timers: the writers keep the test isolate busy.
    const leaderDownAt = 20;
    const leaderBackAt = 40;
    const stopAt = 60;
    let acked = 0;
    let leaderStub: DurableObjectStub<ReplicaDO> | null = null;
    let replicaIds: string[] = [];
    let lostAt = 0;
    const onAck = async () => {
      acked++;
      if (acked === leaderDownAt) {
        const cluster = await r.cluster();
        replicaIds = cluster.shards[0]!.replicas.map((x) => x.id);
        const leader = cluster.shards[0]!.replicas.find((x) => x.role === "leader")!;
        leaderStub = replicaEnv.REPLICA.get(replicaEnv.REPLICA.idFromName(leader.id));
        await leaderStub.setFaults({ stopped: true });
        lostAt = Date.now();
      }
      if (acked === leaderDownAt + 1)
        console.log(`first increment after the leader was lost: ${Date.now() - lostAt} ms`);
      if (acked === leaderBackAt) await leaderStub!.setFaults({ stopped: false });
    };
    const writer = async (w: number) => {
      for (let i = 0; acked < stopAt; i++) {
        const { value, modRevision } = await readCounter(r);
        const put: Command = {
          type: "put",
          atMs: Date.now(),
          key: "ctr/n",
          value: text.encode(String(value + 1)),
          contentType: "text/plain",
          idempotencyKey: `w${w}-${i}`,
          ...(modRevision === undefined ? { ifNoneMatch: "*" as const } : { ifMatch: modRevision }),
        };
        const outcome = await settle(r, put);
        if (outcome.type === "ok") await onAck();
        else expect(outcome.type).toBe("preconditionFailed");
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));

    const final = await readCounter(r);
    console.log(`CAS increments acknowledged: ${acked}; final value ${final.value}`);
    expect(final.value).toBe(acked);
    for (const id of replicaIds) {
      const stub = replicaEnv.REPLICA.get(replicaEnv.REPLICA.idFromName(id));
      let status = await stub.status();
      for (let t = 0; t < 100 && status!.revision < final.modRevision!; t++) {
        await sleep(50);
        status = await stub.status();
      }
      expect(status!.revision).toBe(final.modRevision);
      await stub.setFaults({ stopped: true });
    }
  });
});
