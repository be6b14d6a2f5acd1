// The contract every LogStorage implementation must pass (MemoryStorage here, SQLite on Durable
// Objects from a workerd test). Imports only vitest and src/raft, so it runs in either runtime.
import { describe, expect, it } from "vitest";
import { CompactedError, BeyondLastIndexError, type LogStorage } from "../../src/raft/storage.ts";
import type { Entry, Snapshot } from "../../src/raft/types.ts";

function entry(index: number, term: number, text = `e${index}`): Entry {
  return { index, term, type: "normal", data: new TextEncoder().encode(text) };
}

function range(lo: number, hi: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = lo; i <= hi; i++) out.push(entry(i, term));
  return out;
}

function snapshot(index: number, term: number, data = "state"): Snapshot {
  return {
    metadata: { index, term, conf: { voters: ["a", "b"], learners: ["c"] } },
    data: new TextEncoder().encode(data),
  };
}

const indexes = (es: Entry[]): number[] => es.map((e) => e.index);
const text = (e: Entry | undefined): string => new TextDecoder().decode(e?.data);

export function describeLogStorageContract(name: string, makeStorage: () => LogStorage): void {
  describe(`LogStorage contract: ${name}`, () => {
    it("starts empty: index 0, term 0, empty hard state and membership", () => {
      const s = makeStorage();
      expect(s.firstIndex()).toBe(1);
      expect(s.lastIndex()).toBe(0);
      expect(s.term(0)).toBe(0);
      expect(s.initialState().hardState).toEqual({ term: 0, vote: "", commit: 0 });
      expect(s.initialState().confState).toEqual({ voters: [], learners: [] });
      expect(s.snapshot().metadata.index).toBe(0);
      expect(s.entries(1, 1, 100)).toEqual([]);
    });

    it("appends and reads entries and terms", () => {
      const s = makeStorage();
      s.append(range(1, 5, 1));
      expect(s.lastIndex()).toBe(5);
      expect(indexes(s.entries(2, 5, Infinity))).toEqual([2, 3, 4]);
      expect(text(s.entries(3, 4, Infinity)[0])).toBe("e3");
      expect(s.term(5)).toBe(1);
    });

    it("append truncates a conflicting suffix", () => {
      const s = makeStorage();
      s.append(range(1, 5, 1));
      s.append([entry(3, 2, "new3"), entry(4, 2, "new4")]);
      expect(s.lastIndex()).toBe(4);
      expect(s.term(3)).toBe(2);
      expect(text(s.entries(3, 4, Infinity)[0])).toBe("new3");
      expect(s.term(2)).toBe(1);
      s.append([entry(5, 2)]);
      expect(s.lastIndex()).toBe(5);
    });

    it("rejects an append that would leave a gap", () => {
      const s = makeStorage();
      s.append(range(1, 2, 1));
      expect(() => s.append([entry(4, 1)])).toThrow();
    });

    it("limits entries by bytes but returns at least one", () => {
      const s = makeStorage();
      s.append(range(1, 5, 1)); // 2 bytes each
      expect(indexes(s.entries(1, 6, 0))).toEqual([1]);
      expect(indexes(s.entries(1, 6, 4))).toEqual([1, 2]);
      expect(indexes(s.entries(1, 6, 5))).toEqual([1, 2]);
      expect(indexes(s.entries(1, 6, 10))).toEqual([1, 2, 3, 4, 5]);
    });

    it("throws CompactedError and BeyondLastIndexError outside the log", () => {
      const s = makeStorage();
      s.append(range(1, 5, 1));
      s.compact(snapshot(3, 1));
      expect(() => s.term(2)).toThrow(CompactedError);
      expect(s.term(3)).toBe(1);
      expect(() => s.term(6)).toThrow(BeyondLastIndexError);
      expect(() => s.entries(3, 5, Infinity)).toThrow(CompactedError);
      expect(() => s.entries(4, 7, Infinity)).toThrow(BeyondLastIndexError);
    });

    it("persists the hard state", () => {
      const s = makeStorage();
      s.append(range(1, 3, 1));
      s.setHardState({ term: 4, vote: "b", commit: 2 });
      expect(s.initialState().hardState).toEqual({ term: 4, vote: "b", commit: 2 });
    });

    it("compact keeps later entries and records the snapshot", () => {
      const s = makeStorage();
      s.append(range(1, 6, 2));
      s.compact(snapshot(4, 2));
      expect(s.firstIndex()).toBe(5);
      expect(s.lastIndex()).toBe(6);
      expect(indexes(s.entries(5, 7, Infinity))).toEqual([5, 6]);
      expect(s.snapshot().metadata).toEqual({
        index: 4,
        term: 2,
        conf: { voters: ["a", "b"], learners: ["c"] },
      });
      expect(text({ ...entry(0, 0), data: s.snapshot().data })).toBe("state");
      expect(s.initialState().confState).toEqual({ voters: ["a", "b"], learners: ["c"] });
      s.append([entry(7, 3)]);
      expect(s.lastIndex()).toBe(7);
    });

    it("compact through the last index leaves an empty log after the snapshot", () => {
      const s = makeStorage();
      s.append(range(1, 3, 1));
      s.compact(snapshot(3, 1));
      expect(s.firstIndex()).toBe(4);
      expect(s.lastIndex()).toBe(3);
      expect(s.term(3)).toBe(1);
      expect(s.entries(4, 4, Infinity)).toEqual([]);
    });

    it("refuses to compact beyond the log or behind the current snapshot", () => {
      const s = makeStorage();
      s.append(range(1, 3, 1));
      expect(() => s.compact(snapshot(5, 1))).toThrow();
      s.compact(snapshot(2, 1));
      expect(() => s.compact(snapshot(1, 1))).toThrow();
    });

    it("applySnapshot replaces the whole log", () => {
      const s = makeStorage();
      s.append(range(1, 5, 1));
      s.applySnapshot(snapshot(10, 3, "remote"));
      expect(s.firstIndex()).toBe(11);
      expect(s.lastIndex()).toBe(10);
      expect(s.term(10)).toBe(3);
      expect(() => s.term(5)).toThrow(CompactedError);
      expect(text({ ...entry(0, 0), data: s.snapshot().data })).toBe("remote");
      s.append([entry(11, 3)]);
      expect(indexes(s.entries(11, 12, Infinity))).toEqual([11]);
    });

    it("applySnapshot on empty storage (bootstrap) sets the membership", () => {
      const s = makeStorage();
      s.applySnapshot(snapshot(1, 1, ""));
      s.setHardState({ term: 1, vote: "", commit: 1 });
      expect(s.initialState()).toEqual({
        hardState: { term: 1, vote: "", commit: 1 },
        confState: { voters: ["a", "b"], learners: ["c"] },
      });
      expect(s.firstIndex()).toBe(2);
      expect(s.lastIndex()).toBe(1);
    });

    it("returns copies: mutating a result does not change the log", () => {
      const s = makeStorage();
      s.append(range(1, 3, 1));
      const got = s.entries(1, 4, Infinity);
      got.pop();
      expect(s.entries(1, 4, Infinity)).toHaveLength(3);
    });

    it("keeps conf entries' type and bytes", () => {
      const s = makeStorage();
      const conf: Entry = { index: 1, term: 1, type: "conf", data: new Uint8Array([1, 2, 255]) };
      s.append([conf]);
      const [got] = s.entries(1, 2, Infinity);
      expect(got?.type).toBe("conf");
      expect([...(got?.data ?? [])]).toEqual([1, 2, 255]);
    });
  });
}
