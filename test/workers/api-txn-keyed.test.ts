// Idempotency-Key on POST /v1/txn across shards (src/store/txn-keyed.ts, src/router/txn-keyed.ts):
// a retry, however late, is answered the first outcome and applies nothing; one that meets the
// first attempt in flight waits for it; another request under the same key is refused.
import { describe, expect, it } from "vitest";
import { crossShardTxn } from "../../src/api/routes/txn-cross.ts";
import { RaftRouter, type RaftRouterEnv } from "../../src/router/raft-router.ts";
import { txnCoordinatorLimits } from "../../src/router/txn-coordinator.ts";
import { txnForgetLimits } from "../../src/router/txn-forgets.ts";
import { ShardUnavailableError, type Router } from "../../src/router/types.ts";
import type { TxnCommand } from "../../src/store/index.ts";
import { call, freshNs, namespacePair, problemOf, workerEnv } from "./api/helpers.ts";

const apart = () => namespacePair(["ka", "kb"]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const encoder = new TextEncoder();

function txn(body: unknown, headers: Record<string, string> = {}) {
  return call("/v1/txn", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

async function historyLength(key: string): Promise<number> {
  const res = await call(`/v1/kv/${key}/history`);
  return ((await res.json()) as { items: unknown[] }).items.length;
}

/** A router whose coordinator vanishes once its prepares are sent: nothing after them lands. */
function vanishingAfterPrepares(router: Router): Router {
  // The coordinator uses only these two (a Proxy cannot reach the router's private fields).
  const used: Pick<Router, "shardOf" | "write"> = {
    shardOf: (namespace) => router.shardOf(namespace),
    write: (namespace, command) =>
      command.type === "txnPrepare"
        ? router.write(namespace, command)
        : Promise.reject(new Error("the coordinator's isolate is gone")),
  };
  return used as Router;
}

describe("Idempotency-Key across shards", () => {
  it("a retry past the deadline, its tombstones gone, is answered the first outcome and applies nothing", async () => {
    const [a, b] = apart();
    await call(`/v1/kv/${b}/seen`, { method: "PUT", body: '"before"' });
    const body = {
      success: [
        { type: "put", key: `${a}/n`, value: 1 },
        { type: "put", key: `${b}/n`, value: 1 },
        { type: "get", key: `${b}/seen` },
      ],
    };
    const key = `late-${freshNs()}`;
    const first = await txn(body, { "Idempotency-Key": key });
    expect(first.status).toBe(200);
    const firstBody = await first.json();
    await call(`/v1/kv/${b}/seen`, { method: "PUT", body: '"after"' });
    // Past the deadline and the forgets: every tombstone of the first attempt may go.
    await sleep(txnCoordinatorLimits.deadlineMs + 4 * txnForgetLimits.flushMs);
    const again = await txn(body, { "Idempotency-Key": key });
    expect(again.status).toBe(200);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await again.json()).toEqual(firstBody);
    expect([await historyLength(`${a}/n`), await historyLength(`${b}/n`)]).toEqual([1, 1]);
  });

  it("another request under the same key is refused with 422 and writes nothing", async () => {
    const [a, b] = apart();
    const key = `reused-${freshNs()}`;
    const put = (v: number) => ({
      success: [
        { type: "put", key: `${a}/n`, value: v },
        { type: "put", key: `${b}/n`, value: v },
      ],
    });
    expect((await txn(put(1), { "Idempotency-Key": key })).status).toBe(200);
    const other = await txn(put(2), { "Idempotency-Key": key });
    expect(other.status).toBe(422);
    expect((await problemOf(other)).detail).toContain("already used for a different request");
    expect(await (await call(`/v1/kv/${b}/n`)).text()).toBe("1");
  });

  it("a retry meets the first attempt in flight (409), and once recovery committed it, is answered that commit", async () => {
    const [a, b] = apart();
    const router = new RaftRouter(workerEnv as unknown as RaftRouterEnv);
    const cmd = keyedPuts(a, b, `admin/flight-${freshNs()}`);
    await expect(crossShardTxn(vanishingAfterPrepares(router), cmd)).rejects.toThrow(/gone/);
    const inFlight = await crossShardTxn(router, cmd).catch((e: unknown) => e);
    expect(inFlight).toMatchObject({ init: { status: 409 } });
    await sleep(txnCoordinatorLimits.deadlineMs + 100);
    // This retry meets the intent past the deadline: recovery commits the first attempt (every
    // part was prepared) and keeps its answer; the one after is answered it.
    await crossShardTxn(router, cmd).catch(() => undefined);
    const replayed = await crossShardTxn(router, cmd);
    expect(replayed).toMatchObject({ replayed: true, succeeded: true });
    expect(replayed.results.map((r) => r.type)).toEqual(["put", "put"]);
    expect([await historyLength(`${a}/k`), await historyLength(`${b}/k`)]).toEqual([1, 1]);
  });

  it("an outcome the coordinator cannot tell is a 503 to retry with the same key, and that retry tells it", async () => {
    const [a, b] = apart();
    const router = new RaftRouter(workerEnv as unknown as RaftRouterEnv);
    const cmd = keyedPuts(a, b, `admin/unsure-${freshNs()}`);
    // The settle applies (the txn commits) but its answer is not one the coordinator can read.
    const unsure: Pick<Router, "shardOf" | "write"> = {
      shardOf: (namespace) => router.shardOf(namespace),
      write: async (namespace, command) => {
        const w = await router.write(namespace, command);
        if (command.type !== "txnRecordSettle") return w;
        return { ...w, outcome: { type: "notFound", revision: w.outcome.revision } };
      },
    };
    const unknown = await crossShardTxn(unsure as Router, cmd).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(ShardUnavailableError);
    expect(unknown).toMatchObject({ retryAfterMs: txnCoordinatorLimits.deadlineMs });
    expect((unknown as Error).message).toContain("retry with the same Idempotency-Key");
    const told = await crossShardTxn(router, cmd);
    expect(told).toMatchObject({ replayed: true, succeeded: true });
    expect([await historyLength(`${a}/k`), await historyLength(`${b}/k`)]).toEqual([1, 1]);
  });
});

function keyedPuts(a: string, b: string, idempotencyKey: string): TxnCommand {
  const value = encoder.encode('"once"');
  const contentType = "application/json";
  return {
    type: "txn",
    atMs: Date.now(),
    compare: [],
    success: [
      { type: "put", key: `${a}/k`, value, contentType },
      { type: "put", key: `${b}/k`, value, contentType },
    ],
    failure: [],
    idempotencyKey,
  };
}
