// SqliteLogStorage against the core's LogStorage contract, on a real Durable Object's SQLite.
// Storage objects only work inside their object's context, so every test runs inside
// runInDurableObject (aroundEach) on a fresh object.
import { runInDurableObject } from "cloudflare:test";
import { aroundEach, describe, expect, it } from "vitest";
import { SqliteLogStorage, sqliteStorageLimits } from "../../src/replica/sqlite-storage.ts";
import type { Entry } from "../../src/raft/types.ts";
import { describeLogStorageContract } from "../raft/storage-contract.ts";
import { replicaEnv as env } from "./replica-harness.ts";

let state: DurableObjectState | null = null;
let objects = 0;

function currentState(): DurableObjectState {
  if (state === null) throw new Error("no Durable Object context: run inside aroundEach");
  return state;
}

describe("SqliteLogStorage", () => {
  aroundEach(async (runTest) => {
    const stub = env.REPLICA.get(env.REPLICA.idFromName(`storage-test-${Date.now()}-${objects++}`));
    await runInDurableObject(stub, async (_instance, s) => {
      state = s;
      try {
        await runTest();
      } finally {
        state = null;
      }
    });
  });

  describeLogStorageContract("SqliteLogStorage (Durable Object SQLite)", () => new SqliteLogStorage(currentState().storage.sql));

  const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

  it("survives a reload: a new instance over the same database sees the same log", () => {
    const sql = currentState().storage.sql;
    const s = new SqliteLogStorage(sql);
    s.append([1, 2, 3].map((index): Entry => ({ index, term: 2, type: "normal", data: bytes(10, index) })));
    s.setHardState({ term: 2, vote: "a", commit: 2 });
    s.compact({ metadata: { index: 1, term: 2, conf: { voters: ["a"], learners: [] } }, data: bytes(5, 9) });
    const again = new SqliteLogStorage(sql);
    expect(again.firstIndex()).toBe(2);
    expect(again.lastIndex()).toBe(3);
    expect(again.initialState().hardState).toEqual({ term: 2, vote: "a", commit: 2 });
    expect([...again.snapshot().data]).toEqual([...bytes(5, 9)]);
    expect([...again.entries(3, 4, Infinity)[0]!.data]).toEqual([...bytes(10, 3)]);
  });

  it("splits snapshots and oversized entries into rows of at most rowBytesMax", () => {
    const sql = currentState().storage.sql;
    const s = new SqliteLogStorage(sql);
    const big = bytes(sqliteStorageLimits.rowBytesMax * 2 + 123, 7);
    s.append([{ index: 1, term: 1, type: "normal", data: big }]);
    s.applySnapshot({ metadata: { index: 5, term: 1, conf: { voters: ["a"], learners: [] } }, data: big });
    s.append([{ index: 6, term: 1, type: "normal", data: big }]);
    const again = new SqliteLogStorage(sql);
    expect(again.snapshot().data).toEqual(big);
    expect(again.entries(6, 7, Infinity)[0]!.data).toEqual(big);
    const rows = sql.exec<{ n: number }>("SELECT count(*) AS n FROM raft_snapshot_chunk").one().n;
    expect(rows).toBe(3);
    const largest = sql.exec<{ m: number }>("SELECT max(length(data)) AS m FROM raft_snapshot_chunk").one().m;
    expect(largest).toBeLessThanOrEqual(sqliteStorageLimits.rowBytesMax);
  });

  it("a failed transaction rolls back, and reload() brings the caches back in step", () => {
    const st = currentState();
    const s = new SqliteLogStorage(st.storage.sql);
    s.append([{ index: 1, term: 1, type: "normal", data: bytes(3, 1) }]);
    expect(() =>
      st.storage.transactionSync(() => {
        s.append([{ index: 2, term: 1, type: "normal", data: bytes(3, 2) }]);
        throw new Error("crash inside the Ready");
      }),
    ).toThrow("crash inside the Ready");
    s.reload();
    expect(s.lastIndex()).toBe(1);
  });
});
