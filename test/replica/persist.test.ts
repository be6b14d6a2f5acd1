// Step 1 of every Ready (src/replica/persist.ts), in Node against a recording SQLite log: what
// reaches disk, in which transaction, before the Ready's messages may leave; and what happens
// when that transaction throws (rolled back: the log reloads from disk, the error goes on to
// the replica, which resets the object, and the hard state is written again next time).
import { describe, expect, it } from "vitest";
import type { Entry, HardState, Ready, Snapshot } from "../../src/raft/index.ts";
import { ReadyPersister } from "../../src/replica/persist.ts";
import type { SqliteLogStorage } from "../../src/replica/sqlite-storage.ts";
import { emptyStats } from "../../src/replica/stats.ts";

/** Calls on the log, each tagged with the transaction it ran in (0 = outside any). */
interface Recorded {
  calls: { tx: number; op: string; arg?: unknown }[];
  transactions: number;
}

function harness(initial: HardState = { term: 1, vote: "", commit: 0 }) {
  const rec: Recorded = { calls: [], transactions: 0 };
  let inTx = 0;
  let failNext: Error | undefined;
  const note = (op: string, arg?: unknown) => rec.calls.push({ tx: inTx, op, arg });
  const log = {
    initialState: () => ({ hardState: initial }),
    applySnapshot: (s: Snapshot) => note("applySnapshot", s.metadata.index),
    append: (es: Entry[]) =>
      note(
        "append",
        es.map((e) => e.index),
      ),
    setVotePromiseUntilMs: (ms: number) => note("votePromise", ms),
    setHardState: (h: HardState) => note("hardState", { ...h }),
    compact: (s: Snapshot) => note("compact", s.metadata.index),
    reload: () => note("reload"),
  } as unknown as SqliteLogStorage;
  const storage = {
    transactionSync<T>(fn: () => T): T {
      rec.transactions++;
      inTx = rec.transactions;
      try {
        const out = fn();
        if (failNext) {
          const error = failNext;
          failNext = undefined;
          throw error;
        }
        return out;
      } finally {
        inTx = 0;
      }
    },
  } as unknown as DurableObjectStorage;
  const stats = emptyStats();
  const persister = new ReadyPersister(storage, log, stats);
  return {
    rec,
    stats,
    persister,
    failNextTransaction: (e: Error) => (failNext = e),
    ops: () => rec.calls.map((c) => c.op),
  };
}

function ready(parts: Partial<Ready>): Ready {
  return {
    entries: [],
    committedEntries: [],
    messages: [],
    readStates: [],
    needsTicks: true,
    ...parts,
  };
}

const entry = (index: number, term = 1): Entry => ({
  term,
  index,
  type: "normal",
  data: new Uint8Array([index]),
});
const snapshot = (index: number): Snapshot => ({
  metadata: { index, term: 1, conf: { voters: ["n1", "n2", "n3"], learners: [] } },
  data: new Uint8Array(),
});

describe("what reaches disk before a Ready's messages leave", () => {
  it("a Ready with nothing durable writes nothing: no transaction at all", () => {
    const h = harness();
    h.persister.persist(ready({ hardState: { term: 1, vote: "", commit: 0 } }));
    h.persister.persist(ready({}));
    expect(h.rec.transactions).toBe(0);
    expect(h.stats.readies).toBe(0);
    expect(h.stats.storageTransactions).toBe(0);
  });

  it("entries and the hard state that came with them go to disk in one transaction", () => {
    const h = harness();
    h.persister.persist(
      ready({ hardState: { term: 1, vote: "", commit: 1 }, entries: [entry(1), entry(2)] }),
    );
    expect(h.rec.calls).toEqual([
      { tx: 1, op: "append", arg: [1, 2] },
      { tx: 1, op: "hardState", arg: { term: 1, vote: "", commit: 1 } },
    ]);
    expect(h.stats).toMatchObject({ readies: 1, storageTransactions: 1 });
  });

  it("a new term or a vote is written at once, even with no entries: a message relies on it", () => {
    const h = harness();
    h.persister.persist(ready({ hardState: { term: 2, vote: "", commit: 0 } }));
    expect(h.rec.calls).toEqual([
      { tx: 1, op: "hardState", arg: { term: 2, vote: "", commit: 0 } },
    ]);
    h.persister.persist(ready({ hardState: { term: 2, vote: "n3", commit: 0 } }));
    expect(h.rec.calls.at(-1)).toEqual({
      tx: 2,
      op: "hardState",
      arg: { term: 2, vote: "n3", commit: 0 },
    });
    expect(h.stats.readies).toBe(2);
  });

  it("a commit index alone is deferred, then rides along with the next write", () => {
    const h = harness({ term: 1, vote: "n1", commit: 0 });
    h.persister.persist(ready({ hardState: { term: 1, vote: "n1", commit: 5 } }));
    expect(h.rec.transactions).toBe(0);
    // The next Ready carries no hard state of its own: the deferred commit is still written.
    h.persister.persist(ready({ entries: [entry(6)] }));
    expect(h.rec.calls).toEqual([
      { tx: 1, op: "append", arg: [6] },
      { tx: 1, op: "hardState", arg: { term: 1, vote: "n1", commit: 5 } },
    ]);
  });

  it("a hard state already on disk is not written again", () => {
    const h = harness();
    h.persister.persist(
      ready({ hardState: { term: 1, vote: "", commit: 2 }, entries: [entry(1)] }),
    );
    h.persister.persist(ready({ entries: [entry(2)] }));
    expect(h.ops()).toEqual(["append", "hardState", "append"]);
  });

  it("a snapshot, entries after it and a vote promise share the hard state's transaction", () => {
    const h = harness();
    h.persister.persist(
      ready({
        hardState: { term: 3, vote: "n2", commit: 10 },
        snapshot: snapshot(10),
        entries: [entry(11, 3)],
        votePromiseUntilMs: 12_345,
      }),
    );
    expect(h.rec.calls).toEqual([
      { tx: 1, op: "applySnapshot", arg: 10 },
      { tx: 1, op: "append", arg: [11] },
      { tx: 1, op: "votePromise", arg: 12_345 },
      { tx: 1, op: "hardState", arg: { term: 3, vote: "n2", commit: 10 } },
    ]);
  });

  it("a vote promise alone is written (a lease relies on it across a restart)", () => {
    const h = harness();
    h.persister.persist(ready({ votePromiseUntilMs: 99 }));
    expect(h.rec.calls).toEqual([{ tx: 1, op: "votePromise", arg: 99 }]);
  });

  it("a snapshot alone is written", () => {
    const h = harness();
    h.persister.persist(ready({ snapshot: snapshot(4) }));
    expect(h.rec.calls).toEqual([{ tx: 1, op: "applySnapshot", arg: 4 }]);
  });

  it("the core's hard state is copied: changing the Ready's object later changes nothing", () => {
    const h = harness();
    const hs = { term: 1, vote: "", commit: 3 };
    h.persister.persist(ready({ hardState: hs }));
    hs.commit = 99;
    h.persister.persist(ready({ entries: [entry(4)] }));
    expect(h.rec.calls.at(-1)?.arg).toEqual({ term: 1, vote: "", commit: 3 });
  });

  it("a compaction writes the snapshot and any deferred hard state in one transaction", () => {
    const h = harness();
    h.persister.persist(ready({ hardState: { term: 1, vote: "", commit: 8 } }));
    h.persister.compact(snapshot(8));
    expect(h.rec.calls).toEqual([
      { tx: 1, op: "compact", arg: 8 },
      { tx: 1, op: "hardState", arg: { term: 1, vote: "", commit: 8 } },
    ]);
    expect(h.stats).toMatchObject({ snapshotsTaken: 1, storageTransactions: 1, readies: 0 });
  });
});

describe("when a Ready's transaction throws", () => {
  it("the log reloads from disk and the error reaches the caller (which resets the replica)", () => {
    const h = harness();
    const boom = new Error("SQLITE_FULL");
    h.failNextTransaction(boom);
    expect(() =>
      h.persister.persist(
        ready({ hardState: { term: 2, vote: "n1", commit: 0 }, entries: [entry(1)] }),
      ),
    ).toThrow(boom);
    expect(h.ops()).toEqual(["append", "hardState", "reload"]);
    expect(h.rec.calls.at(-1)?.tx).toBe(0); // after the rollback, outside the transaction
    expect(h.stats).toMatchObject({ readies: 0, storageTransactions: 0 });
  });

  it("the hard state of the rolled-back transaction is not taken as durable: it is written again", () => {
    const h = harness();
    h.failNextTransaction(new Error("disk I/O error"));
    expect(() =>
      h.persister.persist(ready({ hardState: { term: 2, vote: "n1", commit: 0 } })),
    ).toThrow();
    h.persister.persist(ready({ entries: [entry(1, 2)] }));
    expect(h.rec.calls.slice(-2)).toEqual([
      { tx: 2, op: "append", arg: [1] },
      { tx: 2, op: "hardState", arg: { term: 2, vote: "n1", commit: 0 } },
    ]);
  });

  it("a failed compaction reloads too, and counts no snapshot", () => {
    const h = harness();
    h.failNextTransaction(new Error("SQLITE_BUSY"));
    expect(() => h.persister.compact(snapshot(3))).toThrow("SQLITE_BUSY");
    expect(h.ops()).toEqual(["compact", "reload"]);
    expect(h.stats.snapshotsTaken).toBe(0);
  });
});
