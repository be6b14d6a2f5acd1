// Compare-and-set counters through the RaftRouter while the leader is lost and comes back: every
// acknowledged increment is in the final value, none is applied twice, every replica converges.
import { describe, expect, it } from "vitest";
import { RaftRouter } from "../../src/router/raft-router.ts";
import { UnavailableError } from "../../src/router/types.ts";
import type { Command, WriteOutcome } from "../../src/store/types.ts";
import { freshGeneration, replicaEnv, sleep } from "./replica-harness.ts";

const text = new TextEncoder();
const untext = new TextDecoder();

function router(generation: string): RaftRouter {
  return new RaftRouter({ ...replicaEnv, SHARDS: "1", SHARD_COUNT: "1", REPLICAS_PER_SHARD: "3", RAFT_GENERATION: generation });
}

/** Retries one command (same idempotency key) until its outcome is known. */
async function settle(r: RaftRouter, command: Command): Promise<WriteOutcome> {
  for (;;) {
    try {
      return (await r.write("ctr", command)).outcome;
    } catch (error) {
      if (!(error instanceof UnavailableError)) throw error;
      await sleep(50);
    }
  }
}

async function readCounter(r: RaftRouter): Promise<{ value: number; modRevision: number | undefined }> {
  for (;;) {
    try {
      const got = await r.read("ctr", { type: "get", key: "ctr/n" }, { consistency: "linearizable" });
      if (got.result.type !== "found") return { value: 0, modRevision: undefined };
      return { value: Number(untext.decode(got.result.value)), modRevision: got.result.entry.modRevision };
    } catch (error) {
      if (!(error instanceof UnavailableError)) throw error;
      await sleep(50);
    }
  }
}

describe("CAS through a leader failover", { timeout: 60_000 }, () => {
  it("keeps every acknowledged increment exactly once", async () => {
    const generation = String(freshGeneration());
    const r = router(generation);
    let acked = 0;
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const { value, modRevision } = await readCounter(r);
        const put: Command = {
          type: "put", atMs: Date.now(), key: "ctr/n", value: text.encode(String(value + 1)), contentType: "text/plain",
          idempotencyKey: `w${w}-${i}`, ...(modRevision === undefined ? { ifNoneMatch: "*" as const } : { ifMatch: modRevision }),
        };
        const outcome = await settle(r, put);
        if (outcome.type === "ok") acked++;
        else expect(outcome.type).toBe("preconditionFailed");
      }
    };
    const writers = Array.from({ length: 8 }, (_, w) => writer(w));

    await sleep(1_000);
    const cluster = await r.cluster();
    const leader = cluster.shards[0]!.replicas.find((x) => x.role === "leader")!;
    const leaderStub = replicaEnv.REPLICA.get(replicaEnv.REPLICA.idFromName(leader.id));
    const before = acked;
    await leaderStub.setFaults({ stopped: true });
    await sleep(2_500);
    const during = acked - before;
    await leaderStub.setFaults({ stopped: false });
    await sleep(1_000);
    stop = true;
    await Promise.all(writers);

    const final = await readCounter(r);
    console.log(`CAS increments acknowledged: ${acked} (${during} while the old leader was down); final value ${final.value}`);
    expect(during).toBeGreaterThan(0); // a new leader took over
    expect(final.value).toBe(acked);
    const ids = cluster.shards[0]!.replicas.map((x) => x.id);
    for (const id of ids) {
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
