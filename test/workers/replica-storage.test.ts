// SqliteLogStorage against the core's LogStorage contract, on a real Durable Object's SQLite.
// Storage objects only work inside their object's context, so every test runs inside
// runInDurableObject (aroundEach) on a fresh object.
import { runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { aroundEach, describe, expect, it } from "vitest";
import { MemoryStorage } from "../../src/raft/memory-storage.ts";
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

  describeLogStorageContract(
    "SqliteLogStorage (Durable Object SQLite)",
    () => new SqliteLogStorage(currentState().storage.sql),
  );
  // A tail of two entries: reads cross from the in-memory tail to the table and back.
  describeLogStorageContract(
    "SqliteLogStorage with a 2-entry memory tail",
    () => new SqliteLogStorage(currentState().storage.sql, { entriesMax: 2, bytesMax: 64 }),
  );

  const bytes = (n: number, seed: number): Uint8Array =>
    Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

  it("survives a reload: a new instance over the same database sees the same log", () => {
    const sql = currentState().storage.sql;
    const s = new SqliteLogStorage(sql);
    s.append(
      [1, 2, 3].map((index): Entry => ({ index, term: 2, type: "normal", data: bytes(10, index) })),
    );
    s.setHardState({ term: 2, vote: "a", commit: 2 });
    s.compact({
      metadata: { index: 1, term: 2, conf: { voters: ["a"], learners: [] } },
      data: bytes(5, 9),
    });
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
    s.applySnapshot({
      metadata: { index: 5, term: 1, conf: { voters: ["a"], learners: [] } },
      data: big,
    });
    s.append([{ index: 6, term: 1, type: "normal", data: big }]);
    const again = new SqliteLogStorage(sql);
    expect(again.snapshot().data).toEqual(big);
    expect(again.entries(6, 7, Infinity)[0]!.data).toEqual(big);
    const rows = sql.exec<{ n: number }>("SELECT count(*) AS n FROM raft_snapshot_chunk").one().n;
    expect(rows).toBe(3);
    const largest = sql
      .exec<{ m: number }>("SELECT max(length(data)) AS m FROM raft_snapshot_chunk")
      .one().m;
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

  it("answers every entries() query like MemoryStorage, whether from its memory tail or the table", () => {
    type Op =
      | { type: "append"; back: number; count: number; bump: boolean; size: number }
      | { type: "compact"; back: number }
      | { type: "read"; from: number; length: number; bytesMax: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      {
        arbitrary: fc.record({
          type: fc.constant("append" as const),
          back: fc.nat(4),
          count: fc.integer({ min: 1, max: 5 }),
          bump: fc.boolean(),
          size: fc.integer({ min: 0, max: 40 }),
        }),
        weight: 4,
      },
      {
        arbitrary: fc.record({ type: fc.constant("compact" as const), back: fc.nat(8) }),
        weight: 1,
      },
      {
        arbitrary: fc.record({
          type: fc.constant("read" as const),
          from: fc.nat(12),
          length: fc.nat(12),
          bytesMax: fc.integer({ min: 1, max: 200 }),
        }),
        weight: 4,
      },
    );
    let run = 0;
    fc.assert(
      fc.property(
        fc.array(op, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 6 }),
        (ops, tailEntries) => {
          // A fresh table per run, in this test's object.
          const sql = currentState().storage.sql;
          new SqliteLogStorage(sql); // creates the tables on the first run
          sql.exec("DELETE FROM raft_entry");
          sql.exec("DELETE FROM raft_entry_part");
          sql.exec("DELETE FROM raft_snapshot_meta");
          sql.exec("DELETE FROM raft_snapshot_chunk");
          const real = new SqliteLogStorage(sql, { entriesMax: tailEntries, bytesMax: 60 });
          const model = new MemoryStorage();
          let term = 1;
          run++;
          for (const o of ops) {
            const first = model.firstIndex(),
              last = model.lastIndex();
            if (o.type === "append") {
              // Overwrite up to `back` entries (a conflicting suffix), never behind the snapshot.
              const at = Math.max(first, last + 1 - o.back);
              if (o.bump || at <= last) term++;
              const entries = Array.from(
                { length: o.count },
                (_, i): Entry => ({
                  index: at + i,
                  term,
                  type: "normal",
                  data: bytes(o.size, run + at + i),
                }),
              );
              model.append(entries.map((e) => ({ ...e })));
              real.append(entries);
            } else if (o.type === "compact") {
              const index = last - o.back;
              if (index < first) continue;
              const snap = {
                metadata: { index, term: model.term(index), conf: { voters: ["a"], learners: [] } },
                data: bytes(4, index),
              };
              model.compact(snap);
              real.compact(snap);
            } else {
              const lo = first + Math.min(o.from, last + 1 - first);
              const hi = Math.min(last + 1, lo + o.length);
              const got = real
                .entries(lo, hi, o.bytesMax)
                .map((e) => [e.index, e.term, [...e.data]]);
              expect(got).toEqual(
                model.entries(lo, hi, o.bytesMax).map((e) => [e.index, e.term, [...e.data]]),
              );
            }
            expect([real.firstIndex(), real.lastIndex()]).toEqual([
              model.firstIndex(),
              model.lastIndex(),
            ]);
          }
          // And a fresh instance (no tail at all) reads the same table.
          const all = (s: {
            entries: SqliteLogStorage["entries"];
            firstIndex(): number;
            lastIndex(): number;
          }) =>
            s
              .entries(s.firstIndex(), s.lastIndex() + 1, Infinity)
              .map((e) => [e.index, e.term, [...e.data]]);
          expect(all(new SqliteLogStorage(sql))).toEqual(all(model));
        },
      ),
      { numRuns: 60 },
    );
  });
});
