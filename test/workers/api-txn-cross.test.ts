// POST /v1/txn across namespaces on different shards (parallel commits, src/router/
// txn-coordinator.ts), and what a coordinator that vanishes after its prepares leaves behind.
import { describe, expect, it } from "vitest";
import { RaftRouter, type RaftRouterEnv } from "../../src/router/raft-router.ts";
import { txnForgetLimits } from "../../src/router/txn-forgets.ts";
import { shardIndexFor } from "../../src/ring/index.ts";
import {
  call,
  freshNs,
  namespacePair,
  problemOf,
  put,
  workerEnv,
  workerShards,
} from "./api/helpers.ts";

const shards = workerShards;
const apart = () => namespacePair(["xa", "xb"]);
const together = () => namespacePair(["ta", "tb"], true);

function txn(body: unknown, headers: Record<string, string> = {}) {
  return call("/v1/txn", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

type CrossBody = {
  succeeded: boolean;
  revisions: Record<string, number>;
  results: Array<Record<string, unknown>>;
};

const encoder = new TextEncoder();

/**
 * A coordinator that prepares `keys` (a put of "never" each, the first key's namespace keeping
 * the record) of a txn over the namespaces of `keys` and `others`, and then vanishes.
 */
async function abandonedPrepare(
  keys: string[],
  others: string[],
  deadlineInMs: number,
  txnId = `abandoned-${freshNs()}`,
) {
  const router = new RaftRouter(workerEnv as unknown as RaftRouterEnv);
  const namespaceOf = (key: string) => key.slice(0, key.indexOf("/"));
  const participants = [...keys.map(namespaceOf), ...others];
  const deadlineMs = Date.now() + deadlineInMs;
  for (const key of keys) {
    const w = await router.write(namespaceOf(key), {
      type: "txnPrepare",
      atMs: Date.now(),
      txnId,
      compare: [],
      success: [
        { type: "put", key, value: encoder.encode('"never"'), contentType: "application/json" },
      ],
      failure: [],
      recordNamespace: participants[0]!,
      participants,
      deadlineMs,
      staging: true,
    });
    expect(w.outcome.type).toBe("txnPrepared");
  }
}

/** The applied index of the leader of each namespace's shard. */
async function leaderIndexes(namespaces: string[]): Promise<number[]> {
  const cluster = (await (await call("/v1/cluster")).json()) as {
    shards: { shard: number; replicas: { role: string; appliedIndex: number }[] }[];
  };
  return namespaces.map((n) => {
    const shard = cluster.shards.find((s) => s.shard === shardIndexFor(n, shards))!;
    return Math.max(...shard.replicas.map((r) => r.appliedIndex));
  });
}

describe("POST /v1/txn across shards", () => {
  it("commits every namespace's writes, answers their revisions and a token each namespace's reads accept", async () => {
    const [a, b] = apart();
    await put(`${a}/x`, 1);
    const res = await txn({
      compare: [
        { key: `${a}/x`, target: "exists", op: "=", value: true },
        { key: `${b}/y`, target: "exists", op: "=", value: false },
      ],
      success: [
        { type: "put", key: `${a}/x`, value: 2 },
        { type: "put", key: `${b}/y`, value: "why", contentType: "text/plain" },
        { type: "get", key: `${b}/y` },
      ],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as CrossBody;
    expect(body.succeeded).toBe(true);
    expect(Object.keys(body.revisions).sort()).toEqual([a, b].sort());
    expect(body.results.map((r) => r.type)).toEqual(["put", "put", "get"]);
    expect(body.results[2]!.value).toMatchObject({ contentType: "text/plain" });
    const token = res.headers.get("X-Edgecfg-Revision")!;
    expect(token).toMatch(/^s\d+\.\d+,s\d+\.\d+$/);
    for (const [key, value] of [
      [`${a}/x`, "2"],
      [`${b}/y`, "why"],
    ] as const) {
      const read = await call(`/v1/kv/${key}?consistency=stale`, {
        headers: { "X-Edgecfg-Min-Revision": token },
      });
      expect([read.status, await read.text()]).toEqual([200, value]);
    }
  });

  it("namespaces on one shard take the one-round path: one revision, one audited shardTxn", async () => {
    const [a, b] = together();
    const res = await txn({
      success: [
        { type: "put", key: `${a}/x`, value: 1 },
        { type: "put", key: `${b}/y`, value: 2 },
      ],
    });
    const body = (await res.json()) as CrossBody;
    expect(res.status).toBe(200);
    expect(res.headers.get("X-Edgecfg-Revision")).toMatch(/^s\d+\.\d+$/);
    expect(body.revisions[a]).toBe(body.revisions[b]);
    const audit = (await (await call(`/v1/audit?namespace=${b}`)).json()) as {
      items: { op: string; revision: number }[];
    };
    expect(audit.items[0]).toMatchObject({ op: "shardTxn", revision: body.revisions[b] });
  });

  it("a compare that fails on one shard runs the failure branch on every shard", async () => {
    const [a, b] = apart();
    await put(`${a}/x`, 1);
    const res = await txn({
      compare: [{ key: `${b}/y`, target: "exists", op: "=", value: true }],
      success: [{ type: "put", key: `${a}/x`, value: 99 }],
      failure: [
        { type: "put", key: `${b}/y`, value: 0 },
        { type: "get", key: `${a}/x` },
      ],
    });
    const body = (await res.json()) as CrossBody;
    expect([res.status, body.succeeded, body.results[1]!.value]).toEqual([200, false, 1]);
    expect(await (await call(`/v1/kv/${b}/y`)).text()).toBe("0");
  });

  it("a retry with the same Idempotency-Key answers the first outcome and writes nothing twice", async () => {
    const [a, b] = apart();
    const body = {
      success: [
        { type: "put", key: `${a}/n`, value: 1 },
        { type: "put", key: `${b}/n`, value: 1 },
      ],
    };
    const first = await txn(body, { "Idempotency-Key": "cross-1" });
    const again = await txn(body, { "Idempotency-Key": "cross-1" });
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(((await again.json()) as CrossBody).revisions).toEqual(
      ((await first.json()) as CrossBody).revisions,
    );
    const history = (await (await call(`/v1/kv/${a}/n/history`)).json()) as { items: unknown[] };
    expect(history.items).toHaveLength(1);
  });

  it("a key held by a txn answers 409 with Retry-After while it may still commit", async () => {
    const [a, b] = apart();
    await abandonedPrepare([`${a}/held`], [b], 60_000);
    const res = await put(`${a}/held`, "mine");
    expect(res.status).toBe(409);
    expect(res.headers.get("Retry-After")).toBe("1");
    expect((await problemOf(res)).detail).toContain("held by transaction");
  });

  it("a coordinator that vanishes after its prepares blocks nothing past the deadline: the next write or read resolves it", async () => {
    const [a, b] = apart();
    await put(`${a}/k`, "before");
    await put(`${a}/r`, "before");
    await abandonedPrepare([`${a}/k`], [b], 200);
    await abandonedPrepare([`${a}/r`], [b], 200);
    const written = await put(`${a}/k`, "after");
    expect(written.status).toBe(200);
    expect(await (await call(`/v1/kv/${a}/k`)).text()).toBe("after");
    const read = await call(`/v1/kv/${a}/r`);
    expect([read.status, await read.text()]).toEqual([200, "before"]);
  });

  it("a 2-shard commit costs 4 Raft entries: its forgets ride on the next prepares to the same shards", async () => {
    const [a, b] = apart();
    const body = (i: number) => ({
      success: [
        { type: "put", key: `${a}/n`, value: i },
        { type: "put", key: `${b}/n`, value: i },
      ],
    });
    expect((await txn(body(0))).status).toBe(200);
    const before = await leaderIndexes([a, b]);
    for (let i = 1; i <= 10; i++) expect((await txn(body(i))).status).toBe(200);
    // Past the flush: what no prepare carried went alone.
    await new Promise((r) => setTimeout(r, 3 * txnForgetLimits.flushMs));
    const after = await leaderIndexes([a, b]);
    const entries = after[0]! - before[0]! + (after[1]! - before[1]!);
    // 2 prepares, the settle and the other resolve per commit; the forgets of commit k ride on
    // the prepares of commit k + 1 (those of the last one may be flushed alone: 2 more).
    expect(entries).toBeGreaterThanOrEqual(40);
    expect(entries).toBeLessThanOrEqual(42);
  });

  it("a coordinator that vanishes once every part is prepared has committed: recovery finishes the commit", async () => {
    const [a, b] = apart();
    await abandonedPrepare([`${a}/k`, `${b}/k`], [], 200);
    await new Promise((r) => setTimeout(r, 250));
    // The read meets the intent past the deadline: probes find both parts prepared, so commit.
    const read = await call(`/v1/kv/${b}/k`);
    expect([read.status, await read.text()]).toEqual([200, '"never"']);
    const other = await call(`/v1/kv/${a}/k`);
    expect([other.status, await other.text()]).toEqual([200, '"never"']);
    expect((await put(`${a}/k`, "after")).status).toBe(200);
  });
});
